package io.jvisor.engine;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Cpus;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.Pins;
import io.jvisor.bpf.UpdateFlag;
import io.jvisor.bpf.VerifierException;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.elf.ObjectMap;
import io.jvisor.bpf.elf.ObjectProgram;
import io.jvisor.bpf.link.BpfLink;
import io.jvisor.bpf.link.TcxDirection;
import io.jvisor.bpf.link.XdpMode;
import io.jvisor.bpf.ringbuf.RingBufReader;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.bpf.toolchain.CompileException;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The IO Visor engine: instances of module types, wired port to port and to devices, running in
 * the kernel.
 *
 * <p>Each instance is the module's compiled object loaded once, with its slot in the .rodata
 * constant {@code jv_slot}; the object is compiled once per distinct source, never per instance.
 * Instances reach each other by tail calls through the patch panel ({@code jv_patch_tc}); devices
 * enter an instance through a small entry program attached with tcx, and leave it by
 * {@code bpf_redirect}. Everything is pinned under {@code bpffs/jvisor/NAME}, and the desired state
 * is saved crash-safely, so a new engine process {@link #start adopts} the running objects without
 * disturbing traffic.
 *
 * <p>{@link #apply(Topology)} is all or nothing: it diffs the desired topology against the live
 * one, applies the {@link Plan}, and on any failure undoes every step, leaving the kernel as it was.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final String ENTRY_SOURCE = "entry.c";

    private final EngineOptions options;
    private final ModuleCatalog catalog;
    private final Path pinRoot;
    private final StateStore store;
    private final Clang clang;
    private final Map<String, BpfMap> shared = new LinkedHashMap<>();
    private final Map<String, CollectionSpec> compiled = new ConcurrentHashMap<>();
    private final CollectionSpec entrySpec;

    private final Map<String, LiveInstance> instances = new LinkedHashMap<>();
    private final Map<Integer, LiveInstance> bySlot = new ConcurrentHashMap<>();
    private final Map<Endpoint.Port, Endpoint> peers = new HashMap<>();
    private final Map<Endpoint.Device, LiveDevice> devices = new HashMap<>();
    private final BitSet slots = new BitSet(Sdk.MAX_SLOTS);
    /** Device indexes looked up by the last validation, so that an apply resolves each device once. */
    private final Map<Endpoint.Device, Integer> resolvedIfindex = new HashMap<>();
    private Topology current = Topology.EMPTY;
    private AttachMethod attachMethod;
    /** The XDP metadata channel (AUTO resolved) on the XDP hook; null on tc, where it does not apply. */
    private XdpMetadata xdpMetadata;

    private final RingBufReader slowPath;
    private final RingBufReader logs;
    private final Thread readerThread;
    private volatile boolean closed;

    private Engine(EngineOptions options, ModuleCatalog catalog) {
        this.options = options;
        this.catalog = catalog;
        this.pinRoot = options.pinRoot();
        this.store = new StateStore(options.stateDir());
        try {
            this.clang = Clang.find();
        } catch (io.jvisor.bpf.toolchain.ClangNotFoundException e) {
            throw new TopologyException("engine '" + options.name() + "'", e.getMessage(), e);
        }
        this.xdpMetadata = resolveXdpMetadata(options);
        this.entrySpec = compile(ModuleCode.resource(Engine.class, ENTRY_SOURCE), "the engine's entry program");
        try {
            openShared();
            Files.createDirectories(pinRoot.resolve("inst"));
            Files.createDirectories(pinRoot.resolve("dev"));
            attachMethod = resolveAttach(options);
            adopt();
            this.slowPath = RingBufReader.open(shared.get("jv_slowpath"));
            this.logs = RingBufReader.open(shared.get("jv_logs"));
        } catch (IOException e) {
            closeJavaSide();
            throw new UncheckedIOException("cannot prepare " + pinRoot, e);
        } catch (RuntimeException e) {
            closeJavaSide();
            throw e;
        }
        // adopted instances' control planes start first: the reader hands them packets at once
        for (LiveInstance li : instances.values()) {
            startHandler(li);
        }
        this.readerThread = Thread.ofPlatform().name("jvisor-" + options.name() + "-slowpath").daemon()
                .start(this::readLoop);
    }

    /**
     * Starts an engine. When kernel objects and a saved state of an engine of the same name exist
     * (a previous process was killed or stopped), they are adopted as they are: nothing is detached
     * or reloaded, and forwarding never stops.
     */
    public static Engine start(EngineOptions options, ModuleCatalog catalog) {
        return new Engine(options, catalog);
    }

    /** Starts an engine with the class path's module types. */
    public static Engine start(EngineOptions options) {
        return start(options, ModuleCatalog.discover());
    }

    /** The engine's options. */
    public EngineOptions options() {
        return options;
    }

    /** The module types this engine knows. */
    public ModuleCatalog catalog() {
        return catalog;
    }

    /** The topology applied last. */
    public synchronized Topology topology() {
        return current;
    }

    /** AUTO becomes LINK when the kernel has the link type for the hook (tcx: 6.6+), else NETLINK. */
    private static AttachMethod resolveAttach(EngineOptions options) {
        if (options.attach() != AttachMethod.AUTO) {
            return options.attach();
        }
        var probes = io.jvisor.bpf.features.Features.probeLinkAttachTypes();
        var type = options.hook() == Hook.TC ? io.jvisor.bpf.AttachType.TCX_INGRESS : io.jvisor.bpf.AttachType.XDP;
        return probes.get(type).supported() ? AttachMethod.LINK : AttachMethod.NETLINK;
    }

    /**
     * On the XDP hook, AUTO becomes METADATA_AREA when the kernel lets XDP programs call
     * bpf_xdp_adjust_meta, else PER_CPU_SCRATCH; a forced METADATA_AREA the kernel refuses is an error
     * naming the helper. On tc: null.
     */
    private static XdpMetadata resolveXdpMetadata(EngineOptions options) {
        if (options.hook() != Hook.XDP) {
            return null;
        }
        if (options.xdpMetadata() == XdpMetadata.PER_CPU_SCRATCH) {
            return XdpMetadata.PER_CPU_SCRATCH;
        }
        io.jvisor.bpf.features.Support meta = io.jvisor.bpf.features.Features.xdpMetadata();
        if (meta.supported()) {
            return XdpMetadata.METADATA_AREA;
        }
        if (options.xdpMetadata() == XdpMetadata.METADATA_AREA) {
            throw new TopologyException("engine '" + options.name() + "'", "the XDP metadata channel "
                    + XdpMetadata.METADATA_AREA + " needs the helper bpf_xdp_adjust_meta, which this kernel refuses "
                    + "to XDP programs (" + meta.detail() + "); use " + XdpMetadata.PER_CPU_SCRATCH + " or "
                    + XdpMetadata.AUTO);
        }
        LOG.info("engine '{}': this kernel refuses bpf_xdp_adjust_meta to XDP programs ({}); XDP metadata "
                + "travels in a per-CPU scratch slot", options.name(), meta.detail());
        return XdpMetadata.PER_CPU_SCRATCH;
    }

    /**
     * How this engine carries packet metadata between chained XDP programs (AUTO resolved), or empty
     * on the tc hook.
     */
    public java.util.Optional<XdpMetadata> xdpMetadata() {
        return java.util.Optional.ofNullable(xdpMetadata);
    }

    /** How this engine attaches devices (AUTO resolved). */
    public AttachMethod attachMethod() {
        return attachMethod;
    }

    // ---- shared framework maps -----------------------------------------------------------------

    private void openShared() throws IOException {
        Path dir = pinRoot.resolve("maps");
        Files.createDirectories(dir);
        for (String name : Sdk.SHARED_MAPS) {
            Path pin = dir.resolve(name);
            BpfMap m;
            if (Files.exists(pin)) {
                m = BpfMap.openPinned(pin);
            } else {
                ObjectMap om = entrySpec.map(name).orElseThrow(() -> new IllegalStateException(
                        "the entry program does not define the shared map " + name));
                m = BpfMap.create(om.spec());
                try {
                    m.pin(pin);
                } catch (RuntimeException e) {
                    m.close();
                    throw e;
                }
            }
            shared.put(name, m);
        }
    }

    private CollectionOptions loadOptions(Map<String, BpfMap> extra) {
        CollectionOptions o = CollectionOptions.DEFAULT;
        for (var e : shared.entrySet()) {
            o = o.withReplacement(e.getKey(), e.getValue());
        }
        for (var e : extra.entrySet()) {
            o = o.withReplacement(e.getKey(), e.getValue());
        }
        return o;
    }

    private String hookProgram(String prefix) {
        return prefix + (options.hook() == Hook.TC ? "_tc" : "_xdp");
    }

    // ---- compilation -----------------------------------------------------------------------------

    private CollectionSpec compile(ModuleCode code, String what) {
        return compiled.computeIfAbsent(code.hash(), h -> {
            try {
                Clang.Result r = clang.compileString(code.source(), code.fileName(), List.of());
                return ObjectFile.read(r.object());
            } catch (CompileException e) {
                throw new TopologyException(what, "does not compile: " + e.getMessage(), e);
            } catch (io.jvisor.bpf.elf.ObjectFileException e) {
                throw new TopologyException(what, "its object cannot be read: " + e.getMessage(), e);
            }
        });
    }

    /**
     * The spec with the instance's own maps resized ({@link ModuleType#mapSizes}).
     *
     * @throws TopologyException naming the map when the module has no such map of its own, or the
     *     size is not positive
     */
    private static CollectionSpec sized(CollectionSpec spec, Map<String, Integer> sizes, String element) {
        for (var e : sizes.entrySet()) {
            String name = e.getKey();
            ObjectMap om = spec.map(name).orElse(null);
            if (om == null || om.kind().isGlobalData() || Sdk.SHARED_MAPS.contains(name)) {
                throw new TopologyException(element, "its type sizes a map '" + name + "', but the module has no map "
                        + "of its own by that name (its maps: " + spec.maps().stream().map(ObjectMap::name)
                        .filter(n -> !n.startsWith(".") && !Sdk.SHARED_MAPS.contains(n)).toList() + ")");
            }
            if (e.getValue() == null || e.getValue() < 1) {
                throw new TopologyException(element, "map '" + name + "': size " + e.getValue()
                        + " is not a positive number of entries");
            }
            if (om.spec().maxEntries() != e.getValue()) {
                spec = spec.withMap(om.withSpec(om.spec().withMaxEntries(e.getValue())));
            }
        }
        return spec;
    }

    /** On the XDP hook, the spec with the engine's metadata channel in jv_xdp_md_channel. */
    private CollectionSpec withChannel(CollectionSpec spec) {
        return xdpMetadata == null ? spec : spec.withConstant(Sdk.XDP_MD_CHANNEL_CONSTANT, xdpMetadata.sdkValue());
    }

    /** The spec with only the hook's program, so that the other hook's program is never verified. */
    private CollectionSpec forHook(CollectionSpec spec, String program) {
        List<ObjectProgram> progs = spec.programs().stream().filter(p -> p.name().equals(program)).toList();
        if (progs.isEmpty()) {
            throw new IllegalStateException(spec.name() + " has no program " + program);
        }
        return new CollectionSpec(spec.name(), progs, spec.maps(), spec.btf(), spec.license());
    }

    // ---- planning --------------------------------------------------------------------------------

    /**
     * What {@link #apply} would do, without doing it.
     *
     * @throws TopologyException naming the element at fault when the topology is invalid
     */
    public synchronized Plan plan(Topology desired) {
        Resolved r = validate(desired);
        List<Plan.Change> creates = new ArrayList<>();
        List<Plan.Change> swaps = new ArrayList<>();
        List<Plan.Change> reconfigs = new ArrayList<>();
        List<Plan.Change> deletes = new ArrayList<>();
        Set<String> fresh = new HashSet<>();
        for (Topology.Instance i : desired.instances()) {
            LiveInstance li = instances.get(i.name());
            ModuleType type = catalog.get(i.type());
            if (li == null) {
                creates.add(new Plan.CreateInstance(i.name(), i.type(), type.code().hash()));
                fresh.add(i.name());
            } else {
                if (!li.type.equals(i.type()) || !li.code.hash().equals(type.code().hash())) {
                    swaps.add(new Plan.SwapInstance(i.name(), i.type(), li.code.hash(), type.code().hash()));
                }
                if (!li.config.equals(i.config())) {
                    reconfigs.add(new Plan.Reconfigure(i.name()));
                }
            }
        }
        for (String name : instances.keySet()) {
            if (desired.instance(name) == null) {
                deletes.add(new Plan.DeleteInstance(name));
            }
        }
        List<Plan.Change> setsFresh = new ArrayList<>();
        List<Plan.Change> sets = new ArrayList<>();
        List<Plan.Change> clears = new ArrayList<>();
        for (var e : r.peers.entrySet()) {
            Endpoint old = peers.get(e.getKey());
            if (!e.getValue().equals(old)) {
                Plan.SetPeer s = new Plan.SetPeer(e.getKey(), e.getValue(), old);
                (fresh.contains(e.getKey().instance()) ? setsFresh : sets).add(s);
            }
        }
        for (var e : peers.entrySet()) {
            if (!r.peers.containsKey(e.getKey())) {
                clears.add(new Plan.ClearPeer(e.getKey(), e.getValue()));
            }
        }
        List<Plan.Change> attaches = new ArrayList<>();
        List<Plan.Change> detaches = new ArrayList<>();
        for (var e : r.devices.entrySet()) {
            LiveDevice ld = devices.get(e.getKey());
            Endpoint.Port old = ld == null ? null : ld.target;
            if (!e.getValue().equals(old)) {
                attaches.add(new Plan.AttachDevice(e.getKey(), e.getValue(), old));
            }
        }
        for (var e : devices.entrySet()) {
            if (!r.devices.containsKey(e.getKey())) {
                detaches.add(new Plan.DetachDevice(e.getKey(), e.getValue().target));
            }
        }
        List<Plan.Change> all = new ArrayList<>();
        all.addAll(creates);
        all.addAll(swaps);
        all.addAll(reconfigs);
        all.addAll(setsFresh); // new instances are wired before anything leads into them
        all.addAll(sets);
        all.addAll(attaches);
        all.addAll(detaches);
        all.addAll(clears);
        all.addAll(deletes);
        return new Plan(all);
    }

    private record Resolved(Map<Endpoint.Port, Endpoint> peers, Map<Endpoint.Device, Endpoint.Port> devices) {}

    private Resolved validate(Topology t) {
        resolvedIfindex.clear();
        Map<String, Topology.Instance> byName = new LinkedHashMap<>();
        for (Topology.Instance i : t.instances()) {
            String el = "instance '" + i.name() + "'";
            if (i.name() == null || !i.name().matches("[A-Za-z0-9_-]{1,32}")) {
                throw new TopologyException(el, "the name must be 1-32 of [A-Za-z0-9_-]");
            }
            if (byName.put(i.name(), i) != null) {
                throw new TopologyException(el, "defined twice");
            }
            ModuleType type = catalog.get(i.type());
            if (type == null) {
                throw new TopologyException(el, "unknown module type '" + i.type() + "' (known: "
                        + catalog.all().keySet() + ")");
            }
            String bad = type.validateConfig(i.config());
            if (bad != null) {
                throw new TopologyException(el + " config", bad);
            }
            Map<String, Integer> sizes;
            try {
                sizes = type.mapSizes(i.config());
            } catch (RuntimeException e) {
                throw new TopologyException(el + " config", "its map sizes: " + e.getMessage(), e);
            }
            if (!sizes.isEmpty()) {
                sized(compile(type.code(), el), sizes, el); // refuses a size of a map the module lacks
            }
        }
        long newOnes = t.instances().stream().filter(i -> !instances.containsKey(i.name())).count();
        long freed = instances.keySet().stream().filter(n -> !byName.containsKey(n)).count();
        if (slots.cardinality() - freed + newOnes > Sdk.MAX_SLOTS) {
            throw new TopologyException("topology", "more than " + Sdk.MAX_SLOTS + " instances");
        }
        Map<Endpoint.Port, Endpoint> peerMap = new LinkedHashMap<>();
        Map<Endpoint.Device, Endpoint.Port> deviceMap = new LinkedHashMap<>();
        Set<Endpoint> used = new HashSet<>();
        Map<String, Set<String>> graph = new HashMap<>();
        for (Topology.Connection c : t.connections()) {
            String el = "connection " + c;
            for (Endpoint e : List.of(c.a(), c.b())) {
                if (e instanceof Endpoint.Port p) {
                    Topology.Instance inst = byName.get(p.instance());
                    if (inst == null) {
                        throw new TopologyException(el, "no instance named '" + p.instance() + "'");
                    }
                    int ports = catalog.get(inst.type()).ports();
                    if (p.port() >= ports) {
                        throw new TopologyException(el, p.instance() + " (" + inst.type() + ") has ports 0.."
                                + (ports - 1) + ", not " + p.port());
                    }
                }
                if (!used.add(e)) {
                    throw new TopologyException(el, e + " is connected twice");
                }
            }
            if (c.b() instanceof Endpoint.Port p) {
                if (p.equals(c.a())) {
                    throw new TopologyException(el, "a port cannot be connected to itself");
                }
                peerMap.put(c.a(), p);
                peerMap.put(p, c.a());
                // A second wire between the same two instances closes a loop of two.
                if (!graph.computeIfAbsent(c.a().instance(), k -> new HashSet<>()).add(p.instance())) {
                    throw new TopologyException("path " + c.a().instance() + " -> " + p.instance() + " -> "
                            + c.a().instance(), "two connections join these instances, so they form a loop; a packet "
                            + "could circle until the tail-call limit drops it");
                }
                graph.computeIfAbsent(p.instance(), k -> new HashSet<>()).add(c.a().instance());
            } else {
                Endpoint.Device d = (Endpoint.Device) c.b();
                peerMap.put(c.a(), d);
                deviceMap.put(d, c.a());
            }
        }
        for (Endpoint.Device d : deviceMap.keySet()) {
            LiveDevice ld = devices.get(d);
            if (ld == null) {
                // looked up once per plan; setPeer and attach use this answer
                resolvedIfindex.put(d, resolveIfindex(d, "connection " + deviceMap.get(d) + " -- " + d));
            }
        }
        checkPaths(graph);
        return new Resolved(peerMap, deviceMap);
    }

    /** Refuses instance paths longer than the kernel's tail-call limit, and loops. */
    private static void checkPaths(Map<String, Set<String>> graph) {
        // A packet entering from a device takes one tail call into the first instance and one per hop.
        for (String start : graph.keySet()) {
            Deque<String> path = new ArrayDeque<>();
            longest(graph, start, null, path, new HashSet<>());
        }
    }

    private static void longest(Map<String, Set<String>> g, String node, String from, Deque<String> path,
                                Set<String> onPath) {
        path.addLast(node);
        onPath.add(node);
        if (path.size() > Sdk.MAX_TAIL_CALLS) {
            throw new TopologyException("path " + String.join(" -> ", path), "it chains " + path.size()
                    + " instances, more than the kernel's limit of " + Sdk.MAX_TAIL_CALLS + " tail calls");
        }
        for (String next : g.getOrDefault(node, Set.of())) {
            if (next.equals(from)) {
                continue;
            }
            if (onPath.contains(next)) {
                throw new TopologyException("path " + String.join(" -> ", path) + " -> " + next,
                        "the instances form a loop; a packet could circle until the tail-call limit drops it");
            }
            longest(g, next, node, path, onPath);
        }
        onPath.remove(node);
        path.removeLast();
    }

    private int resolveIfindex(Endpoint.Device d, String element) {
        try {
            if (d.netns() == null) {
                try (Rtnl rtnl = Rtnl.open()) {
                    return rtnl.ifindex(d.name());
                }
            }
            if (!Netns.exists(d.netns())) {
                throw new TopologyException(element, "there is no network namespace '" + d.netns() + "'");
            }
            try (Netns ns = Netns.open(d.netns()); Rtnl rtnl = Rtnl.open(ns)) {
                return rtnl.ifindex(d.name());
            }
        } catch (TopologyException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new TopologyException(element, "no device '" + d.name() + "'"
                    + (d.netns() == null ? "" : " in namespace '" + d.netns() + "'") + ": " + e.getMessage(), e);
        }
    }

    // ---- applying ------------------------------------------------------------------------------

    /** Undo and commit actions of one apply. */
    private static final class Transaction {
        private final Deque<Runnable> undo = new ArrayDeque<>();
        private final List<Runnable> commit = new ArrayList<>();

        void onUndo(Runnable r) {
            undo.push(r);
        }

        void onCommit(Runnable r) {
            commit.add(r);
        }

        void rollback() {
            while (!undo.isEmpty()) {
                try {
                    undo.pop().run();
                } catch (RuntimeException e) {
                    LOG.error("rollback step failed; the kernel may differ from the saved state", e);
                }
            }
        }

        void commit() {
            for (Runnable r : commit) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.warn("clean-up after apply failed", e);
                }
            }
        }
    }

    /**
     * Makes the kernel match {@code desired}: all of it, or none of it.
     *
     * @return the plan that was applied
     * @throws TopologyException naming the element at fault; the kernel and the saved state are
     *     then exactly as before
     */
    public synchronized Plan apply(Topology desired) {
        checkOpen();
        Plan plan = plan(desired);
        if (plan.isEmpty()) {
            return plan;
        }
        Transaction tx = new Transaction();
        List<LiveInstance> started = new ArrayList<>();
        try {
            for (Plan.Change c : plan.changes()) {
                execute(c, desired, tx, started);
            }
            Topology before = current;
            current = desired;
            tx.onUndo(() -> current = before);
            saveState();
        } catch (RuntimeException e) {
            tx.rollback();
            if (e instanceof TopologyException te) {
                throw te;
            }
            throw new TopologyException("apply", e.getMessage(), e);
        }
        tx.commit();
        for (LiveInstance li : started) {
            startHandler(li);
        }
        LOG.info("applied:\n{}", plan);
        return plan;
    }

    private void execute(Plan.Change change, Topology desired, Transaction tx, List<LiveInstance> started) {
        switch (change) {
            case Plan.CreateInstance c -> started.add(create(desired.instance(c.name()), tx));
            case Plan.SwapInstance s -> swap(instances.get(s.name()), catalog.get(s.type()), s.type(),
                    catalog.get(s.type()).mapSizes(desired.instance(s.name()).config()), tx);
            case Plan.Reconfigure r -> reconfigure(instances.get(r.name()), desired.instance(r.name()), tx);
            case Plan.SetPeer s -> setPeer(s.port(), s.peer(), tx);
            case Plan.ClearPeer c -> clearPeer(c.port(), tx);
            case Plan.AttachDevice a -> attach(a.device(), a.port(), tx);
            case Plan.DetachDevice d -> detach(d.device(), tx);
            case Plan.DeleteInstance d -> delete(instances.get(d.name()), tx);
        }
    }

    private LiveInstance create(Topology.Instance spec, Transaction tx) {
        String el = "instance '" + spec.name() + "'";
        ModuleType type = catalog.get(spec.type());
        int slot = slots.nextClearBit(0);
        slots.set(slot);
        tx.onUndo(() -> slots.clear(slot));
        Loaded loaded = load(type.code(), type.mapSizes(spec.config()), slot, Map.of(), el);
        LiveInstance li = new LiveInstance(this, spec.name(), spec.type(), type.code(), slot, spec.config(), loaded.maps,
                loaded.program, type.handler(spec.config()));
        tx.onUndo(li::closeFds);
        resetCounters(slot);
        Path dir = pinRoot.resolve("inst").resolve(spec.name());
        pinInstance(li, dir);
        tx.onUndo(() -> deleteTree(dir));
        patch().setProgram(slot, li.program);
        tx.onUndo(() -> patch().delete(BpfMapKeys.u32(slot)));
        instances.put(li.name, li);
        bySlot.put(slot, li);
        tx.onUndo(() -> {
            instances.remove(li.name);
            bySlot.remove(slot);
        });
        return li;
    }

    private record Loaded(BpfProgram program, Map<String, BpfMap> maps) {}

    /** Loads code into slot: the hook's program and the module's own maps, with fds of our own. */
    private Loaded load(ModuleCode code, Map<String, Integer> sizes, int slot, Map<String, BpfMap> keep,
                        String element) {
        CollectionSpec spec = withChannel(forHook(sized(compile(code, element), sizes, element), hookProgram("jv"))
                .withConstant(Sdk.SLOT_CONSTANT, slot));
        try (Collection c = Collection.load(spec, loadOptions(keep))) {
            BpfProgram program = c.program(hookProgram("jv")).duplicate();
            Map<String, BpfMap> maps = new LinkedHashMap<>();
            try {
                for (var e : c.maps().entrySet()) {
                    if (!Sdk.SHARED_MAPS.contains(e.getKey()) && !e.getKey().startsWith(".")) {
                        maps.put(e.getKey(), keep.containsKey(e.getKey()) ? keep.get(e.getKey())
                                : e.getValue().duplicate());
                    }
                }
            } catch (RuntimeException ex) {
                program.close();
                maps.values().forEach(m -> {
                    if (!keep.containsValue(m)) {
                        m.close();
                    }
                });
                throw ex;
            }
            return new Loaded(program, maps);
        } catch (VerifierException e) {
            throw new TopologyException(element, "the verifier refused its code: " + e.getMessage(), e);
        } catch (BpfException e) {
            throw new TopologyException(element, "cannot load its code: " + e.getMessage(), e);
        }
    }

    private void pinInstance(LiveInstance li, Path dir) {
        try {
            deleteTree(dir);
            Files.createDirectories(dir);
        } catch (RuntimeException | IOException e) {
            throw new TopologyException("instance '" + li.name + "'", "cannot pin under " + dir + ": " + e.getMessage());
        }
        li.program.pin(dir.resolve("prog"));
        for (var e : li.maps.entrySet()) {
            e.getValue().pin(dir.resolve("map_" + e.getKey().replace('.', '_')));
        }
    }

    private void swap(LiveInstance li, ModuleType type, String typeName, Map<String, Integer> sizes,
                      Transaction tx) {
        reload(li, type.code(), typeName, sizes, tx);
    }

    /**
     * Loads code into an instance's slot, keeping its maps that the new code has with the same name
     * and shape (sizes applied), and switches the slot to it atomically.
     */
    private void reload(LiveInstance li, ModuleCode newCode, String typeName, Map<String, Integer> sizes,
                        Transaction tx) {
        String el = "instance '" + li.name + "'";
        CollectionSpec newSpec = sized(compile(newCode, el), sizes, el);
        // Keep every map whose name and shape the new code shares; the rest are new.
        Map<String, BpfMap> keep = new LinkedHashMap<>();
        for (var e : li.maps.entrySet()) {
            newSpec.map(e.getKey()).ifPresent(om -> {
                MapSpec s = om.spec();
                BpfMap m = e.getValue();
                if (s.type() == m.type() && s.keySize() == m.keySize() && s.valueSize() == m.valueSize()
                        && s.maxEntries() == m.maxEntries()) {
                    keep.put(e.getKey(), m);
                }
            });
        }
        Loaded loaded = load(newCode, sizes, li.slot, keep, el);
        BpfProgram oldProgram = li.program;
        Map<String, BpfMap> oldMaps = li.maps;
        ModuleCode oldCode = li.code;
        String oldType = li.type;
        li.program = loaded.program;
        li.maps = loaded.maps;
        li.code = newCode;
        li.type = typeName;
        tx.onUndo(() -> {
            li.program.close();
            li.maps.values().stream().filter(m -> !oldMaps.containsValue(m)).forEach(BpfMap::close);
            li.program = oldProgram;
            li.maps = oldMaps;
            li.code = oldCode;
            li.type = oldType;
        });
        li.handler.migrate(li, oldCode.hash(), newCode.hash());
        // The one atomic step: the slot now runs the new code; packets in flight finish on the old.
        patch().setProgram(li.slot, li.program);
        tx.onUndo(() -> patch().setProgram(li.slot, oldProgram));
        Path dir = pinRoot.resolve("inst").resolve(li.name);
        tx.onCommit(() -> {
            pinInstance(li, dir);
            oldProgram.close();
            oldMaps.values().stream().filter(m -> !li.maps.containsValue(m)).forEach(BpfMap::close);
        });
    }

    /**
     * Replaces an instance's code while traffic flows: the module type's code changes, and the
     * instance's slot switches to the new program in one atomic update. Maps of the same name and
     * shape are kept.
     */
    public synchronized Plan swap(String instance, ModuleCode newCode) {
        LiveInstance li = instances.get(instance);
        if (li == null) {
            throw new TopologyException("instance '" + instance + "'", "no such instance");
        }
        ModuleType old = catalog.get(li.type);
        ModuleType replacement = new ModuleType.SourceModule(li.type, newCode, old.ports());
        if (!(old instanceof ModuleType.SourceModule)) {
            throw new TopologyException("instance '" + instance + "'", "its type '" + li.type
                    + "' comes from the class path; swap it by upgrading the module jar");
        }
        catalog.register(replacement);
        try {
            return apply(current);
        } catch (RuntimeException e) {
            catalog.register(old);
            throw e;
        }
    }

    private void reconfigure(LiveInstance li, Topology.Instance spec, Transaction tx) {
        Map<String, String> old = li.config;
        ModuleHandler oldHandler = li.handler;
        ModuleType type = catalog.get(spec.type());
        li.config = spec.config();
        li.handler = type.handler(spec.config());
        tx.onUndo(() -> {
            li.config = old;
            li.handler = oldHandler;
        });
        // A map cannot be resized in place: a changed size reloads the code with a new map of that size.
        Map<String, Integer> sizes = type.mapSizes(spec.config());
        String el = "instance '" + li.name + "'";
        CollectionSpec want = sized(compile(li.code, el), sizes, el);
        // Only maps the type sizes, now or in the old configuration: the kernel adjusts the size of some
        // map types by itself (perf event arrays, per-CPU LRU), and those must not cause a reload.
        Set<String> named = new HashSet<>(sizes.keySet());
        try {
            named.addAll(type.mapSizes(old).keySet());
        } catch (RuntimeException e) {
            // the old configuration was another type's: only the new sizes count
        }
        boolean resized = li.maps.entrySet().stream().anyMatch(e -> named.contains(e.getKey()) && want.map(e.getKey())
                .map(om -> om.spec().maxEntries() != e.getValue().maxEntries()).orElse(false));
        if (resized) {
            reload(li, li.code, li.type, sizes, tx);
        }
        tx.onCommit(() -> {
            oldHandler.onStop(li);
            startHandler(li);
        });
    }

    private void setPeer(Endpoint.Port port, Endpoint peer, Transaction tx) {
        LiveInstance li = instances.get(port.instance());
        int key = li.slot * Sdk.MAX_PORTS + port.port();
        byte[] old = ports().lookup(BpfMapKeys.u32(key)).orElseThrow();
        byte[] value = switch (peer) {
            case Endpoint.Port p -> peerValue(Sdk.PEER_INSTANCE, instances.get(p.instance()).slot, p.port());
            case Endpoint.Device d -> deviceValue(d, deviceIfindex(d));
        };
        ports().update(BpfMapKeys.u32(key), value);
        tx.onUndo(() -> ports().update(BpfMapKeys.u32(key), old));
        setFloodDevice(li, port.port(), peer instanceof Endpoint.Device d ? d : null,
                peers.get(port) instanceof Endpoint.Device d ? d : null, tx);
        Endpoint before = peers.put(port, peer);
        tx.onUndo(() -> {
            if (before == null) {
                peers.remove(port);
            } else {
                peers.put(port, before);
            }
        });
    }

    private int deviceIfindex(Endpoint.Device d) {
        LiveDevice ld = devices.get(d);
        if (ld != null) {
            return ld.ifindex;
        }
        Integer known = resolvedIfindex.get(d);
        return known != null ? known : resolveIfindex(d, "device " + d);
    }

    private void clearPeer(Endpoint.Port port, Transaction tx) {
        LiveInstance li = instances.get(port.instance());
        Endpoint before = peers.remove(port);
        tx.onUndo(() -> peers.put(port, before));
        if (li == null) {
            return;
        }
        int key = li.slot * Sdk.MAX_PORTS + port.port();
        byte[] old = ports().lookup(BpfMapKeys.u32(key)).orElseThrow();
        ports().update(BpfMapKeys.u32(key), new byte[16]);
        tx.onUndo(() -> ports().update(BpfMapKeys.u32(key), old));
        setFloodDevice(li, port.port(), null, before instanceof Endpoint.Device d ? d : null, tx);
    }

    /**
     * XDP floods with one devmap broadcast over the instance's device ports (jv_flood_devs, keyed by
     * port); tc floods from jv_ports and needs nothing here.
     */
    private void setFloodDevice(LiveInstance li, int port, Endpoint.Device device, Endpoint.Device previous,
            Transaction tx) {
        BpfMap flood = li.maps.get("jv_flood_devs");
        if (options.hook() != Hook.XDP || flood == null) {
            return;
        }
        writeFloodDevice(flood, port, device);
        tx.onUndo(() -> writeFloodDevice(flood, port, previous));
    }

    private void writeFloodDevice(BpfMap flood, int port, Endpoint.Device device) {
        byte[] key = BpfMapKeys.u32(port);
        if (device == null) {
            flood.delete(key);
        } else if (device.netns() == null) {
            flood.update(key, BpfMapKeys.u32(deviceIfindex(device)));
        } else {
            // a devmap resolves the ifindex in the namespace of the thread that writes it
            byte[] value = BpfMapKeys.u32(deviceIfindex(device));
            try (Netns ns = Netns.open(device.netns())) {
                ns.run(() -> flood.update(key, value));
            }
        }
    }

    /**
     * The jv_ports value of a port connected to device d: its ifindex and, when the engine allows peer
     * redirects on the tc hook and d is a veth whose other end is in another namespace, the flag and
     * that end's MAC (module.h jv_tc_redirect). Anything else keeps plain redirects.
     */
    private byte[] deviceValue(Endpoint.Device d, int ifindex) {
        byte[] peerMac = options.peerRedirect() && options.hook() == Hook.TC ? peerRedirectMac(d, ifindex) : null;
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(Sdk.PEER_DEVICE).putInt(ifindex);
        if (peerMac == null) {
            return b.putInt(0).putInt(0).array();
        }
        return b.put(peerMac).putShort((short) Sdk.DEV_F_PEER_REDIRECT).array();
    }

    /** The MAC of the other end of veth d when that end is in another namespace, else null. */
    private static byte[] peerRedirectMac(Endpoint.Device d, int ifindex) {
        try {
            return DeviceAttachment.withRtnl(d, r -> {
                io.jvisor.net.Link l = r.link(ifindex);
                if (!"veth".equals(l.kind()) || l.linkNetnsId().isEmpty() || l.linkIfindex().isEmpty()) {
                    return null;
                }
                return r.link(l.linkIfindex().getAsInt(), l.linkNetnsId().getAsInt()).mac()
                        .map(m -> m.bytes()).orElse(null);
            });
        } catch (RuntimeException e) {
            LOG.warn("device {}: cannot tell whether its veth peer can take peer redirects ({}); using plain "
                    + "redirects", d, e.getMessage());
            return null;
        }
    }

    private static byte[] peerValue(int kind, int target, int port) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(kind).putInt(target).putInt(port).putInt(0)
                .array();
    }

    /**
     * Adoption keeps the pinned jv_ports values, and with them the forwarding; a device's value is
     * rewritten only when this engine's options or the device's veth peer call for another one.
     */
    private void refreshDeviceValue(Endpoint.Port port, Endpoint.Device d, int ifindex) {
        LiveInstance li = instances.get(port.instance());
        if (li == null || ifindex == 0) {
            return;
        }
        byte[] key = BpfMapKeys.u32(li.slot * Sdk.MAX_PORTS + port.port());
        byte[] value = deviceValue(d, ifindex);
        if (!java.util.Arrays.equals(ports().lookup(key).orElse(null), value)) {
            ports().update(key, value);
        }
    }

    private BpfProgram loadEntry(int slot, int port, String element) {
        String prog = hookProgram("jv_entry");
        CollectionSpec spec = withChannel(forHook(entrySpec, prog).withConstant(Sdk.SLOT_CONSTANT, slot)
                .withConstant(Sdk.ENTRY_PORT_CONSTANT, port));
        try (Collection c = Collection.load(spec, loadOptions(Map.of()))) {
            return c.program(prog).duplicate();
        } catch (BpfException e) {
            throw new TopologyException(element, "cannot load the entry program: " + e.getMessage(), e);
        }
    }

    private void attach(Endpoint.Device d, Endpoint.Port port, Transaction tx) {
        String el = "connection " + port + " -- " + d;
        LiveInstance li = instances.get(port.instance());
        BpfProgram stub = loadEntry(li.slot, port.port(), el);
        tx.onUndo(stub::close);
        LiveDevice existing = devices.get(d);
        Path dir = pinRoot.resolve("dev").resolve(deviceKey(d));
        if (existing == null) {
            int ifindex = deviceIfindex(d);
            DeviceAttachment attachment;
            try {
                attachment = DeviceAttachment.attach(d, ifindex, stub, options.hook(), attachMethod,
                        () -> Netns.open(d.netns()));
            } catch (RuntimeException e) {
                throw new TopologyException(el, "cannot attach to the device: " + e.getMessage(), e);
            }
            tx.onUndo(() -> {
                attachment.detach();
                attachment.close();
            });
            if (steersReceive() && ReceiveSteering.spread(d, ifindex)) {
                tx.onUndo(() -> ReceiveSteering.release(d));
            }
            LiveDevice ld = new LiveDevice(d, ifindex, port, stub, attachment);
            try {
                deleteTree(dir);
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new TopologyException(el, "cannot pin under " + dir + ": " + e.getMessage());
            }
            tx.onUndo(() -> deleteTree(dir));
            attachment.pin(dir);
            stub.pin(dir.resolve("prog"));
            devices.put(d, ld);
            tx.onUndo(() -> devices.remove(d));
        } else {
            BpfProgram oldStub = existing.stub;
            Endpoint.Port oldTarget = existing.target;
            existing.attachment.update(stub, oldStub);
            tx.onUndo(() -> existing.attachment.update(oldStub, stub));
            existing.stub = stub;
            existing.target = port;
            tx.onUndo(() -> {
                existing.stub = oldStub;
                existing.target = oldTarget;
            });
            tx.onCommit(() -> {
                Pins.unpin(dir.resolve("prog"));
                stub.pin(dir.resolve("prog"));
                oldStub.close();
            });
        }
    }

    /** Whether this engine sets receive packet steering on the devices it attaches to (tc only). */
    private boolean steersReceive() {
        return options.receiveSteering() && options.hook() == Hook.TC;
    }

    private void detach(Endpoint.Device d, Transaction tx) {
        LiveDevice ld = devices.get(d);
        devices.remove(d);
        tx.onUndo(() -> devices.put(d, ld));
        // Detaching cannot be undone once done, so it happens at commit, after everything else succeeded.
        tx.onCommit(() -> {
            ld.attachment.detach();
            ld.attachment.close();
            ld.stub.close();
            if (steersReceive()) {
                ReceiveSteering.release(d);
            }
            deleteTree(pinRoot.resolve("dev").resolve(deviceKey(d)));
        });
    }

    private void delete(LiveInstance li, Transaction tx) {
        instances.remove(li.name);
        bySlot.remove(li.slot);
        tx.onUndo(() -> {
            instances.put(li.name, li);
            bySlot.put(li.slot, li);
        });
        tx.onCommit(() -> {
            li.handler.onStop(li);
            patch().delete(BpfMapKeys.u32(li.slot));
            li.closeFds();
            deleteTree(pinRoot.resolve("inst").resolve(li.name));
            slots.clear(li.slot);
        });
    }

    private static String deviceKey(Endpoint.Device d) {
        return (d.netns() == null ? "-" : d.netns()) + "_" + d.name();
    }

    private void resetCounters(int slot) {
        int cpus = Cpus.possible();
        List<byte[]> zeroStats = new ArrayList<>();
        for (int c = 0; c < cpus; c++) {
            zeroStats.add(new byte[32]);
        }
        for (int p = 0; p < Sdk.MAX_PORTS; p++) {
            shared.get("jv_stats").updatePerCpu(BpfMapKeys.u32(slot * Sdk.MAX_PORTS + p), zeroStats, UpdateFlag.ANY);
            ports().update(BpfMapKeys.u32(slot * Sdk.MAX_PORTS + p), new byte[16]);
        }
        List<byte[]> zero = new ArrayList<>();
        for (int c = 0; c < cpus; c++) {
            zero.add(new byte[8]);
        }
        shared.get("jv_missed").updatePerCpu(BpfMapKeys.u32(slot), zero, UpdateFlag.ANY);
    }

    private BpfMap patch() {
        return shared.get(options.hook() == Hook.TC ? "jv_patch_tc" : "jv_patch_xdp");
    }

    private BpfMap ports() {
        return shared.get("jv_ports");
    }

    // ---- state -------------------------------------------------------------------------------

    private void saveState() {
        List<StateStore.SavedInstance> saved = new ArrayList<>();
        for (LiveInstance li : instances.values()) {
            saved.add(new StateStore.SavedInstance(li.name, li.type, li.config, li.slot, li.code.fileName(),
                    li.code.source()));
        }
        store.save(new StateStore.State(options.hook().name(), attachMethod.name(), saved,
                StateStore.connectionLines(current), xdpMetadata == null ? null : xdpMetadata.name()));
    }

    private void adopt() {
        var state = store.load();
        if (state.isEmpty()) {
            try (Stream<Path> s = Files.list(pinRoot.resolve("inst"))) {
                List<Path> stray = s.toList();
                if (!stray.isEmpty()) {
                    throw new TopologyException("engine '" + options.name() + "'", "kernel objects are pinned under "
                            + pinRoot + " but there is no saved state at " + store.file()
                            + "; remove them with Engine.purge(options) or restore the state file");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
        }
        StateStore.State s = state.get();
        if (!s.hook().equals(options.hook().name())) {
            throw new TopologyException("engine '" + options.name() + "'", "its running objects use the "
                    + s.hook() + " hook, not " + options.hook());
        }
        // the running objects were attached one way; keep using it, whatever AUTO would pick now
        AttachMethod saved = s.attach() == null ? AttachMethod.LINK : AttachMethod.valueOf(s.attach());
        if (options.attach() != AttachMethod.AUTO && options.attach() != saved) {
            throw new TopologyException("engine '" + options.name() + "'", "its devices are attached by "
                    + saved + ", not " + options.attach());
        }
        attachMethod = saved;
        if (xdpMetadata != null) {
            // the running programs agree on one channel; new ones must use it too
            XdpMetadata running = s.xdpMetadata() == null ? XdpMetadata.METADATA_AREA
                    : XdpMetadata.valueOf(s.xdpMetadata());
            if (running != xdpMetadata) {
                if (options.xdpMetadata() != XdpMetadata.AUTO) {
                    throw new TopologyException("engine '" + options.name() + "'", "its running XDP programs carry "
                            + "metadata by " + running + ", not " + options.xdpMetadata());
                }
                xdpMetadata = running;
            }
        }
        for (StateStore.SavedInstance si : s.instances()) {
            ModuleCode code = new ModuleCode(si.codeFile(), si.code());
            ModuleType type = catalog.get(si.type());
            if (type == null || type instanceof ModuleType.SourceModule) {
                // a type given as source at run time lives on in the state
                int ports = type == null ? Sdk.MAX_PORTS : type.ports();
                type = new ModuleType.SourceModule(si.type(), code, ports);
                catalog.register(type);
            }
            Path dir = pinRoot.resolve("inst").resolve(si.name());
            BpfProgram prog = BpfProgram.openPinned(dir.resolve("prog"));
            Map<String, BpfMap> maps = new LinkedHashMap<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    String n = f.getFileName().toString();
                    if (n.startsWith("map_")) {
                        BpfMap m = BpfMap.openPinned(f);
                        maps.put(m.name().isEmpty() ? n.substring(4) : originalMapName(code, n.substring(4)), m);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir, e);
            }
            LiveInstance li = new LiveInstance(this, si.name(), si.type(), code, si.slot(), si.config(), maps, prog,
                    type.handler(si.config()));
            instances.put(li.name, li);
            bySlot.put(li.slot, li);
            slots.set(li.slot);
        }
        Topology t = StateStore.topology(s);
        for (Topology.Connection c : t.connections()) {
            peers.put(c.a(), c.b());
            if (c.b() instanceof Endpoint.Port p) {
                peers.put(p, c.a());
            } else {
                Endpoint.Device d = (Endpoint.Device) c.b();
                Path dir = pinRoot.resolve("dev").resolve(deviceKey(d));
                BpfProgram stub = BpfProgram.openPinned(dir.resolve("prog"));
                DeviceAttachment attachment;
                int ifindex;
                if (attachMethod == AttachMethod.LINK) {
                    BpfLink link = BpfLink.openPinned(dir.resolve("link"));
                    ifindex = link.info() instanceof io.jvisor.bpf.link.LinkInfo.Tcx tcx ? tcx.ifindex()
                            : link.info() instanceof io.jvisor.bpf.link.LinkInfo.Xdp x ? x.ifindex() : 0;
                    attachment = new DeviceAttachment.Link(link);
                } else {
                    ifindex = resolveIfindex(d, "device " + d);
                    attachment = options.hook() == Hook.TC ? new DeviceAttachment.TcFilter(d, ifindex)
                            : new DeviceAttachment.NetlinkXdp(d, ifindex);
                }
                devices.put(d, new LiveDevice(d, ifindex, c.a(), stub, attachment));
                refreshDeviceValue(c.a(), d, ifindex);
                if (steersReceive()) {
                    ReceiveSteering.spread(d, ifindex);
                }
            }
        }
        current = t;
        LOG.info("adopted {} instances and {} device connections of engine '{}'", instances.size(), devices.size(),
                options.name());
    }

    /** Pinned map file names replace '.' (bpffs refuses it); map the name back through the code's spec. */
    private String originalMapName(ModuleCode code, String pinned) {
        CollectionSpec spec = compile(code, "adopted code");
        for (ObjectMap m : spec.maps()) {
            if (m.name().replace('.', '_').equals(pinned)) {
                return m.name();
            }
        }
        return pinned;
    }

    // ---- the slow path -------------------------------------------------------------------------

    private void readLoop() {
        while (!closed) {
            try {
                slowPath.poll(Duration.ofMillis(100), this::onPacketIn);
                logs.drain(this::onLogLine);
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.warn("slow-path reader", e);
                }
            }
        }
    }

    private void onPacketIn(MemorySegment rec) {
        ByteBuffer b = rec.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int slot = b.getInt(0), inPort = b.getInt(4), reason = b.getInt(8), len = b.getInt(12), wire = b.getInt(16);
        int mark = b.getInt(20), hook = b.getInt(24);
        LiveInstance li = bySlot.get(slot);
        if (li == null) {
            return;
        }
        byte[] data = new byte[Math.min(len, Sdk.SNAPLEN)];
        b.get(32, data);
        PacketIn p = new PacketIn(li.name, inPort, reason, data, wire, mark, hook == 0 ? Hook.TC : Hook.XDP);
        try {
            li.handler.onPacket(li, p);
        } catch (RuntimeException e) {
            LOG.warn("instance '{}' failed to handle a packet", li.name, e);
        }
        for (java.util.function.Consumer<PacketIn> l : packetListeners) {
            try {
                l.accept(p);
            } catch (RuntimeException e) {
                LOG.warn("a slow-path listener failed: {}", e.toString());
            }
        }
    }

    private final List<java.util.function.Consumer<PacketIn>> packetListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Registers {@code listener} to see every packet an instance sends to its control plane, after
     * the instance's own handler has run, on the engine's slow-path thread (so it must return
     * quickly). Closing the returned handle removes it.
     */
    public AutoCloseable onSlowPath(java.util.function.Consumer<PacketIn> listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        packetListeners.add(listener);
        return () -> packetListeners.remove(listener);
    }

    private void onLogLine(MemorySegment rec) {
        ByteBuffer b = rec.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int slot = b.getInt(0);
        int len = Math.min(b.getInt(4), 127);
        byte[] text = new byte[Math.max(0, len)];
        b.get(16, text);
        while (len > 0 && text[len - 1] == 0) {
            len--; // bpf_snprintf counts the terminating NUL
        }
        text = java.util.Arrays.copyOf(text, len);
        LiveInstance li = bySlot.get(slot);
        LoggerFactory.getLogger("jvisor.module." + (li == null ? "slot" + slot : li.name))
                .info(new String(text, StandardCharsets.UTF_8));
    }

    private void startHandler(LiveInstance li) {
        try {
            li.handler.onStart(li);
        } catch (RuntimeException e) {
            LOG.warn("instance '{}' failed to start its control plane", li.name, e);
        }
    }

    /**
     * Sends a frame out of an instance's port (the slow path's answer). To a device it goes through
     * a packet socket on that device; to another instance (tc only) through the engine's reinjection
     * veth pair, whose far end runs {@code jv_reinject_tc}: the socket mark names the target slot and
     * port, and the entry there tail-calls into it as if the frame had left the port in the kernel.
     */
    void transmit(LiveInstance li, int port, byte[] frame) {
        Endpoint peer;
        synchronized (this) {
            peer = peers.get(new Endpoint.Port(li.name, port));
        }
        switch (peer) {
            case null -> throw new TopologyException("port " + li.name + ":" + port, "is not connected");
            case Endpoint.Device d -> sendOut(d.netns() == null ? "" : d.netns(), deviceIfindex(d), -1, frame);
            case Endpoint.Port p -> {
                if (options.hook() != Hook.TC) {
                    throw new TopologyException("port " + li.name + ":" + port, "is connected to " + p
                            + "; user space can transmit into another instance only at the tc hook");
                }
                int slot;
                synchronized (this) {
                    slot = instances.get(p.instance()).slot;
                }
                sendOut("", reinjector().ifindex, 0x6a000000 | (slot << 8) | p.port(), frame);
            }
        }
        countTx(li, port, frame.length);
    }

    /**
     * The packet socket for transmissions in the engine's own network namespace, kept open: opening
     * and closing one per frame costs milliseconds (the kernel waits for an RCU grace period on
     * release), which capped slow-path answers at about a hundred a second. Devices in other
     * namespaces get a socket per frame, because a socket kept open would keep a deleted namespace,
     * and the devices in it, alive.
     */
    private io.jvisor.net.PacketSocket txSocket;

    private void sendOut(String netns, int ifindex, int mark, byte[] frame) {
        if (!netns.isEmpty()) {
            try (Netns ns = Netns.open(netns); io.jvisor.net.PacketSocket s = io.jvisor.net.PacketSocket.open(ns)) {
                s.send(ifindex, frame);
            }
            return;
        }
        synchronized (txLock) {
            if (txSocket == null) {
                txSocket = io.jvisor.net.PacketSocket.open();
                txMark = 0;
            }
            int want = Math.max(mark, 0);
            if (want != txMark) { // one setsockopt only when the target changes
                txSocket.setMark(want);
                txMark = want;
            }
            txSocket.send(ifindex, frame);
        }
    }

    private final Object txLock = new Object();
    private int txMark; // the SO_MARK txSocket carries, guarded by txLock

    /** The reinjection veth pair: frames sent into {@code a} reach {@code jv_reinject_tc} on {@code b}. */
    private record Reinjector(int ifindex, BpfProgram program, BpfLink link) {}

    private Reinjector reinjector;

    private static String reinjectName(EngineOptions o, String end) {
        return "jvx" + Integer.toHexString(o.name().hashCode() & 0x7fffffff) + end;
    }

    private synchronized Reinjector reinjector() {
        if (reinjector != null) {
            return reinjector;
        }
        String a = reinjectName(options, "a");
        String b = reinjectName(options, "b");
        try (Rtnl rtnl = Rtnl.open()) {
            if (rtnl.findLink(a).isEmpty()) {
                rtnl.createVeth(io.jvisor.net.VethSpec.of(a, b));
            }
            rtnl.setUp(a);
            rtnl.setUp(b);
            int ifindexA = rtnl.ifindex(a);
            int ifindexB = rtnl.ifindex(b);
            Path dir = pinRoot.resolve("reinject");
            BpfProgram prog;
            BpfLink link;
            if (Files.exists(dir.resolve("link"))) {
                link = BpfLink.openPinned(dir.resolve("link"));
                prog = BpfProgram.openPinned(dir.resolve("prog"));
            } else {
                CollectionSpec spec = forHook(entrySpec, "jv_reinject_tc");
                try (Collection c = Collection.load(spec, loadOptions(Map.of()))) {
                    prog = c.program("jv_reinject_tc").duplicate();
                }
                link = BpfLink.tcx(prog, ifindexB, TcxDirection.INGRESS);
                Files.createDirectories(dir);
                link.pin(dir.resolve("link"));
                prog.pin(dir.resolve("prog"));
            }
            reinjector = new Reinjector(ifindexA, prog, link);
            return reinjector;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pin the reinjection program under " + pinRoot, e);
        }
    }

    private void countTx(LiveInstance li, int port, int len) {
        // Counted in Java: writing the per-CPU counters from user space would race with the kernel's
        // increments on the same CPU slot and lose some of them.
        li.userTxPackets.incrementAndGet(port);
        li.userTxBytes.addAndGet(port, len);
    }

    // ---- counters ------------------------------------------------------------------------------

    /**
     * The counters of an instance's port. Frames its control plane transmitted count as tx too (those
     * since this engine process started).
     */
    public PortStats stats(String instance, int port) {
        LiveInstance li = live(instance);
        List<byte[]> perCpu = shared.get("jv_stats").lookupPerCpu(BpfMapKeys.u32(li.slot * Sdk.MAX_PORTS + port))
                .orElseThrow();
        long[] sum = new long[4];
        for (byte[] v : perCpu) {
            ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 4; i++) {
                sum[i] += b.getLong(i * 8);
            }
        }
        return new PortStats(sum[0], sum[1], sum[2] + li.userTxPackets.get(port), sum[3] + li.userTxBytes.get(port));
    }

    /** Packets that fell through a failed tail call into this instance (its slot was empty). */
    public long missedTailCalls(String instance) {
        LiveInstance li = live(instance);
        long total = 0;
        for (byte[] v : shared.get("jv_missed").lookupPerCpu(BpfMapKeys.u32(li.slot)).orElseThrow()) {
            total += ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return total;
    }

    /** Drops of an instance by reason name (see {@link Sdk#dropReasonName}). */
    public Map<String, Long> drops(String instance) {
        LiveInstance li = live(instance);
        Map<String, Long> out = new java.util.TreeMap<>();
        for (BpfMap.Entry e : shared.get("jv_drops").lookupBatch(256)) {
            ByteBuffer k = ByteBuffer.wrap(e.key()).order(ByteOrder.LITTLE_ENDIAN);
            if (k.getInt(0) != li.slot) {
                continue;
            }
            long total = 0;
            ByteBuffer v = ByteBuffer.wrap(e.value()).order(ByteOrder.LITTLE_ENDIAN);
            for (int c = 0; c < Cpus.possible(); c++) {
                total += v.getLong(c * 8);
            }
            out.merge(Sdk.dropReasonName(k.getInt(4)), total, Long::sum);
        }
        return out;
    }

    /** One of an instance's own maps, by its C name. */
    public BpfMap map(String instance, String map) {
        return live(instance).map(map);
    }

    /**
     * The BTF of the code an instance runs, as this engine compiled it (the loader gives the kernel
     * this BTF with the same type ids), or null when the code carries none. The kernel's own copy,
     * read by BTF id, needs CAP_SYS_ADMIN; this needs no capability.
     */
    public io.jvisor.bpf.btf.Btf codeBtf(String instance) {
        LiveInstance li = live(instance);
        return compile(li.code, "instance '" + instance + "'").btf();
    }

    /** The kernel id of the program an instance runs now. */
    public int programId(String instance) {
        return live(instance).program.id();
    }

    private synchronized LiveInstance live(String instance) {
        LiveInstance li = instances.get(instance);
        if (li == null) {
            throw new TopologyException("instance '" + instance + "'", "no such instance");
        }
        return li;
    }

    // ---- lifetime -----------------------------------------------------------------------------

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("engine '" + options.name() + "' is closed");
        }
    }

    /**
     * Stops this engine process's side: the control planes and the slow-path reader. The kernel
     * objects stay pinned and keep forwarding; a new engine adopts them.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LiveInstance li : instances.values()) {
            try {
                li.handler.onStop(li);
            } catch (RuntimeException e) {
                LOG.warn("instance '{}' failed to stop", li.name, e);
            }
        }
        slowPath.wakeup();
        try {
            readerThread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeJavaSide();
    }

    private void closeJavaSide() {
        synchronized (txLock) {
            if (txSocket != null) {
                txSocket.close();
                txSocket = null;
            }
        }
        if (reinjector != null) {
            reinjector.link().close();
            reinjector.program().close();
        }
        if (slowPath != null) {
            slowPath.close();
        }
        if (logs != null) {
            logs.close();
        }
        for (LiveInstance li : instances.values()) {
            li.closeFds();
        }
        for (LiveDevice d : devices.values()) {
            d.attachment.close();
            d.stub.close();
        }
        shared.values().forEach(BpfMap::close);
    }

    /** Removes everything this engine put in the kernel and its saved state, then closes it. */
    public void destroy() {
        apply(Topology.EMPTY);
        close();
        purge(options);
    }

    /**
     * Removes the pins and saved state of engine {@code options.name()}, for leftovers of a killed
     * process. Links detach as their last pin goes. Safe to call when nothing is there.
     */
    public static void purge(EngineOptions options) {
        // netlink attachments are not held by pins: take them off their devices first
        new StateStore(options.stateDir()).load().ifPresent(st -> {
            if (!AttachMethod.NETLINK.name().equals(st.attach())) {
                return;
            }
            for (String line : st.connections()) {
                String[] parts = line.split(" ");
                if (Endpoint.parse(parts[1]) instanceof Endpoint.Device d) {
                    try {
                        int ifindex = DeviceAttachment.withRtnl(d, r -> r.ifindex(d.name()));
                        (Hook.valueOf(st.hook()) == Hook.TC ? new DeviceAttachment.TcFilter(d, ifindex)
                                : new DeviceAttachment.NetlinkXdp(d, ifindex)).detach();
                    } catch (RuntimeException gone) {
                        // the device or the filter is gone already
                    }
                }
            }
        });
        deleteTree(options.pinRoot());
        try (Rtnl rtnl = Rtnl.open()) {
            if (rtnl.findLink(reinjectName(options, "a")).isPresent()) {
                rtnl.delete(reinjectName(options, "a")); // takes its peer with it
            }
        } catch (RuntimeException ignored) {
            // nothing to remove
        }
        try {
            Files.deleteIfExists(options.pinRoot().getParent()); // bpffs/jvisor, once no engine is left in it
        } catch (IOException ignored) {
            // other engines still have pins there
        }
        new StateStore(options.stateDir()).delete();
        try {
            Files.deleteIfExists(options.stateDir());
        } catch (IOException ignored) {
            // a directory with other files in it is not ours to remove
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }

    // ---- live objects ----------------------------------------------------------------------------

    /** One running instance. */
    static final class LiveInstance implements InstanceContext {
        final Engine engine;
        final String name;
        String type;
        ModuleCode code;
        final int slot;
        Map<String, String> config;
        Map<String, BpfMap> maps;
        BpfProgram program;
        ModuleHandler handler;
        final java.util.concurrent.atomic.AtomicLongArray userTxPackets =
                new java.util.concurrent.atomic.AtomicLongArray(Sdk.MAX_PORTS);
        final java.util.concurrent.atomic.AtomicLongArray userTxBytes =
                new java.util.concurrent.atomic.AtomicLongArray(Sdk.MAX_PORTS);

        LiveInstance(Engine engine, String name, String type, ModuleCode code, int slot, Map<String, String> config,
                     Map<String, BpfMap> maps, BpfProgram program, ModuleHandler handler) {
            this.engine = engine;
            this.name = name;
            this.type = type;
            this.code = code;
            this.slot = slot;
            this.config = config;
            this.maps = maps;
            this.program = program;
            this.handler = Objects.requireNonNull(handler);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Map<String, String> config() {
            return config;
        }

        @Override
        public BpfMap map(String mapName) {
            BpfMap m = maps.get(mapName);
            if (m == null) {
                throw new TopologyException("instance '" + name + "'", "has no map '" + mapName + "' (it has "
                        + maps.keySet() + ")");
            }
            return m;
        }

        @Override
        public void transmit(int port, byte[] frame) {
            engine.transmit(this, port, frame);
        }

        void closeFds() {
            program.close();
            maps.values().forEach(BpfMap::close);
        }
    }

    /** One device connected to an instance port. */
    static final class LiveDevice {
        final Endpoint.Device device;
        final int ifindex;
        Endpoint.Port target;
        BpfProgram stub;
        final DeviceAttachment attachment;

        LiveDevice(Endpoint.Device device, int ifindex, Endpoint.Port target, BpfProgram stub,
                   DeviceAttachment attachment) {
            this.device = device;
            this.ifindex = ifindex;
            this.target = target;
            this.stub = stub;
            this.attachment = attachment;
        }
    }
}

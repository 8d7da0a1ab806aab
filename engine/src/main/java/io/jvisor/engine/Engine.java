package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.elf.CollectionSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The IO Visor engine: instances of module types, wired port to port and to devices, running in
 * the kernel.
 *
 * <p>Each instance is the module's compiled object loaded once, with its slot in the .rodata
 * constant {@code jv_slot}; the object is compiled once per distinct source, never per instance.
 * Instances reach each other by tail calls of constant key through a program array of their own
 * ({@code jv_next}, one entry per port: direct jumps), with the patch panel ({@code jv_patch_tc},
 * slot to program) behind it; devices enter an instance through a small entry program attached
 * with tcx, and leave it by {@code bpf_redirect}. Everything is pinned under {@code bpffs/jvisor/NAME}, and the desired state
 * is saved crash-safely, so a new engine process {@link #start adopts} the running objects without
 * disturbing traffic.
 *
 * <p>{@link #apply(Topology)} is all or nothing: it diffs the desired topology against the live
 * one, applies the {@link Plan}, and on any failure undoes every step, leaving the kernel as it was.
 *
 * <p>This class is the facade over the engine's parts (see docs/architecture.md): the
 * {@link Planner} (pure: topology and live state in, plan out), the {@link Executor} (a plan in one
 * transaction), the {@link CodeCache} and {@link ModuleLoader}, the {@link PatchPanel},
 * the {@link DeviceAttacher}, {@link Persistence} (pins, saved state, adoption), the
 * {@link SlowPath} and {@link Transmitter}, and {@link EngineStats}.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    private final EngineOptions options;
    private final ModuleCatalog catalog;
    private final LiveState state = new LiveState();
    private final Persistence persistence;
    private final CodeCache code;
    private final HookSettings settings;
    private final SharedMaps shared;
    private final PatchPanel panel;
    private final ModuleLoader loader;
    private final Transmitter transmitter;
    private final Planner planner;
    private final Executor executor;
    private final EngineStats stats;
    private final SlowPath slowPath;
    private volatile boolean closed;

    private Engine(EngineOptions options, ModuleCatalog catalog) {
        this.options = options;
        this.catalog = catalog;
        this.persistence = new Persistence(options);
        this.code = CodeCache.find(options.name());
        CollectionSpec entrySpec = code.compile(ModuleCode.resource(Engine.class, ModuleLoader.ENTRY_SOURCE),
                "the engine's entry program");
        try {
            persistence.pins().prepare();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + options.pinRoot(), e);
        }
        Optional<StateStore.State> saved = persistence.load();
        this.settings = HookSettings.resolve(options, saved);
        this.shared = SharedMaps.open(persistence.pins().maps(), entrySpec, options.hook());
        this.loader = new ModuleLoader(code, entrySpec, shared, options.hook(), settings.xdpMetadata());
        this.panel = new PatchPanel(shared, options.hook());
        DeviceAttacher devices = new DeviceAttacher(options, settings.attach(), loader, persistence.pins());
        this.transmitter = new Transmitter(options, state, loader, persistence.pins());
        this.planner = new Planner(catalog, (type, sizes, el) -> CodeCache.sized(code.compile(type.code(), el), sizes, el));
        this.executor = new Executor(options, catalog, state, code, loader, shared, panel, devices, persistence,
                settings, transmitter);
        this.stats = new EngineStats(shared);
        SlowPath reader = null;
        try {
            // the program array holds the flood program; an adopted engine's older one is replaced atomically
            try (var flood = loader.loadFlood()) {
                panel.setService(Sdk.SVC_FLOOD, flood);
            }
            saved.ifPresent(s -> persistence.adopt(s, state, catalog, code, devices, panel, transmitter));
            reader = new SlowPath(shared, state.bySlot);
        } catch (RuntimeException e) {
            closeKernelHandles();
            throw e;
        }
        this.slowPath = reader;
        // adopted instances' control planes start first: the reader hands them packets at once
        state.instances.values().forEach(LiveInstance::startControlPlane);
        slowPath.start(options.name());
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
    public Topology topology() {
        synchronized (state) {
            return state.current;
        }
    }

    /**
     * How this engine carries packet metadata between chained XDP programs (AUTO resolved), or empty
     * on the tc hook.
     */
    public Optional<XdpMetadata> xdpMetadata() {
        return Optional.ofNullable(settings.xdpMetadata());
    }

    /** How this engine attaches devices (AUTO resolved). */
    public AttachMethod attachMethod() {
        return settings.attach();
    }

    /**
     * What {@link #apply} would do, without doing it.
     *
     * @throws TopologyException naming the element at fault when the topology is invalid
     */
    public Plan plan(Topology desired) {
        synchronized (state) {
            try (DeviceDirectory devices = new DeviceDirectory()) {
                return planner.plan(desired, state.view(), devices::ifindex);
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
    public Plan apply(Topology desired) {
        synchronized (state) {
            checkOpen();
            // one handle per namespace for the whole apply: validation, peer values and attaching share it
            try (DeviceDirectory devices = new DeviceDirectory()) {
                Plan plan = planner.plan(desired, state.view(), devices::ifindex);
                if (plan.isEmpty()) {
                    return plan;
                }
                executor.apply(plan, desired, devices);
                LOG.info("applied:\n{}", plan);
                return plan;
            }
        }
    }

    /**
     * Replaces an instance's code while traffic flows: the module type's code changes, and the
     * instance's slot switches to the new program in one atomic update. Maps of the same name, shape
     * and BTF layout are kept; a map whose layout changed refuses the swap (see
     * {@link #swap(String, ModuleCode, Map)}).
     */
    public Plan swap(String instance, ModuleCode newCode) {
        return swap(instance, newCode, Map.of());
    }

    /**
     * Replaces an instance's code while traffic flows, with a {@link MapMigration} for each kept map
     * (by C name) whose key or value layout the new code changes.
     *
     * @throws TopologyException naming the map and the first difference when a map's layout
     *     changed and no migration is given for it; nothing changes then
     */
    public Plan swap(String instance, ModuleCode newCode, Map<String, MapMigration> migrations) {
        synchronized (state) {
            LiveInstance li = state.live(instance);
            ModuleType old = catalog.get(li.type);
            if (!(old instanceof ModuleType.SourceModule)) {
                throw new TopologyException("instance '" + instance + "'", "its type '" + li.type
                        + "' comes from the class path; swap it by upgrading the module jar");
            }
            catalog.register(new ModuleType.SourceModule(li.type, newCode, old.ports(), migrations));
            try {
                return apply(state.current);
            } catch (RuntimeException e) {
                catalog.register(old);
                throw e;
            }
        }
    }

    /**
     * Registers {@code listener} to see every packet an instance sends to its control plane, after
     * the instance's own handler has run, on the engine's slow-path thread (so it must return
     * quickly). Closing the returned handle removes it.
     */
    public AutoCloseable onSlowPath(Consumer<PacketIn> listener) {
        return slowPath.listen(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * The counters of an instance's port. Frames its control plane transmitted count as tx too (those
     * since this engine process started).
     */
    public PortStats stats(String instance, int port) {
        return stats.port(live(instance), port);
    }

    /** Packets that fell through a failed tail call into this instance (its slot was empty). */
    public long missedTailCalls(String instance) {
        return stats.missedTailCalls(live(instance).slot);
    }

    /** Drops of an instance by reason name (see {@link Sdk#dropReasonName}). */
    public Map<String, Long> drops(String instance) {
        return stats.drops(live(instance).slot);
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
    public Btf codeBtf(String instance) {
        return code.compile(live(instance).code, "instance '" + instance + "'").btf();
    }

    /** The patch-panel slot of an instance (for tests that write the wiring the planner refuses). */
    int slot(String instance) {
        return live(instance).slot;
    }

    /** The kernel id of the program an instance runs now. */
    public int programId(String instance) {
        return live(instance).program.id();
    }

    private LiveInstance live(String instance) {
        synchronized (state) {
            return state.live(instance);
        }
    }

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
    public void close() {
        synchronized (state) {
            if (closed) {
                return;
            }
            closed = true;
            state.instances.values().forEach(LiveInstance::stopControlPlane);
        }
        slowPath.close();
        closeKernelHandles();
    }

    private void closeKernelHandles() {
        transmitter.close();
        panel.close();
        loader.close();
        for (LiveInstance li : state.instances.values()) {
            li.closeFds();
        }
        for (LiveDevice d : state.devices.values()) {
            d.attachment.close();
            d.stub.close();
        }
        shared.close();
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
        Persistence.purge(options);
    }
}

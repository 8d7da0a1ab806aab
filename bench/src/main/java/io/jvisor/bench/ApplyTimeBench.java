package io.jvisor.bench;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.KernelObjects;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.ProgramInfo;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.link.BpfLink;
import io.jvisor.bpf.link.TcxDirection;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.Plan;
import io.jvisor.engine.Sdk;
import io.jvisor.engine.Topology;
import io.jvisor.net.Link;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The time {@link Engine#apply} takes to build a topology from nothing: by default 100 instances
 * of two 8-port module types ({@code bpf/relay8.c} and {@code bpf/hub8.c}, alternating) in a tree
 * (each instance's parent is instance (i-1)/3, so no loops and no long paths), and 400 connections:
 * the 99 tree edges plus 301 device connections to veth devices in a namespace of our own.
 *
 * <p>Each round is a fresh JVM (a child process), so that every round starts from nothing. The
 * first round has an empty clang cache ({@code XDG_CACHE_HOME} points into a temporary directory);
 * the others reuse it. clang is run through a wrapper ({@code JVISOR_CLANG}) that logs every call,
 * which shows how many compilations each round made; the programs the engine loaded are counted
 * in the kernel (every new program that uses the engine's {@code jv_ports} map, by name), and so
 * are the program ids the whole machine used meanwhile, which shows that nothing else was loaded
 * and thrown away.
 *
 * <p>The peer is the kernel work itself: in the same child, after the engine's apply, the same
 * module objects are loaded by a bare loop ({@link Collection#load}, one loaded BTF per object), the
 * device entries assembled as the engine assembles them (one BPF_PROG_LOAD each), the same number
 * of attachments made (tcx links, or cls_bpf filters when the engine attaches by netlink:
 * JVISOR_BENCH_ATTACH) and map elements written. That is the floor any tool pays; the difference is
 * what the engine adds (planning, validation, pins, state, counters reset).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.ApplyTimeBench \
 *     [--smoke] [--rounds N] [--instances N] [--connections N]
 * </pre>
 */
public final class ApplyTimeBench {
    static final int PORTS = 8;
    static final int FANOUT = 3;
    /** Threads the floor's diagnostic attaches tcx links from. */
    static final int PARALLEL_ATTACH = 8;
    /** The floor's cls_bpf filters (netlink attach), beside the engine's own (priority 1). */
    static final int FLOOR_FILTER_PRIORITY = 2, FLOOR_FILTER_HANDLE = 0x4a57;
    static final List<String> TYPES = List.of("relay8", "hub8");
    private static final Pattern RESULT = Pattern.compile("^result (\\S+)=(\\S+)$");

    /**
     * @param rounds child JVMs: the first with a cold clang cache, the rest warm
     */
    public record Config(boolean smoke, int rounds, int instances, int connections, boolean verbose) {
        public static Config fullRun() {
            return new Config(false, 3, 100, 400, false);
        }

        public static Config smokeRun() {
            return new Config(true, 2, 6, 20, false);
        }

        public Config withRounds(int n) {
            return new Config(smoke, n, instances, connections, verbose);
        }

        public Config withSize(int inst, int conns) {
            return new Config(smoke, rounds, inst, conns, verbose);
        }

        public Config withVerbose(boolean v) {
            return new Config(smoke, rounds, instances, connections, v);
        }

        int treeEdges() {
            return instances - 1;
        }

        int devices() {
            return connections - treeEdges();
        }
    }

    /** One child JVM's figures, by key (see {@link #child}). */
    public record Round(boolean coldCache, Map<String, Double> figures, int clangCompilations, List<String> clangCalls) {
        double get(String key) {
            Double v = figures.get(key);
            if (v == null) {
                throw new IllegalStateException("the child reported no " + key + ": " + figures.keySet());
            }
            return v;
        }
    }

    public record Result(Config config, List<Round> rounds, String loadBefore, String loadAfter) {}

    private ApplyTimeBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            System.exit(child(args));
        }
        BenchArgs a = BenchArgs.parse("ApplyTimeBench", "[--smoke] [--rounds N] [--instances N] [--connections N]"
                + " [--verbose]", args, List.of("--smoke", "--verbose"), List.of("--rounds", "--instances", "--connections"));
        if (a == null) {
            return;
        }
        Config config = a.has("--smoke") ? Config.smokeRun() : Config.fullRun();
        config = config.withRounds(a.intOr("--rounds", config.rounds()))
                .withSize(a.intOr("--instances", config.instances()), a.intOr("--connections", config.connections()));
        Result r = run(config.withVerbose(a.has("--verbose")), System.out);
        printReport(r, System.out);
    }

    // ---- the topology ------------------------------------------------------------------------------

    /** The tree: instance i (type alternating) hangs off port 1 + (i-1)%3 of instance (i-1)/3, by its port 0. */
    static Topology topology(int instances, int devices, String netns) {
        return topology(instances, devices, netns, TYPES);
    }

    /** The same tree with the instances' types taken from types in turn. */
    static Topology topology(int instances, int devices, String netns, List<String> types) {
        Topology.Builder b = Topology.builder();
        boolean[][] used = new boolean[instances][PORTS];
        for (int i = 0; i < instances; i++) {
            b.instance("n" + i, types.get(i % types.size()));
            if (i > 0) {
                int parent = (i - 1) / FANOUT;
                int port = 1 + (i - 1) % FANOUT;
                b.connect("n" + parent + ":" + port, "n" + i + ":0");
                used[parent][port] = true;
                used[i][0] = true;
            }
        }
        // Devices on the free ports, the high ports of every instance first.
        int d = 0;
        for (int port : new int[] {4, 5, 6, 7, 0, 1, 2, 3}) {
            for (int i = 0; i < instances && d < devices; i++) {
                if (!used[i][port]) {
                    used[i][port] = true;
                    b.connect("n" + i + ":" + port, "dev:" + netns + "/" + device(d++));
                }
            }
        }
        if (d < devices) {
            throw new IllegalArgumentException(instances + " instances of " + PORTS + " ports have room for only " + d
                    + " device connections besides the tree, not " + devices);
        }
        return b.build();
    }

    /** Device d: a0, b0, a1, b1, ... (the two ends of veth pair d/2). */
    static String device(int d) {
        return (d % 2 == 0 ? "a" : "b") + (d / 2);
    }

    static ModuleCatalog catalog() {
        ModuleCatalog c = new ModuleCatalog();
        for (String t : TYPES) {
            c.register(ModuleType.fromSource(t, EngineBenchSupport.bpfSource(t + ".c"), PORTS));
        }
        return c;
    }

    // ---- the parent: one child JVM per round ------------------------------------------------------

    public static Result run(Config config, PrintStream log) throws IOException, InterruptedException {
        String loadBefore = EngineBenchSupport.loadAverage();
        if (config.instances() < 2 || config.devices() < 1) {
            throw new IllegalArgumentException("need at least 2 instances and more connections than tree edges");
        }
        topology(config.instances(), config.devices(), "x"); // refuses sizes that do not fit, before any set-up
        Path work = Files.createTempDirectory("jvisor-apply-bench");
        EngineBenchSupport.ScratchNetns ns = null;
        List<Round> rounds = new ArrayList<>();
        try {
            ns = EngineBenchSupport.ScratchNetns.create("jvba", (config.devices() + 1) / 2);
            Path clangLog = work.resolve("clang-calls.log");
            Path wrapper = work.resolve("clang");
            Path realClang;
            try {
                realClang = Clang.find().executable();
            } catch (io.jvisor.bpf.toolchain.ClangNotFoundException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            Files.writeString(wrapper, "#!/bin/sh\n# logs each call, then runs the real clang\nprintf '%s\\n' \"$*\" >> '"
                    + clangLog + "'\nexec '" + realClang + "' \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path cache = work.resolve("cache");
            log.printf(Locale.ROOT, "== %d instances (%s, alternating, %d ports each) in a tree, %d connections: %d"
                    + " instance-instance + %d to veth devices in namespace %s%n", config.instances(),
                    String.join(" + ", TYPES), PORTS, config.connections(), config.treeEdges(), config.devices(), ns.name());
            log.println("== clang: " + realClang + " through a logging wrapper; cache " + cache
                    + " (empty for round 1)");
            for (int r = 0; r < config.rounds(); r++) {
                Files.deleteIfExists(clangLog);
                Files.createFile(clangLog);
                rounds.add(runChild(config, ns.name(), wrapper, cache, clangLog, r == 0, log));
                Round last = rounds.getLast();
                log.printf(Locale.ROOT, "   round %d (%s clang cache, fresh JVM): apply %.0f ms, %d compilations,"
                        + " %d programs loaded; same JVM again: apply %.0f ms%n", r + 1, last.coldCache() ? "cold" : "warm",
                        last.get("apply_ms"), last.clangCompilations(), (int) last.get("programs_total"),
                        last.get("again_apply_ms"));
            }
        } finally {
            if (ns != null) {
                ns.close();
            }
            EngineBenchSupport.deleteTree(work);
        }
        return new Result(config, rounds, loadBefore, EngineBenchSupport.loadAverage());
    }

    private static Round runChild(Config config, String netns, Path wrapper, Path cache, Path clangLog, boolean cold,
                                  PrintStream log) throws IOException, InterruptedException {
        EngineOptions a = EngineBenchSupport.engineOptions("jvba");
        EngineOptions b = EngineBenchSupport.engineOptions("jvba");
        Path out = Files.createTempFile("jvisor-apply-child", ".out");
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin",
                "java").toString());
        List<String> cmd = List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ApplyTimeBench.class.getName(), "--child",
                "--netns", netns, "--instances", Integer.toString(config.instances()),
                "--devices", Integer.toString(config.devices()),
                "--engine", a.name(), "--state", a.stateDir().toString(),
                "--engine-again", b.name(), "--state-again", b.stateDir().toString());
        if (config.verbose()) {
            log.println("== child: " + String.join(" ", cmd));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("XDG_CACHE_HOME", cache.toString());
        pb.environment().put("JVISOR_CLANG", wrapper.toString());
        Process p = pb.start();
        try {
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("the apply child timed out after 600 s:\n" + Files.readString(out));
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("the apply child failed (exit " + p.exitValue() + "):\n" + text);
            }
            Map<String, Double> figures = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                Matcher m = RESULT.matcher(line.strip());
                if (m.matches()) {
                    figures.put(m.group(1), Double.parseDouble(m.group(2)));
                } else if (config.verbose() || line.startsWith("[") || line.contains("WARN") || line.contains("ERROR")) {
                    log.println("   child: " + line);
                }
            }
            List<String> calls = Files.readAllLines(clangLog);
            int compilations = (int) calls.stream().filter(c -> c.contains(" -c ")).count();
            return new Round(cold, figures, compilations, calls);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
            Files.deleteIfExists(out);
            // whatever the child left behind if it died half-way
            EngineBenchSupport.destroyQuietly(null, a, log);
            EngineBenchSupport.destroyQuietly(null, b, log);
        }
    }

    // ---- the child: one engine from nothing, the kernel floor, then again in the same JVM -------------

    static int child(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        String netns = opt.get("--netns");
        int instances = Integer.parseInt(opt.get("--instances"));
        int devices = Integer.parseInt(opt.get("--devices"));
        Topology topology = topology(instances, devices, netns);
        PrintStream out = System.out;
        EngineOptions a = EngineBenchSupport.withBenchAttach(EngineOptions.named(opt.get("--engine"))
                .withStateDir(Path.of(opt.get("--state"))));
        EngineOptions b = EngineBenchSupport.withBenchAttach(EngineOptions.named(opt.get("--engine-again"))
                .withStateDir(Path.of(opt.get("--state-again"))));
        Engine engine = null;
        try {
            // ---- from nothing, in a fresh JVM
            long t0 = System.nanoTime();
            engine = Engine.start(a, catalog());
            long t1 = System.nanoTime();
            int idsBefore = nextProgramId(); // after start: its feature probes load programs of their own
            long t2 = System.nanoTime();
            Plan plan = engine.apply(topology);
            long t3 = System.nanoTime();
            int idsAfter = nextProgramId();
            report(out, "start_ms", ms(t1 - t0));
            report(out, "apply_ms", ms(t3 - t2));
            report(out, "plan_changes", plan.changes().size());
            countPrograms(a, idsBefore, out);
            for (int i = 0; i < Math.min(instances, TYPES.size()); i++) {
                try (BpfProgram p = BpfProgram.fromId(engine.programId("n" + i))) {
                    report(out, "verified_insns_" + TYPES.get(i), p.info().verifiedInstructions());
                }
            }
            try (BpfProgram p = BpfProgram.openPinned(EngineBenchSupport.entryPin(a, netns, device(0)))) {
                report(out, "verified_insns_entry", p.info().verifiedInstructions());
            }
            // the probe after apply took one id itself
            report(out, "program_ids_used_machine_wide", idsAfter - idsBefore - 1);

            floor(a, engine.attachMethod(), netns, instances, devices, topology, out);

            long t4 = System.nanoTime();
            engine.destroy();
            engine = null;
            report(out, "destroy_ms", ms(System.nanoTime() - t4));

            // ---- again, in the same (now warm) JVM: a new engine from nothing, in two steps: the
            // instances and the tree between them, then the device connections
            long t5 = System.nanoTime();
            engine = Engine.start(b, catalog());
            long t6 = System.nanoTime();
            Plan planned = engine.plan(topology);
            long t7 = System.nanoTime();
            engine.apply(topology(instances, 0, netns));
            long t8 = System.nanoTime();
            engine.apply(topology);
            long t8b = System.nanoTime();
            report(out, "again_start_ms", ms(t6 - t5));
            report(out, "again_plan_only_ms", ms(t7 - t6));
            report(out, "again_instances_ms", ms(t8 - t7));
            report(out, "again_devices_ms", ms(t8b - t8));
            report(out, "again_apply_ms", ms(t8b - t7));
            report(out, "again_plan_changes", planned.changes().size());
            long t9 = System.nanoTime();
            engine.destroy();
            engine = null;
            report(out, "again_destroy_ms", ms(System.nanoTime() - t9));
            return 0;
        } catch (RuntimeException e) {
            e.printStackTrace(out);
            return 1;
        } finally {
            if (engine != null) {
                EngineBenchSupport.destroyQuietly(engine, engine.options(), out);
            }
            out.flush();
        }
    }

    /**
     * The id the kernel gives the next program: it hands ids out cyclically, so loading a trivial
     * program and reading its id shows where the counter stands (the highest id still loaded does
     * not: the last programs made may be gone).
     */
    private static int nextProgramId() {
        ProgramSpec probe = ProgramSpec.of("id_probe", ProgramType.SCHED_CLS, null,
                new Asm().mov64(Register.R0, 0).exit().build());
        try (BpfProgram p = BpfProgram.load(probe)) {
            return p.id();
        }
    }

    /** The programs made since {@code idsBefore} that use one of this engine's shared maps, by name. */
    private static void countPrograms(EngineOptions options, int idsBefore, PrintStream out) {
        Set<Integer> sharedIds = new HashSet<>();
        for (String m : Sdk.SHARED_MAPS) {
            try (BpfMap map = BpfMap.openPinned(options.pinRoot().resolve("maps").resolve(m))) {
                sharedIds.add(map.id());
            }
        }
        Map<String, Integer> byName = new LinkedHashMap<>();
        for (int id : KernelObjects.programIds()) {
            if (id <= idsBefore) {
                continue;
            }
            ProgramInfo info;
            try (BpfProgram p = BpfProgram.fromId(id)) {
                info = p.info();
            } catch (RuntimeException e) {
                continue; // gone meanwhile: not ours
            }
            if (info.mapIds().stream().anyMatch(sharedIds::contains)) {
                byName.merge(info.name(), 1, Integer::sum);
            }
        }
        int total = byName.values().stream().mapToInt(Integer::intValue).sum();
        report(out, "programs_total", total);
        byName.forEach((n, c) -> report(out, "programs_named_" + n, c));
        // the patch panel: how many slots hold a program, and how many distinct programs they hold
        try (BpfMap patch = BpfMap.openPinned(options.pinRoot().resolve("maps").resolve("jv_patch_tc"))) {
            Set<Integer> distinct = new HashSet<>();
            int filled = 0;
            for (int i = 0; i < Sdk.MAX_SLOTS; i++) {
                var id = patch.programId(i);
                if (id.isPresent()) {
                    filled++;
                    distinct.add(id.get());
                }
            }
            report(out, "patch_slots_filled", filled);
            report(out, "patch_distinct_programs", distinct.size());
        }
    }

    /**
     * The kernel work of the same topology done by a bare loop: the module objects loaded once per
     * instance and the entry program once per device (both with the engine's shared maps, as the
     * engine loads them), the attachments made (by the engine's method), and the patch-panel and
     * port-map elements written (in maps of our own). Everything is closed again afterwards.
     */
    private static void floor(EngineOptions engine, io.jvisor.engine.AttachMethod engineAttach, String netns,
                              int instances, int devices, Topology topology, PrintStream out) {
        List<AutoCloseable> made = new ArrayList<>();
        try {
            Clang clang = Clang.find();
            Map<String, CollectionSpec> specs = new HashMap<>();
            for (String t : TYPES) {
                specs.put(t, EngineBenchSupport.only(ObjectFile.read(clang.compileString(
                        EngineBenchSupport.bpfSource(t + ".c"), t + ".c", List.of()).object()), "jv_tc"));
            }
            ModuleCode entryCode = ModuleCode.resource(Engine.class, "entry.c");
            CollectionSpec entry = EngineBenchSupport.only(ObjectFile.read(clang.compileString(entryCode.source(),
                    entryCode.fileName(), List.of()).object()), "jv_entry_tc");
            CollectionOptions o = CollectionOptions.DEFAULT;
            Map<String, BpfMap> sharedMaps = new HashMap<>();
            for (String m : Sdk.SHARED_MAPS) {
                BpfMap map = BpfMap.openPinned(engine.pinRoot().resolve("maps").resolve(m));
                made.add(map);
                sharedMaps.put(m, map);
                o = o.withReplacement(m, map);
            }
            // each object's BTF loaded once and shared by its copies, as the engine does
            Map<String, io.jvisor.bpf.btf.LoadedBtf> btf = new HashMap<>();
            for (String t : TYPES) {
                io.jvisor.bpf.btf.LoadedBtf b = Collection.loadBtf(specs.get(t), o);
                made.add(b);
                btf.put(t, b);
            }
            Map<String, Integer> ifindex = new HashMap<>();
            try (Netns ns = Netns.open(netns); Rtnl rtnl = Rtnl.open(ns)) {
                for (Link l : rtnl.links()) {
                    ifindex.put(l.name(), l.ifindex());
                }
            }
            BpfMap patch = BpfMap.create(MapSpec.progArray("floor_patch", Sdk.MAX_SLOTS));
            made.add(patch);
            BpfMap ports = BpfMap.create(MapSpec.array("floor_ports", 16, Sdk.MAX_SLOTS * Sdk.MAX_PORTS));
            made.add(ports);

            // As libbpf does it: map types that refuse BTF (the SDK's DEVMAP_HASH jv_flood_devs) are
            // created without it, here up front and handed in as a replacement.
            MapSpec flood = specs.get(TYPES.getFirst()).map("jv_flood_devs").orElseThrow().spec();
            long t0 = System.nanoTime();
            List<BpfProgram> progs = new ArrayList<>();
            Map<String, long[]> byType = new LinkedHashMap<>(); // type -> {nanos, count}
            for (int i = 0; i < instances; i++) {
                long s0 = System.nanoTime();
                String type = TYPES.get(i % TYPES.size());
                BpfMap devs = BpfMap.create(flood);
                made.add(devs);
                Collection c = Collection.load(specs.get(type).withConstant(Sdk.SLOT_CONSTANT, i),
                        o.withReplacement("jv_flood_devs", devs).withBtf(btf.get(type)));
                made.add(c);
                progs.add(c.program("jv_tc"));
                long[] acc = byType.computeIfAbsent(type, x -> new long[2]);
                acc[0] += System.nanoTime() - s0;
                acc[1]++;
            }
            long t1 = System.nanoTime();
            // the entry as the engine makes it: assembled, one BPF_PROG_LOAD each (EntryChoiceBench.asmEntry)
            List<BpfProgram> entries = new ArrayList<>();
            for (int d = 0; d < devices; d++) {
                BpfProgram p = BpfProgram.load(EntryChoiceBench.asmEntry(0, 0), sharedMaps, LoadOptions.DEFAULT);
                made.add(p);
                entries.add(p);
            }
            long t2 = System.nanoTime();
            List<BpfLink> links = new ArrayList<>();
            boolean netlink = engineAttach == io.jvisor.engine.AttachMethod.NETLINK;
            try (Netns ns = Netns.open(netns); Rtnl rtnl = Rtnl.open(ns)) {
                ns.run(() -> {
                    for (int d = 0; d < devices; d++) {
                        if (netlink) {
                            int ifi = ifindex.get(device(d));
                            rtnl.ensureClsact(ifi);
                            rtnl.attachTcFilter(io.jvisor.net.TcFilterSpec.of(ifi, io.jvisor.net.TcDirection.INGRESS,
                                    FLOOR_FILTER_PRIORITY, FLOOR_FILTER_HANDLE, entries.get(d)));
                            made.add(() -> {
                                try (Netns n2 = Netns.open(netns); Rtnl r2 = Rtnl.open(n2)) {
                                    r2.deleteTcFilter(ifi, io.jvisor.net.TcDirection.INGRESS, FLOOR_FILTER_PRIORITY,
                                            FLOOR_FILTER_HANDLE);
                                }
                            });
                        } else {
                            links.add(BpfLink.tcx(entries.get(d), ifindex.get(device(d)), TcxDirection.INGRESS));
                        }
                    }
                    return null;
                });
            } finally {
                made.addAll(links);
            }
            long t3 = System.nanoTime();
            for (int i = 0; i < instances; i++) {
                patch.setProgram(i, progs.get(i));
            }
            byte[] value = new byte[16];
            int writes = 2 * (instances - 1) + devices;
            for (int k = 0; k < writes; k++) {
                ports.update(EngineCostBench.u32(k), value);
            }
            long t4 = System.nanoTime();
            report(out, "floor_instance_loads_ms", ms(t1 - t0));
            report(out, "floor_entry_loads_ms", ms(t2 - t1));
            report(out, "floor_tcx_links_ms", ms(t3 - t2));
            report(out, "floor_map_writes_ms", ms(t4 - t3));
            report(out, "floor_total_ms", ms(t4 - t0));

            // Diagnostics: one object load as io.jvisor.bpf.elf.Collection does it (every map first
            // with BTF, then without when the kernel refuses), against the load above; and the
            // engine's way of resolving a device in a named namespace.
            int k = Math.min(instances, 10);
            long d0 = System.nanoTime();
            for (int i = 0; i < k; i++) {
                Collection c = Collection.load(specs.get(TYPES.get(i % TYPES.size())).withConstant(Sdk.SLOT_CONSTANT, i), o);
                made.add(c);
            }
            long d1 = System.nanoTime();
            for (int i = 0; i < k; i++) {
                Collection c = Collection.load(entry.withConstant(Sdk.SLOT_CONSTANT, 0)
                        .withConstant(Sdk.ENTRY_PORT_CONSTANT, 0), o);
                made.add(c);
            }
            long d2 = System.nanoTime();
            for (int i = 0; i < k; i++) {
                try (Netns ns = Netns.open(netns); Rtnl rtnl = Rtnl.open(ns)) {
                    rtnl.ifindex(device(i));
                }
            }
            long d3 = System.nanoTime();
            // tcx attaches wait for an RCU grace period each; from several threads the waits overlap.
            // The same entry programs again, so the sequential links go first (a program can be
            // attached to a hook once).
            for (BpfLink l : links) {
                l.close();
            }
            made.removeAll(links);
            List<BpfLink> parallel = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Netns> handles = new ArrayList<>();
            long d4;
            try {
                for (int h = 0; h < PARALLEL_ATTACH; h++) {
                    handles.add(Netns.open(netns));
                }
                long p0 = System.nanoTime();
                List<java.util.concurrent.CompletableFuture<Void>> jobs = new ArrayList<>();
                for (int h = 0; h < PARALLEL_ATTACH; h++) {
                    int first = h;
                    Netns ns = handles.get(h);
                    jobs.add(java.util.concurrent.CompletableFuture.runAsync(() -> ns.run(() -> {
                        for (int d = first; d < devices; d += PARALLEL_ATTACH) {
                            parallel.add(BpfLink.tcx(entries.get(d), ifindex.get(device(d)), TcxDirection.INGRESS));
                        }
                        return null;
                    })));
                }
                jobs.forEach(java.util.concurrent.CompletableFuture::join);
                d4 = System.nanoTime() - p0;
            } finally {
                made.addAll(parallel);
                made.addAll(handles);
            }
            report(out, "diag_tcx_links_parallel_ms", ms(d4));
            report(out, "diag_instance_load_ms_each", ms(t1 - t0) / instances);
            byType.forEach((type, acc) -> report(out, "diag_load_ms_each_" + type, ms(acc[0]) / acc[1]));
            report(out, "diag_instance_load_btf_retry_ms_each", ms(d1 - d0) / k);
            report(out, "diag_entry_load_ms_each", ms(t2 - t1) / devices);
            report(out, "diag_entry_load_btf_retry_ms_each", ms(d2 - d1) / k);
            report(out, "diag_tcx_link_ms_each", ms(t3 - t2) / devices);
            report(out, "diag_netns_resolve_ms_each", ms(d3 - d2) / k);
            if (topology.connections().size() != instances - 1 + devices) {
                throw new IllegalStateException("topology and floor disagree");
            }
        } catch (io.jvisor.bpf.toolchain.CompileException e) {
            throw new IllegalStateException(e);
        } finally {
            EngineBenchSupport.closeAll(made, out, "floor: ");
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static void report(PrintStream out, String key, double value) {
        out.println("result " + key + "=" + String.format(Locale.ROOT, "%.3f", value));
    }

    // ---- report ----------------------------------------------------------------------------------

    public static void printReport(Result r, PrintStream out) {
        Config c = r.config();
        out.println();
        EngineBenchSupport.printMachine(out, r.loadBefore(), r.loadAfter());
        out.printf(Locale.ROOT, "== apply from nothing: %d instances (%s), %d connections (%d instance-instance, %d"
                + " device); %d rounds, each a fresh JVM (round 1 with an empty clang cache)%s%n", c.instances(),
                String.join(" + ", TYPES), c.connections(), c.treeEdges(), c.devices(), c.rounds(),
                c.smoke() ? ". SMOKE RUN: a small topology, checks the harness only." : "");
        out.println();
        out.println("| round | clang cache | Engine.start ms | apply ms | clang compilations | programs loaded (instance + entry) |"
                + " program ids used machine-wide | floor ms | apply / floor | destroy ms |");
        out.println("| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        int i = 1;
        for (Round round : r.rounds()) {
            out.printf(Locale.ROOT, "| %d | %s | %.0f | **%.0f** | %d | %d (%d + %d) | %d | %.0f | %.2f | %.0f |%n",
                    i++, round.coldCache() ? "cold" : "warm", round.get("start_ms"), round.get("apply_ms"),
                    round.clangCompilations(), (int) round.get("programs_total"),
                    round.figures().getOrDefault("programs_named_jv_tc", 0.0).intValue(),
                    round.figures().getOrDefault("programs_named_jv_entry_tc", 0.0).intValue(),
                    (int) round.get("program_ids_used_machine_wide"), round.get("floor_total_ms"),
                    round.get("apply_ms") / round.get("floor_total_ms"), round.get("destroy_ms"));
        }
        out.println();
        out.println("The same JVM again, a second engine from nothing in two applies (instances with the tree, then the"
                + " device connections), against the floor's parts:");
        out.println();
        out.println("| round | plan only ms | instances + tree ms | floor: instance loads ms | devices ms |"
                + " floor: entry loads + attachments ms | total ms | destroy ms |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        i = 1;
        for (Round round : r.rounds()) {
            out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |%n", i++,
                    round.get("again_plan_only_ms"), round.get("again_instances_ms"), round.get("floor_instance_loads_ms"),
                    round.get("again_devices_ms"), round.get("floor_entry_loads_ms") + round.get("floor_tcx_links_ms"),
                    round.get("again_apply_ms"), round.get("again_destroy_ms"));
        }
        out.println();
        out.println("Floor (the same kernel work by a bare loop), per round:");
        out.println();
        out.println("| round | instance loads ms | entry loads ms | attachments (the engine's method) ms | map writes ms | total ms |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
        i = 1;
        for (Round round : r.rounds()) {
            out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.0f | %.1f | %.0f |%n", i++,
                    round.get("floor_instance_loads_ms"), round.get("floor_entry_loads_ms"),
                    round.get("floor_tcx_links_ms"), round.get("floor_map_writes_ms"), round.get("floor_total_ms"));
        }
        out.println();
        out.println("Per object, ms each (loads: as libbpf does them, devmap without BTF / as io.jvisor.bpf.elf.Collection"
                + " does them, BTF first then a retry without; a device resolved the engine's way: Netns.open +"
                + " Rtnl.open + ifindex):");
        out.println();
        out.println("| round | relay8 load | hub8 load | instance load (mean) | instance load, BTF retry | entry load |"
                + " entry load, BTF retry | attachment | netns resolve | all tcx links from " + PARALLEL_ATTACH
                + " threads, ms total |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        i = 1;
        for (Round round : r.rounds()) {
            out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |%n", i++,
                    round.figures().getOrDefault("diag_load_ms_each_relay8", Double.NaN),
                    round.figures().getOrDefault("diag_load_ms_each_hub8", Double.NaN),
                    round.get("diag_instance_load_ms_each"), round.get("diag_instance_load_btf_retry_ms_each"),
                    round.get("diag_entry_load_ms_each"), round.get("diag_entry_load_btf_retry_ms_each"),
                    round.get("diag_tcx_link_ms_each"), round.get("diag_netns_resolve_ms_each"),
                    round.get("diag_tcx_links_parallel_ms"));
        }
        out.println();
        Round first = r.rounds().getFirst();
        out.println("clang calls in round 1 (cold cache; `--version` is the driver probe, `-c` a compilation):");
        out.println();
        for (String call : first.clangCalls()) {
            String shown = call.contains(" -c ") ? "compile " + call.substring(call.indexOf(" -c ") + 4).split(" ")[0]
                    : call;
            out.println("- " + shown);
        }
        out.println();
        out.printf(Locale.ROOT, "Patch panel after apply (round 1): %d slots filled, %d distinct programs.%n",
                (int) first.get("patch_slots_filled"), (int) first.get("patch_distinct_programs"));
        out.printf(Locale.ROOT, "Instructions the verifier processed per load: relay8 %.0f, hub8 %.0f, device entry %.0f.%n",
                first.figures().getOrDefault("verified_insns_relay8", Double.NaN),
                first.figures().getOrDefault("verified_insns_hub8", Double.NaN),
                first.figures().getOrDefault("verified_insns_entry", Double.NaN));
    }
}

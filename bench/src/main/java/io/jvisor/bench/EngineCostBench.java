package io.jvisor.bench;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.Topology;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The engine's per-packet cost, measured with BPF_PROG_TEST_RUN against hand-written tc programs
 * in the same run.
 *
 * <p>A real {@link Engine} (tc hook) runs chains of 1, 2, 4 and 8 instances of the SDK forwarder
 * ({@code bpf/forwarder.c}, the engine tests' module), each chain wired from device {@code aK} to
 * device {@code bK} of a veth pair in a namespace of our own. A packet enters a chain the way a
 * real one does: through the device's entry program (the engine pins it at
 * {@code dev/NETNS_aK/prog}), which writes the metadata into the skb control block and tail-calls
 * into the first instance; each instance forwards port 0 to port 1, to the next instance by a
 * tail call of constant key through its own program array {@code jv_next} (a direct jump), and
 * the last one to the device by {@code bpf_redirect}. The
 * verdict is TC_ACT_REDIRECT, the redirect itself is not carried out by a test run.
 *
 * <p>The peers ({@code bpf/tc_peers.c}) are what a user writes by hand: a forwarder (load-time
 * ingress port, array lookup of the peer, redirect), the same with the per-port counters the
 * framework keeps, hand-written tail-call pipelines of the same lengths whose next stage is a
 * load-time constant (a direct jump), read from a map (an indirect jump, as jvisor's patch panel
 * does) or picked by a switch over the out port among direct jumps (jvisor's way; also with the
 * per-stage rx/tx counters jvisor keeps, ending in the counted forwarder), and an empty program that
 * shows what the test-run loop itself costs. A jvisor instance keeps per-port rx/tx counters, so
 * the forwarder with the same counters is its fair peer; the report compares with both.
 *
 * <p>Each round runs every subject once, {@code repeat} times in the kernel, in a shuffled order;
 * the figure of a run is the kernel's mean ns per run. Ratios are taken within a round, then the
 * median over rounds is reported.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.EngineCostBench \
 *     [--smoke] [--rounds N] [--repeat N] [--verbose]
 * </pre>
 */
public final class EngineCostBench {
    /** TC_ACT_REDIRECT: what every subject must return. */
    static final int TC_ACT_REDIRECT = 7;
    /** sizeof(struct __sk_buff) on Linux 6.x; the kernel copies the whole context out. */
    static final int SKB_CTX_SIZE = 192;
    static final int SKB_CB_OFFSET = 48;

    /** How long to run. */
    public record Config(boolean smoke, int rounds, int repeat, List<Integer> chains, boolean verbose) {
        public static Config fullRun() {
            return new Config(false, 151, 100_000, List.of(1, 2, 4, 8), false);
        }

        public static Config smokeRun() {
            return new Config(true, 5, 5_000, List.of(1, 2, 4, 8), false);
        }

        public Config withRounds(int n) {
            return new Config(smoke, n, repeat, chains, verbose);
        }

        public Config withRepeat(int n) {
            return new Config(smoke, rounds, n, chains, verbose);
        }

        public Config withVerbose(boolean v) {
            return new Config(smoke, rounds, repeat, chains, v);
        }
    }

    /** The figures: ns per packet of each subject, one per round, in round order. */
    public record Result(Config config, Map<String, double[]> ns, Map<String, String> sizes, List<String> checks,
                         String loadBefore, String loadAfter) implements CostFigures {
        /** The least-squares ns per extra hop of a family of chains, within each round. */
        public double[] perHop(String family) {
            List<Integer> ks = config.chains();
            double[] x = ks.stream().mapToDouble(Integer::doubleValue).toArray();
            double[] out = new double[config.rounds()];
            for (int r = 0; r < out.length; r++) {
                double[] y = new double[ks.size()];
                for (int i = 0; i < ks.size(); i++) {
                    y[i] = ns.get(family + ks.get(i))[r];
                }
                out[r] = EngineBenchSupport.slope(x, y);
            }
            return out;
        }
    }

    private EngineCostBench() {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("EngineCostBench", "[--smoke] [--rounds N] [--repeat N] [--verbose]", args,
                List.of("--smoke", "--verbose"), List.of("--rounds", "--repeat"));
        if (a == null) {
            return;
        }
        Config config = a.has("--smoke") ? Config.smokeRun() : Config.fullRun();
        config = config.withRounds(a.intOr("--rounds", config.rounds())).withRepeat(a.intOr("--repeat", config.repeat()));
        Result r = run(config.withVerbose(a.has("--verbose")), System.out);
        printReport(r, System.out);
    }

    /** A program under test and the context it is run with. */
    private record Subject(String name, BpfProgram program, byte[] context) {}

    /**
     * Sets up the engine chains and the C peers, checks every subject's verdict, runs the rounds,
     * checks the engine's counters, and removes everything it made, on failure too.
     */
    public static Result run(Config config, PrintStream log) {
        String loadBefore = EngineBenchSupport.loadAverage();
        List<AutoCloseable> closeLater = new ArrayList<>();
        Engine engine = null;
        EngineOptions options = EngineBenchSupport.engineOptions("jvbc");
        int pairs = config.chains().size();
        EngineBenchSupport.ScratchNetns ns = null;
        try {
            ns = EngineBenchSupport.ScratchNetns.create("jvbc", pairs);
            // ---- the engine's chains
            ModuleCatalog catalog = new ModuleCatalog();
            catalog.register(ModuleType.fromSource("forwarder", EngineBenchSupport.bpfSource("forwarder.c"), 2));
            Topology.Builder tb = Topology.builder();
            for (int c = 0; c < pairs; c++) {
                int k = config.chains().get(c);
                for (int i = 0; i < k; i++) {
                    tb.instance(inst(k, i), "forwarder");
                }
                tb.connect(inst(k, 0) + ":0", ns.endpoint("a" + c));
                for (int i = 0; i + 1 < k; i++) {
                    tb.connect(inst(k, i) + ":1", inst(k, i + 1) + ":0");
                }
                tb.connect(inst(k, k - 1) + ":1", ns.endpoint("b" + c));
            }
            log.println("== engine " + options.name() + ": chains of " + config.chains()
                    + " SDK forwarders, devices in namespace " + ns.name());
            engine = Engine.start(options, catalog);
            engine.apply(tb.build());

            List<Subject> subjects = new ArrayList<>();
            for (int c = 0; c < pairs; c++) {
                int k = config.chains().get(c);
                BpfProgram entry = BpfProgram.openPinned(EngineBenchSupport.entryPin(options, ns.name(), "a" + c));
                closeLater.add(entry);
                subjects.add(new Subject("jvisor_chain_" + k, entry, null));
            }
            // The first instance alone, entered as the entry program leaves it: in_port 0 in cb[0].
            BpfProgram instance = BpfProgram.fromId(engine.programId(inst(config.chains().getFirst(), 0)));
            closeLater.add(instance);
            subjects.add(new Subject("jvisor_instance", instance, skbWithInPort(0)));

            // ---- the hand-written peers
            int target = ns.ifindex("b0");
            subjects.addAll(loadPeers(config, target, closeLater));

            byte[] frame = frame();
            for (Subject s : subjects) {
                TestRun.Result once = s.program.testRun(TestRun.of(frame).withContext(s.context).withRepeat(1));
                if (once.returnValue() != TC_ACT_REDIRECT) {
                    throw new IllegalStateException(s.name + " returned " + once.returnValue()
                            + ", not TC_ACT_REDIRECT (7): the path is not what this benchmark means to measure");
                }
            }
            log.printf(Locale.ROOT, "== %d subjects, each returns TC_ACT_REDIRECT; %d rounds of %d runs each%s%n",
                    subjects.size(), config.rounds(), config.repeat(),
                    config.smoke() ? " (SMOKE RUN: too short to compare, checks the harness only)" : "");

            Map<String, double[]> perPacket = EngineBenchSupport.shuffledRounds(subjects, Subject::name,
                    s -> s.program.testRun(TestRun.of(frame).withContext(s.context).withRepeat(config.repeat())).durationNs(),
                    config.rounds(), config.verbose() ? log : null);

            List<String> checks = checkCounters(engine, config);
            checks.forEach(c -> log.println("== check: " + c));
            Map<String, String> sizes = EngineBenchSupport.programSizes(subjects, s -> s.program.info().name(), Subject::program);
            return new Result(config, perPacket, sizes, checks, loadBefore, EngineBenchSupport.loadAverage());
        } finally {
            EngineBenchSupport.closeAll(closeLater, log, "== ");
            EngineBenchSupport.tearDown(engine, options, ns, log);
        }
    }

    static String inst(int chain, int i) {
        return "c" + chain + "_" + i;
    }

    /**
     * Every instance of every chain counted every test run as rx on port 0 and tx on port 1: the
     * whole chain ran each time, no tail call was missed and nothing was dropped.
     */
    private static List<String> checkCounters(Engine engine, Config config) {
        List<String> out = new ArrayList<>();
        long perSubject = 1 + (long) config.rounds() * config.repeat();
        for (int k : config.chains()) {
            for (int i = 0; i < k; i++) {
                long expect = perSubject + (k == config.chains().getFirst() && i == 0 ? perSubject : 0);
                String name = inst(k, i);
                long rx = engine.stats(name, 0).rxPackets();
                long tx = engine.stats(name, 1).txPackets();
                if (rx != expect || tx != expect || engine.missedTailCalls(name) != 0 || !engine.drops(name).isEmpty()) {
                    throw new IllegalStateException("instance " + name + " counted rx " + rx + ", tx " + tx
                            + ", missed tail calls " + engine.missedTailCalls(name) + ", drops " + engine.drops(name)
                            + "; expected " + expect + " runs through it");
                }
            }
        }
        out.add("every instance counted exactly one rx and one tx per test run (" + perSubject
                + " runs per chain), no missed tail calls, no drops");
        return out;
    }

    /**
     * Loads the hand-written peers: the forwarder, the counted forwarder, and tail-call pipelines
     * (direct and map-indexed) of each chain length above 1, all redirecting to {@code target}.
     */
    private static List<Subject> loadPeers(Config config, int target, List<AutoCloseable> closeLater) {
        CollectionSpec spec = EngineBenchSupport.compile("tc_peers.c");
        Map<String, BpfMap> shared = new LinkedHashMap<>();
        for (String m : List.of("peers", "stats", "stages", "next_of")) {
            BpfMap map = BpfMap.create(spec.map(m).orElseThrow().spec());
            closeLater.add(map);
            shared.put(m, map);
        }
        CollectionOptions opts = CollectionOptions.DEFAULT;
        for (var e : shared.entrySet()) {
            opts = opts.withReplacement(e.getKey(), e.getValue());
        }
        // port 0's program sends to port 1's peer
        shared.get("peers").update(u32(1), ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(target)
                .putInt(0).array());
        List<Subject> out = new ArrayList<>();
        BpfProgram fwd = load(EngineBenchSupport.only(spec, "fwd").withConstant("in_port", 0), "fwd", opts, closeLater);
        out.add(new Subject("c_fwd", fwd, null));
        out.add(new Subject("c_fwd_counted", load(EngineBenchSupport.only(spec, "fwd_counted")
                .withConstant("in_port", 0), "fwd_counted", opts, closeLater), null));
        BpfProgram fwdCounted = out.get(1).program();
        out.add(new Subject("c_nop", load(EngineBenchSupport.only(spec, "nop"), "nop", opts, closeLater), null));
        int next = 0;
        int counted = 1; // stats keys 2 * counted and up; 0 and 1 are fwd_counted's
        for (String family : List.of("c_chain_direct_", "c_chain_map_", "c_chain_switch_", "c_chain_switch_counted_")) {
            BpfProgram last = family.equals("c_chain_switch_counted_") ? fwdCounted : fwd;
            for (int k : config.chains()) {
                if (k == 1) {
                    out.add(new Subject(family + 1, last, null));
                    continue;
                }
                int base = next;
                next += k;
                // built from the last stage back, so that each stage can be pointed at its successor
                BpfProgram following = last;
                for (int i = k - 2; i >= 0; i--) {
                    int slot = base + i;
                    BpfProgram p;
                    switch (family) {
                        case "c_chain_direct_" -> {
                            p = load(EngineBenchSupport.only(spec, "stage").withConstant("next_stage", slot + 1),
                                    "stage", opts, closeLater);
                            shared.get("stages").setProgram(slot + 1, following);
                        }
                        case "c_chain_map_" -> {
                            p = load(EngineBenchSupport.only(spec, "stage_dyn").withConstant("my_stage", slot),
                                    "stage_dyn", opts, closeLater);
                            shared.get("stages").setProgram(slot + 1, following);
                            shared.get("next_of").update(u32(slot), u32(slot + 1));
                        }
                        case "c_chain_switch_" -> {
                            // its own out_ports map: not among the replacements, so each load makes one
                            Collection c = Collection.load(EngineBenchSupport.only(spec, "stage_switch"), opts);
                            closeLater.add(c);
                            c.map("out_ports").setProgram(1, following);
                            p = c.program("stage_switch");
                        }
                        default -> {
                            Collection c = Collection.load(EngineBenchSupport.only(spec, "stage_switch_counted")
                                    .withConstant("my_stage", counted++), opts);
                            closeLater.add(c);
                            c.map("out_ports").setProgram(1, following);
                            p = c.program("stage_switch_counted");
                        }
                    }
                    following = p;
                }
                out.add(new Subject(family + k, following, null));
            }
        }
        return out;
    }

    private static BpfProgram load(CollectionSpec spec, String program, CollectionOptions opts,
                                   List<AutoCloseable> closeLater) {
        Collection c = Collection.load(spec, opts);
        closeLater.add(c);
        return c.program(program);
    }

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** A struct __sk_buff for ctx_in with cb[0] (the SDK's in_port) set; everything else zero. */
    static byte[] skbWithInPort(int inPort) {
        return ByteBuffer.allocate(SKB_CTX_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(SKB_CB_OFFSET, inPort).array();
    }

    /** A 64-byte Ethernet + IPv4 + UDP frame (checksums are not checked by anyone here). */
    static byte[] frame() {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.put(new byte[] {0x02, 0, 0, 0, 0, 2}).put(new byte[] {0x02, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 50).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(new byte[] {10, 0, 0, 1})
                .put(new byte[] {10, 0, 0, 2});
        b.putShort((short) 40000).putShort((short) 5201).putShort((short) 30).putShort((short) 0);
        return b.array();
    }

    // ---- report ----------------------------------------------------------------------------------

    public static void printReport(Result r, PrintStream out) {
        Config c = r.config();
        out.println();
        EngineBenchSupport.printMachine(out, r.loadBefore(), r.loadAfter());
        out.printf(Locale.ROOT, "== BPF_PROG_TEST_RUN (tc), 64-byte frame, %d rounds x %d runs per subject, shuffled "
                + "order each round; ns/packet is the kernel's mean per run (whole ns), median over rounds; ratios are "
                + "taken within a round, then the median.%s%n", c.rounds(), c.repeat(),
                c.smoke() ? " SMOKE RUN: too short to compare, checks the harness only." : "");
        out.println();
        out.println("Per-packet cost, one forwarder (net: minus the test-run harness's own cost, c_nop, within each round):");
        out.println();
        out.println("| path | ns/packet | p25-p75 | vs c_fwd | p25-p75 | net ns | net vs c_fwd |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String s : List.of("c_nop", "c_fwd", "c_fwd_counted", "jvisor_instance", "jvisor_chain_" + c.chains().getFirst())) {
            out.println(r.costRow(label(s), s, "c_fwd", 3));
        }
        out.println();
        out.println("The same against the C forwarder with the per-CPU rx/tx counters a jvisor instance keeps too (the fair"
                + " peer):");
        out.println();
        out.println("| path | ns/packet | p25-p75 | vs c_fwd_counted | p25-p75 | net ns | net vs c_fwd_counted |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String s : List.of("c_fwd_counted", "jvisor_instance", "jvisor_chain_" + c.chains().getFirst())) {
            out.println(r.costRow(label(s), s, "c_fwd_counted", 3));
        }
        out.println();
        out.println("Chains (ns/packet, median over rounds; a jvisor chain of N is the device entry and N instances, N tail"
                + " calls; a C pipeline of N is N programs, N-1 tail calls, the last one the C forwarder):");
        out.println();
        out.println("| instances | jvisor | C, direct tail calls | C, map-indexed tail calls | C, per-port switch of direct tail calls"
                + " | C, the same + rx/tx counters |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int k : c.chains()) {
            out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.1f | %.1f | %.1f |%n", k, r.median("jvisor_chain_" + k),
                    r.median("c_chain_direct_" + k), r.median("c_chain_map_" + k), r.median("c_chain_switch_" + k),
                    r.median("c_chain_switch_counted_" + k));
        }
        out.println();
        out.println("Cost of one extra hop (least-squares slope over " + c.chains() + " within each round):");
        out.println();
        List<Integer> ks = c.chains();
        StringBuilder head = new StringBuilder("| chain | ns per extra hop | p25-p75 |");
        StringBuilder rule = new StringBuilder("| --- | ---: | ---: |");
        for (int i = 1; i < ks.size(); i++) {
            head.append(" ").append(ks.get(i - 1)).append(" to ").append(ks.get(i)).append(", per hop |");
            rule.append(" ---: |");
        }
        out.println(head);
        out.println(rule);
        for (String f : FAMILIES) {
            double[] h = r.perHop(f);
            double[] q = EngineBenchSupport.quartiles(h);
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | **%.2f** | %.2f-%.2f |", label(f),
                    EngineBenchSupport.median(h), q[0], q[1]));
            for (int i = 1; i < ks.size(); i++) {
                double[] a = r.ns().get(f + ks.get(i - 1));
                double[] b = r.ns().get(f + ks.get(i));
                double[] seg = new double[a.length];
                for (int j = 0; j < a.length; j++) {
                    seg[j] = (b[j] - a[j]) / (ks.get(i) - ks.get(i - 1));
                }
                row.append(String.format(Locale.ROOT, " %.1f |", EngineBenchSupport.median(seg)));
            }
            out.println(row);
        }
        out.println();
        out.println(EngineBenchSupport.sizesLine("Program sizes (kernel's view)", r.sizes()));
        out.println();
        EngineBenchSupport.printChecks(out, r.checks());
    }

    static final List<String> FAMILIES = List.of("jvisor_chain_", "c_chain_direct_", "c_chain_map_", "c_chain_switch_",
            "c_chain_switch_counted_");

    static String label(String s) {
        return switch (s) {
            case "c_fwd" -> "C forwarder (ingress port constant, array lookup, redirect)";
            case "c_fwd_counted" -> "C forwarder + per-CPU rx/tx counters";
            case "jvisor_instance" -> "jvisor forwarder instance alone (cb[0] = in_port via ctx_in)";
            case "jvisor_chain_" -> "jvisor (device entry, then instances by direct tail calls)";
            case "c_chain_direct_" -> "C pipeline, next stage a constant (direct tail call)";
            case "c_chain_map_" -> "C pipeline, next stage read from a map (indirect tail call)";
            case "c_chain_switch_" -> "C pipeline, out port at run time, switch of direct tail calls (per-stage prog array)";
            case "c_chain_switch_counted_" -> "the same, with per-CPU rx/tx counters in every stage (the fair peer)";
            case "c_nop" -> "C `return TC_ACT_REDIRECT` (the harness's own cost)";
            default -> s.startsWith("jvisor_chain_")
                    ? "jvisor device entry + forwarder (" + s.substring("jvisor_chain_".length()) + " instance, as a packet enters)"
                    : s;
        };
    }
}

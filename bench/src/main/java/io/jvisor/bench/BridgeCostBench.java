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
import io.jvisor.engine.Topology;
import io.jvisor.modules.bridge.Bridge;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bridge module's per-packet cost to a learned destination, measured with BPF_PROG_TEST_RUN
 * against a minimal hand-written C learning bridge ({@code bpf/c_bridge.c}) in the same run.
 *
 * <p>A real {@link Engine} (tc hook) runs one {@code bridge} instance with four ports wired to the
 * devices {@code a0, b0, a1, b1} of a namespace of our own. The destination MAC is learned on port
 * 1 ({@code b0}) before the runs, and the source MAC is learned on port 0 by the first run. A test
 * packet enters as a real one does: through the device entry program the engine attached to
 * {@code a0}, which tail-calls into the instance; the bridge learns (refreshes) the source, finds
 * the destination and {@code bpf_redirect}s to {@code b0}. The instance is also run alone, with
 * {@code cb[0]} (the SDK's in_port) 0 in {@code ctx_in}.
 *
 * <p>The hand-written bridge learns the source MAC on the ingress ifindex ({@code ctx_in}'s
 * {@code ingress_ifindex} is {@code a0}'s), finds the destination (learned on {@code b0}) and
 * redirects. {@code c_bridge} is the minimal one (no aging); {@code c_bridge_aging} adds what
 * jvisor's bridge also does per frame (last-seen time, aging check, static table). Every subject
 * must return TC_ACT_REDIRECT: a flood returns TC_ACT_SHOT in C, and jvisor's flood counts tx on
 * the other ports, which is checked to be zero at the end. {@code c_nop} shows the test-run loop's
 * own cost.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.BridgeCostBench \
 *     [--smoke] [--rounds N] [--repeat N] [--verbose]
 * </pre>
 */
public final class BridgeCostBench {
    static final int TC_ACT_REDIRECT = 7;
    static final int SKB_CTX_SIZE = 192;
    static final int SKB_INGRESS_IFINDEX_OFFSET = 36;
    static final int SKB_CB_OFFSET = 48;
    static final String SRC_MAC = "02:00:00:00:00:01";
    static final String DST_MAC = "02:00:00:00:00:02";

    /** The subjects, in report order. */
    public static final List<String> SUBJECTS = List.of("c_nop", "c_bridge", "c_bridge_aging", "jvisor_bridge_instance",
            "jvisor_bridge");
    /** The C bridge with one part at a time: where the time of aging and statics goes. */
    public static final List<String> BREAKDOWN = List.of("c_bridge_time", "c_bridge_coarse_time", "c_bridge_jiffies_time",
            "c_bridge_static", "c_bridge_aging_coarse", "c_bridge_aging_jiffies");

    /** How long to run. */
    public record Config(boolean smoke, int rounds, int repeat, boolean verbose) {
        public static Config fullRun() {
            return new Config(false, 151, 100_000, false);
        }

        public static Config smokeRun() {
            return new Config(true, 5, 5_000, false);
        }
    }

    /** The figures: ns per packet of each subject, one per round. */
    public record Result(Config config, Map<String, double[]> ns, Map<String, String> sizes, List<String> checks,
                         String loadBefore, String loadAfter) implements CostFigures {}

    private BridgeCostBench() {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("BridgeCostBench", "[--smoke] [--rounds N] [--repeat N] [--verbose]", args,
                List.of("--smoke", "--verbose"), List.of("--rounds", "--repeat"));
        if (a == null) {
            return;
        }
        Config c = a.has("--smoke") ? Config.smokeRun() : Config.fullRun();
        c = new Config(c.smoke(), a.intOr("--rounds", c.rounds()), a.intOr("--repeat", c.repeat()), a.has("--verbose"));
        Result r = run(c, System.out);
        printReport(r, System.out);
    }

    private record Subject(String name, BpfProgram program) {}

    /**
     * Sets up the engine's bridge and the C bridges, checks every subject's verdict, runs the
     * rounds, checks the bridge instance's counters, and removes everything it made, on failure too.
     */
    public static Result run(Config config, PrintStream log) {
        String loadBefore = EngineBenchSupport.loadAverage();
        List<AutoCloseable> closeLater = new ArrayList<>();
        Engine engine = null;
        EngineOptions options = EngineBenchSupport.engineOptions("jvbb");
        EngineBenchSupport.ScratchNetns ns = null;
        try {
            ns = EngineBenchSupport.ScratchNetns.create("jvbb", 2);
            List<String> devs = List.of("a0", "b0", "a1", "b1");
            Topology.Builder tb = Topology.builder().instance("br", "bridge", Map.of());
            for (int p = 0; p < devs.size(); p++) {
                tb.connect("br:" + p, ns.endpoint(devs.get(p)));
            }
            log.println("== engine " + options.name() + ": one bridge instance, ports 0-3 on a0 b0 a1 b1 in namespace "
                    + ns.name());
            engine = Engine.start(options, ModuleCatalog.discover());
            engine.apply(tb.build());
            Bridge.learn(engine, "br", DST_MAC, 0, 1);

            int[] ifindex = new int[devs.size()];
            for (int p = 0; p < devs.size(); p++) {
                ifindex[p] = ns.ifindex(devs.get(p));
            }
            List<Subject> subjects = new ArrayList<>();
            CollectionSpec peers = EngineBenchSupport.compile("tc_peers.c");
            Collection nop = Collection.load(EngineBenchSupport.only(peers, "nop"), CollectionOptions.DEFAULT);
            closeLater.add(nop);
            subjects.add(new Subject("c_nop", nop.program("nop")));

            CollectionSpec cb = EngineBenchSupport.compile("c_bridge.c");
            Map<String, BpfMap> cMaps = new LinkedHashMap<>();
            for (String m : List.of("c_fdb", "c_fdb_static", "c_ports")) {
                BpfMap map = BpfMap.create(cb.map(m).orElseThrow().spec());
                closeLater.add(map);
                cMaps.put(m, map);
            }
            CollectionOptions opts = CollectionOptions.DEFAULT;
            for (var e : cMaps.entrySet()) {
                opts = opts.withReplacement(e.getKey(), e.getValue());
            }
            for (int p = 0; p < devs.size(); p++) {
                cMaps.get("c_ports").update(EngineCostBench.u32(p), EngineCostBench.u32(ifindex[p]));
            }
            // the destination learned on b0, seen now (CLOCK_MONOTONIC, as bpf_ktime_get_ns)
            cMaps.get("c_fdb").update(macKey(DST_MAC), ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(ifindex[1]).putInt(0).putLong(System.nanoTime()).array());
            Collection minimal = Collection.load(EngineBenchSupport.only(cb, "c_bridge"), opts);
            closeLater.add(minimal);
            subjects.add(new Subject("c_bridge", minimal.program("c_bridge")));
            // name, use_time (0 none, 1 bpf_ktime_get_ns, 2 bpf_ktime_get_coarse_ns, 3 bpf_jiffies64), use_static
            for (Object[] v : new Object[][] {{"c_bridge_aging", 1, 1}, {"c_bridge_time", 1, 0},
                {"c_bridge_coarse_time", 2, 0}, {"c_bridge_jiffies_time", 3, 0}, {"c_bridge_static", 0, 1}, {"c_bridge_aging_coarse", 2, 1},
                {"c_bridge_aging_jiffies", 3, 1}}) {
                Collection c = Collection.load(EngineBenchSupport.only(cb, "c_bridge_aging")
                        .withConstant("use_time", (Integer) v[1]).withConstant("use_static", (Integer) v[2]), opts);
                closeLater.add(c);
                subjects.add(new Subject((String) v[0], c.program("c_bridge_aging")));
            }

            BpfProgram instance = BpfProgram.fromId(engine.programId("br"));
            closeLater.add(instance);
            subjects.add(new Subject("jvisor_bridge_instance", instance));
            BpfProgram entry = BpfProgram.openPinned(EngineBenchSupport.entryPin(options, ns.name(), "a0"));
            closeLater.add(entry);
            subjects.add(new Subject("jvisor_bridge", entry));

            // every subject gets the same context: ingress a0 (the C bridges' port), cb[0] = in_port 0
            byte[] ctx = ByteBuffer.allocate(SKB_CTX_SIZE).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(SKB_INGRESS_IFINDEX_OFFSET, ifindex[0]).putInt(SKB_CB_OFFSET, 0).array();
            byte[] frame = EngineCostBench.frame(); // 02:..:01 -> 02:..:02, IPv4/UDP, 64 bytes
            for (Subject s : subjects) {
                TestRun.Result once = s.program.testRun(TestRun.of(frame).withContext(ctx).withRepeat(1));
                if (once.returnValue() != TC_ACT_REDIRECT) {
                    throw new IllegalStateException(s.name + " returned " + once.returnValue()
                            + ", not TC_ACT_REDIRECT (7): the learned destination is not what it found");
                }
            }
            List<String> checks = new ArrayList<>();
            checkLearned(engine, cMaps.get("c_fdb"), ifindex, checks);
            log.printf(Locale.ROOT, "== %d subjects, each returns TC_ACT_REDIRECT; %d rounds of %d runs each%s%n",
                    subjects.size(), config.rounds(), config.repeat(),
                    config.smoke() ? " (SMOKE RUN: too short to compare, checks the harness only)" : "");

            Map<String, double[]> perPacket = EngineBenchSupport.shuffledRounds(subjects, Subject::name,
                    s -> s.program.testRun(TestRun.of(frame).withContext(ctx).withRepeat(config.repeat())).durationNs(),
                    config.rounds(), config.verbose() ? log : null);
            checkCounters(engine, config, checks);
            checks.forEach(c -> log.println("== check: " + c));
            Map<String, String> sizes = EngineBenchSupport.programSizes(subjects, s -> s.program.info().name(), Subject::program);
            return new Result(config, perPacket, sizes, checks, loadBefore, EngineBenchSupport.loadAverage());
        } finally {
            EngineBenchSupport.closeAll(closeLater, log, "== ");
            EngineBenchSupport.tearDown(engine, options, ns, log);
        }
    }

    /** Both bridges learned the source on the ingress port, and hold the destination on port 1 / b0. */
    private static void checkLearned(Engine engine, BpfMap cFdb, int[] ifindex, List<String> checks) {
        var src = Bridge.lookup(engine, "br", SRC_MAC, 0).orElseThrow(() -> new IllegalStateException(
                "the jvisor bridge did not learn " + SRC_MAC));
        var dst = Bridge.lookup(engine, "br", DST_MAC, 0).orElseThrow();
        if (src.port() != 0 || dst.port() != 1) {
            throw new IllegalStateException("jvisor FDB: " + src + ", " + dst);
        }
        int cSrc = cFdb.lookup(macKey(SRC_MAC)).map(v -> ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getInt(0))
                .orElse(0);
        if (cSrc != ifindex[0]) {
            throw new IllegalStateException("the C bridge learned " + SRC_MAC + " on ifindex " + cSrc + ", not "
                    + ifindex[0]);
        }
        checks.add("both bridges learned the source on the ingress port (jvisor port 0, C ifindex of a0) and hold the "
                + "destination on port 1 / b0");
    }

    /** The instance counted every run as rx on port 0 and tx on port 1 only: no flood, no drop, no missed tail call. */
    private static void checkCounters(Engine engine, Config config, List<String> checks) {
        long runs = 2 * (1 + (long) config.rounds() * config.repeat()); // the instance alone and through the entry
        long rx = engine.stats("br", 0).rxPackets();
        long tx = engine.stats("br", 1).txPackets();
        long others = 0;
        for (int p = 0; p < 4; p++) {
            if (p != 1) {
                others += engine.stats("br", p).txPackets();
            }
        }
        if (rx != runs || tx != runs || others != 0 || engine.missedTailCalls("br") != 0
                || !engine.drops("br").isEmpty()) {
            throw new IllegalStateException("the bridge counted rx " + rx + ", tx on port 1 " + tx + ", tx elsewhere "
                    + others + ", missed tail calls " + engine.missedTailCalls("br") + ", drops " + engine.drops("br")
                    + "; expected " + runs + " forwarded runs and nothing else");
        }
        checks.add("the bridge instance counted exactly one rx on port 0 and one tx on port 1 per test run (" + runs
                + " runs), nothing flooded, no drops, no missed tail calls");
    }

    static byte[] macKey(String mac) {
        byte[] k = new byte[8];
        String[] parts = mac.split(":");
        for (int i = 0; i < 6; i++) {
            k[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return k;
    }

    // ---- report ----------------------------------------------------------------------------------

    public static void printReport(Result r, PrintStream out) {
        Config c = r.config();
        out.println();
        EngineBenchSupport.printMachine(out, r.loadBefore(), r.loadAfter());
        out.printf(Locale.ROOT, "== BPF_PROG_TEST_RUN (tc), 64-byte frame to a learned destination, %d rounds x %d runs "
                + "per subject, shuffled order each round; ns/packet is the kernel's mean per run (whole ns), median over "
                + "rounds; ratios are taken within a round, then the median.%s%n", c.rounds(), c.repeat(),
                c.smoke() ? " SMOKE RUN: too short to compare, checks the harness only." : "");
        out.println();
        out.println("| path | ns/packet | p25-p75 | vs c_bridge | p25-p75 | net ns (minus c_nop) | net vs c_bridge |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String s : SUBJECTS) {
            out.println(r.costRow(label(s), s, "c_bridge", 3));
        }
        out.println();
        out.println("Where the C bridge's time goes, one part at a time (same frame, same run):");
        out.println();
        out.println("| C bridge | ns/packet | vs c_bridge | extra ns over c_bridge |");
        out.println("| --- | ---: | ---: | ---: |");
        for (String s : BREAKDOWN) {
            double[] extra = r.ns().get(s).clone();
            for (int i = 0; i < extra.length; i++) {
                extra[i] -= r.ns().get("c_bridge")[i];
            }
            out.printf(Locale.ROOT, "| %s | %.1f | %.3f | %.1f |%n", label(s), r.median(s),
                    EngineBenchSupport.median(r.ratios(s, "c_bridge")), EngineBenchSupport.median(extra));
        }
        out.println();
        out.printf(Locale.ROOT, "jvisor bridge / C minimal bridge: **%.3f** (aim: at most 1.3); jvisor bridge / C bridge with "
                + "aging and statics: %.3f; without the harness's own cost: %.2f and %.2f.%n",
                EngineBenchSupport.median(r.ratios("jvisor_bridge", "c_bridge")),
                EngineBenchSupport.median(r.ratios("jvisor_bridge", "c_bridge_aging")),
                EngineBenchSupport.median(r.netRatios("jvisor_bridge", "c_bridge")),
                EngineBenchSupport.median(r.netRatios("jvisor_bridge", "c_bridge_aging")));
        out.println();
        out.println(EngineBenchSupport.sizesLine("Program sizes (kernel's view)", r.sizes()));
        out.println();
        EngineBenchSupport.printChecks(out, r.checks());
    }

    static String label(String s) {
        return switch (s) {
            case "c_nop" -> "C `return TC_ACT_REDIRECT` (the harness's own cost)";
            case "c_bridge" -> "C minimal learning bridge (learn, look up, redirect)";
            case "c_bridge_aging" -> "C learning bridge + last-seen time, aging check, static table";
            case "c_bridge_time" -> "+ last-seen time (bpf_ktime_get_ns) and aging check only";
            case "c_bridge_coarse_time" -> "+ last-seen time (bpf_ktime_get_coarse_ns) and aging check only";
            case "c_bridge_jiffies_time" -> "+ last-seen time (bpf_jiffies64) and aging check only";
            case "c_bridge_static" -> "+ static table lookups only";
            case "c_bridge_aging_coarse" -> "+ both, with bpf_ktime_get_coarse_ns";
            case "c_bridge_aging_jiffies" -> "+ both, with bpf_jiffies64 (the clock jvisor's bridge stamps with)";
            case "jvisor_bridge_instance" -> "jvisor bridge instance alone (cb[0] = in_port via ctx_in)";
            case "jvisor_bridge" -> "jvisor device entry + bridge instance, as a packet enters";
            default -> s;
        };
    }
}

package io.jvisor.bench;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.engine.Sdk;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prototypes of the engine's instance-to-instance hop ({@code bpf/dispatch_proto.c}), measured with
 * BPF_PROG_TEST_RUN next to the hand-written forwarders of {@code bpf/tc_peers.c} in the same run:
 * the shared patch panel (an indirect tail call) against a switch of constant-key tail calls into a
 * per-instance program array (direct jumps), each with and without the per-CPU counters.
 *
 * <p>No engine: the programs are loaded by hand with the framework's shared maps, chains of 1, 2,
 * 4 and 8 instances wired in jv_ports (and jv_patch_tc or each instance's proto_next), the last
 * instance redirecting to ifindex 1 (a test run does not carry out the redirect).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.DispatchProtoBench \
 *     [--rounds N] [--repeat N]
 * </pre>
 */
public final class DispatchProtoBench {
    private static final List<String> VARIANTS = List.of("panel", "panel_nocount", "direct", "direct_rxonly", "direct_nocount",
            "direct_slimcb", "direct_noports", "direct_min", "direct_slotstats", "direct_hopcb", "direct_cand");
    private static final List<Integer> CHAINS = List.of(1, 2, 4, 8);

    private DispatchProtoBench() {}

    private record Subject(String name, BpfProgram program, byte[] context) {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("DispatchProtoBench", "[--rounds N] [--repeat N] [--variants a,b,...]", args, List.of(),
                List.of("--rounds", "--repeat", "--variants"));
        if (a == null) {
            return;
        }
        int rounds = a.intOr("--rounds", 51);
        int repeat = a.intOr("--repeat", 100_000);
        String v = a.stringOr("--variants", null);
        List<String> variants = v == null ? VARIANTS : List.of(v.split(","));
        run(rounds, repeat, variants, System.out);
    }

    static void run(int rounds, int repeat, List<String> variants, PrintStream out) {
        List<AutoCloseable> closeLater = new ArrayList<>();
        try {
            CollectionSpec spec = EngineBenchSupport.compile("dispatch_proto.c");
            Map<String, BpfMap> shared = new LinkedHashMap<>();
            CollectionOptions opts = CollectionOptions.DEFAULT;
            for (String name : Sdk.SHARED_MAPS) {
                if (spec.map(name).isEmpty()) {
                    continue;
                }
                BpfMap m = BpfMap.create(spec.map(name).orElseThrow().spec());
                closeLater.add(m);
                shared.put(name, m);
                opts = opts.withReplacement(name, m);
            }
            BpfMap slotStats = BpfMap.create(spec.map("proto_stats").orElseThrow().spec());
            closeLater.add(slotStats);
            opts = opts.withReplacement("proto_stats", slotStats);
            List<Subject> subjects = new ArrayList<>();
            int slot = 0;
            for (String variant : variants) {
                for (int k : CHAINS) {
                    int base = slot;
                    slot += k;
                    List<Collection> chain = new ArrayList<>();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < k; i++) {
                        Collection c = Collection.load(EngineBenchSupport.only(spec, variant)
                                .withConstant(Sdk.SLOT_CONSTANT, base + i), opts);
                        closeLater.add(c);
                        chain.add(c);
                    }
                    long loadNs = (System.nanoTime() - t0) / k;
                    for (int i = 0; i < k; i++) {
                        int s = base + i;
                        BpfProgram p = chain.get(i).program(variant);
                        shared.get("jv_patch_tc").setProgram(s, p);
                        boolean last = i == k - 1;
                        // port 1 goes on to the next instance's port 0, or out to device 1
                        shared.get("jv_ports").update(EngineCostBench.u32(s * Sdk.MAX_PORTS + 1), last
                                ? peer(Sdk.PEER_DEVICE, 1, 0) : peer(Sdk.PEER_INSTANCE, s + 1, 0));
                        if (!last) {
                            chain.get(i).map("proto_next").setProgram(1, chain.get(i + 1).program(variant));
                        }
                    }
                    if (k == 1) {
                        out.printf(Locale.ROOT, "== %s: load %.1f ms per program, %s%n", variant, loadNs / 1e6,
                                EngineBenchSupport.programSize(chain.getFirst().program(variant)));
                    }
                    subjects.add(new Subject(variant + "_" + k, chain.getFirst().program(variant),
                            EngineCostBench.skbWithInPort(0)));
                }
            }
            CollectionSpec peers = EngineBenchSupport.compile("tc_peers.c");
            Map<String, BpfMap> peerMaps = new LinkedHashMap<>();
            CollectionOptions popts = CollectionOptions.DEFAULT;
            for (String m : List.of("peers", "stats")) {
                BpfMap map = BpfMap.create(peers.map(m).orElseThrow().spec());
                closeLater.add(map);
                peerMaps.put(m, map);
                popts = popts.withReplacement(m, map);
            }
            peerMaps.get("peers").update(EngineCostBench.u32(1), ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(1).putInt(0).array());
            BpfProgram fwd = null;
            for (String p : List.of("fwd", "fwd_counted", "nop")) {
                CollectionSpec s = EngineBenchSupport.only(peers, p);
                if (!p.equals("nop")) {
                    s = s.withConstant("in_port", 0);
                }
                Collection c = Collection.load(s, popts);
                closeLater.add(c);
                subjects.add(new Subject("c_" + p, c.program(p), null));
                if (p.equals("fwd")) {
                    fwd = c.program(p);
                }
            }
            // tc_peers.c's stage_switch pipelines (EngineCostBench's c_chain_switch_), the C forwarder last
            for (int k : CHAINS) {
                BpfProgram following = fwd;
                for (int i = k - 2; i >= 0; i--) {
                    Collection c = Collection.load(EngineBenchSupport.only(peers, "stage_switch"), popts);
                    closeLater.add(c);
                    c.map("out_ports").setProgram(1, following);
                    following = c.program("stage_switch");
                }
                subjects.add(new Subject("cswitch_" + k, following, null));
            }

            byte[] frame = EngineCostBench.frame();
            for (Subject s : subjects) {
                int rv = s.program.testRun(TestRun.of(frame).withContext(s.context).withRepeat(1)).returnValue();
                if (rv != EngineCostBench.TC_ACT_REDIRECT) {
                    throw new IllegalStateException(s.name + " returned " + rv + ", not TC_ACT_REDIRECT");
                }
            }
            Map<String, double[]> ns = EngineBenchSupport.shuffledRounds(subjects, Subject::name,
                    s -> s.program.testRun(TestRun.of(frame).withContext(s.context).withRepeat(repeat)).durationNs(),
                    rounds, null);
            for (int s = 0; s < slot; s++) {
                long missed = shared.get("jv_missed").lookupPerCpu(EngineCostBench.u32(s)).orElseThrow().stream()
                        .mapToLong(b -> ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong()).sum();
                if (missed != 0) {
                    throw new IllegalStateException("slot " + s + " missed " + missed + " tail calls");
                }
            }
            out.println();
            EngineBenchSupport.printMachine(out, EngineBenchSupport.loadAverage(), EngineBenchSupport.loadAverage());
            out.printf(Locale.ROOT, "== %d rounds x %d runs, median ns/packet (ratios within a round, then median)%n%n",
                    rounds, repeat);
            out.println("| subject | ns/packet | vs c_fwd | vs c_fwd_counted |");
            out.println("| --- | ---: | ---: | ---: |");
            for (String s : ns.keySet()) {
                out.printf(Locale.ROOT, "| %s | %.1f | %.3f | %.3f |%n", s, EngineBenchSupport.median(ns.get(s)),
                        EngineBenchSupport.median(EngineBenchSupport.ratios(ns.get(s), ns.get("c_fwd"))),
                        EngineBenchSupport.median(EngineBenchSupport.ratios(ns.get(s), ns.get("c_fwd_counted"))));
            }
            out.println();
            out.println("| variant | ns per extra hop (slope over " + CHAINS + ", median over rounds) |");
            out.println("| --- | ---: |");
            double[] x = CHAINS.stream().mapToDouble(Integer::doubleValue).toArray();
            List<String> families = new ArrayList<>(variants);
            families.add("cswitch");
            for (String v : families) {
                double[] hop = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    double[] y = new double[CHAINS.size()];
                    for (int i = 0; i < y.length; i++) {
                        y[i] = ns.get(v + "_" + CHAINS.get(i))[r];
                    }
                    hop[r] = EngineBenchSupport.slope(x, y);
                }
                out.printf(Locale.ROOT, "| %s | %.2f |%n", v, EngineBenchSupport.median(hop));
            }
        } finally {
            EngineBenchSupport.closeAll(closeLater, out, "== ");
        }
    }

    private static byte[] peer(int kind, int target, int port) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(kind).putInt(target).putInt(port).putInt(0)
                .array();
    }
}

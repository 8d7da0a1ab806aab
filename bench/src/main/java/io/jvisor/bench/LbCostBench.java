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
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The lb module's per-packet cost (DNAT mode, an established flow) against a hand-written minimal C
 * DNAT ({@code bpf/dnat_peer.c}), with BPF_PROG_TEST_RUN, in the same run.
 *
 * <p>A test run with a repeat count runs the program again and again on the same skb, so a DNAT
 * would see its own output from the second run on. Both sides therefore get two services that
 * point at each other: VIP A:5201 goes to backend B:5201 and VIP B:5201 to backend A:5201. Every run
 * rewrites the destination (address, port checksums, MAC), alternately A to B and B to A. On the lb
 * side, both flows are in the connection table after the first two runs, so what is measured is an
 * established flow: the lb's fast path (connection lookup, backend-slot check, the MAC cached in the
 * entry, rewrite with an in-place IPv4 checksum and the kernel's L4 checksum helpers) and the
 * framework (ports, counters, redirect). The full path that refreshes an entry (service, MAC and
 * reverse-entry lookups, clock read) runs once per flow and jiffy, so a few times per round.
 *
 * <p>Subjects: {@code jvisor_entry} (the device entry program, then the lb instance by tail call, as
 * a packet enters), {@code jvisor_instance} (the lb program alone, in_port 0 in cb[0]), {@code c_dnat}
 * and {@code c_nop}. Each round runs every subject once, shuffled; ratios are taken within a round,
 * then the median over rounds.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.LbCostBench \
 *     [--smoke] [--rounds N] [--repeat N]
 * </pre>
 */
public final class LbCostBench {
    static final String A = "10.77.0.100", B = "10.77.0.200", CLIENT = "10.77.0.1";

    /** The figures: ns per packet of each subject, one per round. */
    public record Result(int rounds, int repeat, boolean smoke, Map<String, double[]> ns, Map<String, String> sizes,
                         String check, String loadBefore, String loadAfter) implements CostFigures {}

    private record Subject(String name, BpfProgram program, byte[] context) {}

    private LbCostBench() {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("LbCostBench", "[--smoke] [--rounds N] [--repeat N]", args, List.of("--smoke"),
                List.of("--rounds", "--repeat"));
        if (a == null) {
            return;
        }
        boolean smoke = a.has("--smoke");
        printReport(run(a.intOr("--rounds", smoke ? 5 : 101), a.intOr("--repeat", smoke ? 5_000 : 100_000), smoke, System.out),
                System.out);
    }

    public static Result run(int rounds, int repeat, boolean smoke, PrintStream log) {
        String loadBefore = EngineBenchSupport.loadAverage();
        List<AutoCloseable> closeLater = new ArrayList<>();
        EngineOptions options = EngineBenchSupport.engineOptions("jvlbc");
        Engine engine = null;
        EngineBenchSupport.ScratchNetns ns = null;
        try {
            ns = EngineBenchSupport.ScratchNetns.create("jvlbc", 1);
            engine = Engine.start(options, ModuleCatalog.discover());
            engine.apply(Topology.builder()
                    .instance("lb", "lb", Map.of(
                            "service.a", "udp " + A + ":5201", "backend.a.b", B,
                            "service.b", "udp " + B + ":5201", "backend.b.a", A))
                    .connect("lb:0", ns.endpoint("a0")).connect("lb:1", ns.endpoint("b0"))
                    .build());
            // the backends' MACs, as the LB would have learned them from their ARP
            BpfMap neigh = engine.map("lb", "lb_neigh");
            for (String ip : List.of(A, B)) {
                neigh.update(addr(ip), new byte[] {0x02, 0, 0, 0, 0, 0x42, 0, 0});
            }
            log.println("== engine " + options.name() + ": one lb instance, services " + A + ":5201 -> " + B + ", " + B
                    + ":5201 -> " + A + ", devices in namespace " + ns.name());

            List<Subject> subjects = new ArrayList<>();
            BpfProgram entry = BpfProgram.openPinned(EngineBenchSupport.entryPin(options, ns.name(), "a0"));
            closeLater.add(entry);
            subjects.add(new Subject("jvisor_entry", entry, null));
            BpfProgram instance = BpfProgram.fromId(engine.programId("lb"));
            closeLater.add(instance);
            subjects.add(new Subject("jvisor_instance", instance, EngineCostBench.skbWithInPort(0)));

            CollectionSpec spec = EngineBenchSupport.compile("dnat_peer.c");
            BpfMap services = BpfMap.create(spec.map("services").orElseThrow().spec());
            closeLater.add(services);
            CollectionOptions opts = CollectionOptions.DEFAULT.withReplacement("services", services);
            int target = ns.ifindex("b0");
            services.update(svcKey(A), backend(B, target));
            services.update(svcKey(B), backend(A, target));
            for (String p : List.of("dnat", "nop")) {
                Collection c = Collection.load(EngineBenchSupport.only(spec, p), opts);
                closeLater.add(c);
                subjects.add(new Subject("c_" + p, c.program(p), null));
            }

            byte[] frame = frame();
            for (Subject s : subjects) {
                // twice: both directions of the A <-> B pair; both must be translated and redirected
                for (int i = 0; i < 2; i++) {
                    TestRun.Result once = s.program.testRun(TestRun.of(frame).withContext(s.context).withRepeat(1));
                    if (once.returnValue() != EngineCostBench.TC_ACT_REDIRECT) {
                        throw new IllegalStateException(s.name + " returned " + once.returnValue() + ", not TC_ACT_REDIRECT");
                    }
                }
            }
            byte[] out = subjects.get(1).program.testRun(TestRun.of(frame).withContext(EngineCostBench.skbWithInPort(0))
                    .withRepeat(1)).data();
            if (!java.util.Arrays.equals(java.util.Arrays.copyOfRange(out, 30, 34), addr(B))) {
                throw new IllegalStateException("the lb did not translate " + A + " to " + B);
            }
            log.printf(Locale.ROOT, "== %d subjects, each returns TC_ACT_REDIRECT; %d rounds of %d runs each%s%n",
                    subjects.size(), rounds, repeat, smoke ? " (SMOKE RUN: too short to compare)" : "");

            Map<String, double[]> perPacket = EngineBenchSupport.shuffledRounds(subjects, Subject::name,
                    s -> s.program.testRun(TestRun.of(frame).withContext(s.context).withRepeat(repeat)).durationNs(), rounds,
                    null);
            long conns = 0;
            for (byte[] k : engine.map("lb", "lb_conn").keys()) {
                conns++;
            }
            var drops = engine.drops("lb");
            if (conns != 4 || !drops.isEmpty()) {
                throw new IllegalStateException("expected 2 flows (4 connection entries) and no drops, got " + conns
                        + " entries, drops " + drops);
            }
            String check = "the lb's connection table holds exactly the 2 flows (4 entries), no drops";
            log.println("== check: " + check);
            Map<String, String> sizes = EngineBenchSupport.programSizes(subjects, Subject::name, Subject::program);
            return new Result(rounds, repeat, smoke, perPacket, sizes, check, loadBefore, EngineBenchSupport.loadAverage());
        } finally {
            EngineBenchSupport.closeAll(closeLater, log, "== ");
            EngineBenchSupport.tearDown(engine, options, ns, log);
        }
    }

    static byte[] addr(String ip) {
        String[] o = ip.split("\\.");
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) Integer.parseInt(o[i]);
        }
        return b;
    }

    static byte[] svcKey(String vip) {
        return ByteBuffer.allocate(8).put(addr(vip)).putShort((short) 5201).put((byte) 17).array();
    }

    static byte[] backend(String ip, int ifindex) {
        ByteBuffer b = ByteBuffer.allocate(16).put(addr(ip)).putShort((short) 5201)
                .put(new byte[] {0x02, 0, 0, 0, 0, 0x42});
        b.order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(12, ifindex);
        return b.array();
    }

    /** A 64-byte Ethernet + IPv4 + UDP frame from the client to VIP A, with correct checksums. */
    static byte[] frame() {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.put(new byte[] {0x02, 0, 0, 0, 0, 2}).put(new byte[] {0x02, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 50).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(addr(CLIENT)).put(addr(A));
        b.putShort((short) 40000).putShort((short) 5201).putShort((short) 30).putShort((short) 0);
        byte[] f = b.array();
        int c = checksum(f, 14, 20);
        f[24] = (byte) (c >>> 8);
        f[25] = (byte) c;
        // UDP checksum over the pseudo-header and the datagram
        byte[] pseudo = new byte[12 + 30];
        System.arraycopy(f, 26, pseudo, 0, 8);
        pseudo[9] = 17;
        pseudo[11] = 30;
        System.arraycopy(f, 34, pseudo, 12, 30);
        int u = checksum(pseudo, 0, pseudo.length);
        f[40] = (byte) (u >>> 8);
        f[41] = (byte) u;
        return f;
    }

    static int checksum(byte[] d, int off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((d[off + i] & 0xff) << 8) | (d[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (d[off + len - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    public static void printReport(Result r, PrintStream out) {
        out.println();
        EngineBenchSupport.printMachine(out, r.loadBefore(), r.loadAfter());
        out.printf(Locale.ROOT, "== BPF_PROG_TEST_RUN (tc), 64-byte UDP frame, DNAT of an established flow, %d rounds x %d"
                + " runs, shuffled; ns/packet is the kernel's mean per run, median over rounds; ratios within a round,"
                + " then the median.%s%n", r.rounds(), r.repeat(), r.smoke() ? " SMOKE RUN." : "");
        out.println();
        out.println("| path | ns/packet | p25-p75 | vs c_dnat | p25-p75 | net ns (minus c_nop) | net vs c_dnat |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String s : List.of("c_nop", "c_dnat", "jvisor_instance", "jvisor_entry")) {
            out.println(r.costRow(label(s), s, "c_dnat", 2));
        }
        out.println();
        out.println(EngineBenchSupport.sizesLine("Program sizes", r.sizes()));
        EngineBenchSupport.printChecks(out, List.of(r.check()));
    }

    static String label(String s) {
        return switch (s) {
            case "c_nop" -> "C `return TC_ACT_REDIRECT` (harness)";
            case "c_dnat" -> "C minimal DNAT (one hash lookup, rewrite, redirect)";
            case "jvisor_instance" -> "jvisor lb instance alone (Maglev + connection table)";
            case "jvisor_entry" -> "jvisor device entry + lb instance (as a packet enters)";
            default -> s;
        };
    }
}

package io.jvisor.bench;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.modules.ddos.DdosConfig;
import io.jvisor.modules.ddos.DdosModule;
import io.jvisor.modules.ddos.RateLimit;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.Rtnl;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The ddos module's per-packet cost at XDP, measured with BPF_PROG_TEST_RUN against hand-written C
 * XDP programs in the same run (issue 7).
 *
 * <p>A real {@link Engine} at the XDP hook runs two {@code ddos} instances, each wired between the
 * two ends of a veth pair of our own (in the root namespace): {@code dd} with source and destination
 * blocklists of {@code prefixes} random prefixes each (/16 to /32, none in 10.0.0.0/8), and
 * {@code dr} with the same lists plus a per-source rate limit too high to drop anything (1e9
 * packets/s), so that its pass path includes the token bucket. A test run enters through the
 * engine's own XDP entry program of the instance's port-0 device (pinned by the engine; it writes
 * the metadata on the engine's channel and tail-calls through the patch panel, and a reused test-run
 * buffer is fine on either channel), then the instance's checks and its redirect.
 *
 * <p>The peers ({@code bpf/xdp_ddos_peers.c}) are what a user writes by hand: parse, two LPM
 * lookups, count and drop or redirect; the same plus a spin-locked token bucket per source; and an
 * empty program, the cost of the test-run loop itself. They get the same prefixes.
 *
 * <p>Each round runs every subject once, {@code repeat} times in the kernel, in a shuffled order;
 * ratios are taken within a round, and medians over rounds are reported.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.DdosCostBench \
 *     [--smoke] [--rounds N] [--repeat N] [--prefixes N]
 * </pre>
 */
public final class DdosCostBench {
    static final int XDP_DROP = 1, XDP_PASS = 2, XDP_REDIRECT = 4;

    private DdosCostBench() {}

    private record Subject(String name, BpfProgram program, byte[] frame, int verdict) {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("DdosCostBench", "[--smoke] [--rounds N] [--repeat N] [--prefixes N]", args,
                List.of("--smoke"), List.of("--rounds", "--repeat", "--prefixes"));
        if (a == null) {
            return;
        }
        boolean smoke = a.has("--smoke");
        run(a.intOr("--rounds", smoke ? 5 : 101), a.intOr("--repeat", smoke ? 5_000 : 200_000), a.intOr("--prefixes", 10_000),
                smoke, System.out);
    }

    static Map<String, double[]> run(int rounds, int repeat, int prefixes, boolean smoke, PrintStream log) {
        String loadBefore = EngineBenchSupport.loadAverage();
        List<AutoCloseable> closeLater = new ArrayList<>();
        EngineOptions options = EngineBenchSupport.engineOptions("jvdd").withHook(Hook.XDP);
        Engine engine = null;
        String prefix = EngineBenchSupport.unique("jvdd");
        List<String> veths = new ArrayList<>();
        try (Rtnl rtnl = Rtnl.open()) {
            // in the root namespace: at XDP the engine's devmap takes root-namespace ifindexes only
            for (int i = 0; i < 2; i++) {
                rtnl.createVeth(prefix + "a" + i, prefix + "b" + i);
                veths.add(prefix + "a" + i);
            }
            Random random = new Random(7);
            List<IpPrefix> src = randomPrefixes(random, prefixes);
            List<IpPrefix> dst = randomPrefixes(random, prefixes);
            IpPrefix blocked = src.get(prefixes / 2);
            DdosConfig lists = DdosConfig.NONE.withBlockedSources(src).withBlockedDestinations(dst);
            engine = Engine.start(options, ModuleCatalog.discover());
            engine.apply(Topology.builder()
                    .instance("dd", DdosModule.NAME, lists.toConfig())
                    .connect("dd:0", "dev:" + prefix + "a0").connect("dd:1", "dev:" + prefix + "b0")
                    .instance("dr", DdosModule.NAME, lists.withRateLimit(new RateLimit(1_000_000_000L, 1_000_000_000L))
                            .toConfig())
                    .connect("dr:0", "dev:" + prefix + "a1").connect("dr:1", "dev:" + prefix + "b1")
                    .build());
            log.println("== engine " + options.name() + " (XDP): ddos instances dd (" + prefixes
                    + " source and " + prefixes + " destination prefixes) and dr (the same plus a rate limit), "
                    + "veth pairs " + prefix + "a0/b0, a1/b1");

            byte[] pass = frame(new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2});
            byte[] drop = frame(blocked.address().getAddress(), new byte[] {10, 0, 0, 2});
            List<Subject> subjects = new ArrayList<>();
            BpfProgram dd = entryOf(options, prefix + "a0", closeLater);
            BpfProgram dr = entryOf(options, prefix + "a1", closeLater);
            subjects.add(new Subject("jvisor_pass", dd, pass, XDP_REDIRECT));
            subjects.add(new Subject("jvisor_drop", dd, drop, XDP_DROP));
            subjects.add(new Subject("jvisor_ratelimit_pass", dr, pass, XDP_REDIRECT));

            CollectionSpec spec = EngineBenchSupport.compile("xdp_ddos_peers.c");
            Map<String, BpfMap> shared = new LinkedHashMap<>();
            for (String m : List.of("src_block", "dst_block", "dropped")) { // buckets: made by its load, with the BTF its spin lock needs
                BpfMap map = BpfMap.create(spec.map(m).orElseThrow().spec());
                closeLater.add(map);
                shared.put(m, map);
            }
            fill(shared.get("src_block"), src);
            fill(shared.get("dst_block"), dst);
            CollectionOptions opts = CollectionOptions.DEFAULT;
            for (var e : shared.entrySet()) {
                opts = opts.withReplacement(e.getKey(), e.getValue());
            }
            int target = rtnl.ifindex(prefix + "b0");
            BpfProgram lpm = load(EngineBenchSupport.only(spec, "xdp_lpm_drop").withConstant("target_ifindex", target),
                    "xdp_lpm_drop", opts, closeLater);
            BpfProgram rl = load(EngineBenchSupport.only(spec, "xdp_lpm_ratelimit").withConstant("target_ifindex",
                    target), "xdp_lpm_ratelimit", opts, closeLater);
            BpfProgram nop = load(EngineBenchSupport.only(spec, "xdp_nop"), "xdp_nop", opts, closeLater);
            subjects.add(new Subject("c_pass", lpm, pass, XDP_REDIRECT));
            subjects.add(new Subject("c_drop", lpm, drop, XDP_DROP));
            subjects.add(new Subject("c_ratelimit_pass", rl, pass, XDP_REDIRECT));
            subjects.add(new Subject("c_nop", nop, pass, XDP_PASS));

            for (Subject s : subjects) {
                int v = s.program.testRun(TestRun.of(s.frame).withRepeat(1)).returnValue();
                if (v != s.verdict) {
                    throw new IllegalStateException(s.name + " returned " + v + ", not " + s.verdict
                            + ": the path is not what this benchmark means to measure");
                }
            }
            log.printf(Locale.ROOT, "== %d subjects, each returns its expected verdict; %d rounds of %d runs%s%n",
                    subjects.size(), rounds, repeat, smoke ? " (SMOKE RUN: too short to compare)" : "");
            Map<String, double[]> ns2 = EngineBenchSupport.shuffledRounds(subjects, Subject::name,
                    s -> s.program.testRun(TestRun.of(s.frame).withRepeat(repeat)).durationNs(), rounds, null);
            // the drops were counted where the module says: one per drop run, under the right reason
            long runs = 1 + (long) rounds * repeat;
            var stats = DdosModule.stats(engine, "dd");
            if (stats.sourceBlocked().packets() != runs || stats.passed().packets() != runs
                    || stats.sourceHits().get(blocked).packets() != runs) {
                throw new IllegalStateException("dd counted " + stats.passed() + " passed, " + stats.sourceBlocked()
                        + " source-blocked, drops " + engine.drops("dd") + "; expected " + runs + " passed and blocked");
            }
            log.println("== check: dd counted " + runs + " passed and " + runs + " source-blocked frames (on prefix "
                    + blocked + ")");

            log.println();
            log.println("| subject | ns/packet (median) | min | max |");
            log.println("| --- | --- | --- | --- |");
            for (Subject s : subjects) {
                double[] x = ns2.get(s.name);
                log.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f |%n", s.name, EngineBenchSupport.median(x),
                        EngineBenchSupport.min(x), EngineBenchSupport.max(x));
            }
            log.println();
            log.println("| ratio (within each round, median) | value |");
            log.println("| --- | --- |");
            for (String[] p : List.of(new String[] {"jvisor_pass", "c_pass"}, new String[] {"jvisor_drop", "c_drop"},
                    new String[] {"jvisor_ratelimit_pass", "c_ratelimit_pass"})) {
                double[] a = ns2.get(p[0]), b = ns2.get(p[1]), empty = ns2.get("c_nop");
                double[] ratio = EngineBenchSupport.ratios(a, b), net = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    net[r] = (a[r] - empty[r]) / (b[r] - empty[r]);
                }
                log.printf(Locale.ROOT, "| %s / %s | %.2f (net of c_nop: %.2f) |%n", p[0], p[1],
                        EngineBenchSupport.median(ratio), EngineBenchSupport.median(net));
            }
            log.println();
            EngineBenchSupport.printMachine(log, loadBefore, EngineBenchSupport.loadAverage());
            return ns2;
        } finally {
            EngineBenchSupport.closeAll(closeLater, log, "== ");
            EngineBenchSupport.destroyQuietly(engine, options, log);
            try (Rtnl rtnl = Rtnl.open()) {
                for (String v : veths) {
                    rtnl.delete(v);
                }
            } catch (RuntimeException e) {
                log.println("== cannot delete " + veths + ": " + e.getMessage());
            }
        }
    }

    /** Distinct random prefixes of /16 to /32 outside 10.0.0.0/8 and the multicast range. */
    static List<IpPrefix> randomPrefixes(Random random, int n) {
        Set<IpPrefix> out = new LinkedHashSet<>();
        while (out.size() < n) {
            int a = random.nextInt();
            int first = (a >>> 24) & 0xff;
            if (first == 10 || first == 0 || first >= 224) {
                continue;
            }
            int len = 16 + random.nextInt(17);
            byte[] b = ByteBuffer.allocate(4).putInt(a).array();
            out.add(IpPrefix.parse(String.format(Locale.ROOT, "%d.%d.%d.%d/%d", b[0] & 0xff, b[1] & 0xff, b[2] & 0xff,
                    b[3] & 0xff, len)).network());
        }
        return new ArrayList<>(out);
    }

    /** The engine's own XDP entry program of a root-namespace device, as the engine pinned it. */
    private static BpfProgram entryOf(EngineOptions options, String device, List<AutoCloseable> closeLater) {
        BpfProgram p = BpfProgram.openPinned(options.pinRoot().resolve("dev").resolve("-_" + device).resolve("prog"));
        closeLater.add(p);
        return p;
    }

    private static void fill(BpfMap trie, List<IpPrefix> prefixes) {
        for (IpPrefix p : prefixes) {
            byte[] k = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, p.length())
                    .put(4, p.address().getAddress()).array();
            trie.update(k, new byte[4]);
        }
    }

    private static BpfProgram load(CollectionSpec spec, String program, CollectionOptions opts,
                                   List<AutoCloseable> closeLater) {
        Collection c = Collection.load(spec, opts);
        closeLater.add(c);
        return c.program(program);
    }

    /** A 64-byte Ethernet + IPv4 + UDP frame. */
    static byte[] frame(byte[] src, byte[] dst) {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.put(new byte[] {0x02, 0, 0, 0, 0, 2}).put(new byte[] {0x02, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 50).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(src).put(dst);
        b.putShort((short) 40000).putShort((short) 5201).putShort((short) 30).putShort((short) 0);
        return b.array();
    }
}

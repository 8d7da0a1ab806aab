package io.jvisor.bench;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.link.BpfLink;
import io.jvisor.bpf.link.TcxDirection;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.Topology;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.HostSpec;
import io.jvisor.net.lab.InterfaceSpec;
import io.jvisor.net.lab.Iperf3;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.WireSpec;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * TCP throughput between two lab hosts through a one-instance jvisor chain (the SDK forwarder, tc
 * hook), against the Linux bridge and against a hand-written tc forwarder, in the same run.
 *
 * <p>One lab holds four pairs of hosts, each host a namespace with {@code eth0} wired by a veth to
 * the root namespace: h1-h2 through the engine (device entry on each root end, the forwarder
 * instance between them), h7-h8 the same through a second engine with receive steering on
 * ({@link EngineOptions#receiveSteering}), h3-h4 through a Linux bridge, h5-h6 through
 * {@code bpf/tc_peers.c}'s {@code fwd} attached with tcx to both root ends. Each round runs one
 * iperf3 TCP stream (h1 to h2, h7 to h8, h3 to h4, h5 to h6) per path, the order rotating from
 * round to round. Around each run it reads the TCP counters of the sender's and the receiver's
 * namespace ({@link TcpCounters}), which tell spurious retransmissions (reordering) from losses.
 * {@code --congestion ALGO} sets the sender's congestion control (iperf3 -C); without it the
 * namespaces' default applies, which new namespaces take from the root namespace.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.TcpThroughputBench \
 *     [--smoke] [--rounds N] [--seconds S] [--congestion ALGO]
 * </pre>
 */
public final class TcpThroughputBench {
    static final List<String> PATHS = List.of("jvisor", "jvisor-rps", "bridge", "tc");

    /** @param congestion the sender's TCP congestion control, or null for the namespace's default */
    public record Config(boolean smoke, int rounds, int seconds, String congestion) {
        public static Config fullRun() {
            return new Config(false, 8, 5, null);
        }

        public static Config smokeRun() {
            return new Config(true, 1, 1, null);
        }

        public Config withRounds(int n) {
            return new Config(smoke, n, seconds, congestion);
        }

        public Config withSeconds(int s) {
            return new Config(smoke, rounds, s, congestion);
        }

        public Config withCongestion(String algo) {
            return new Config(smoke, rounds, seconds, algo);
        }
    }

    /**
     * What one run's TCP counters say about its retransmissions (nstat deltas of the sender's and the
     * receiver's namespaces, and the drop counters of the path's two root devices).
     *
     * @param spurious segments the sender retransmitted that the receiver had already (DSACKed:
     *     TcpExtTCPDSACKRecvSegs)
     * @param recoveries fast recoveries the sender entered (TcpExtTCPSackRecovery)
     * @param stillQueued retransmissions the sender skipped because the original was still queued in
     *     this host (TcpExtTCPSpuriousRtxHostQueues): the original was late, not lost
     * @param outOfOrder segments the receiver got out of order (TcpExtTCPOFOQueue)
     * @param drops what was dropped on the way: the receiver's TCP and IP drop counters
     *     (TcpExtTCPBacklogDrop, TCPRcvQDrop, TCPOFODrop, TCPZeroWindowDrop, IpInDiscards) and the
     *     root devices' rx_dropped and tx_dropped
     */
    public record RunCounters(long spurious, long recoveries, long stillQueued, long outOfOrder, long drops) {
        static RunCounters of(TcpCounters sender, TcpCounters receiver, long linkDrops) {
            long rcvDrops = receiver.get("TcpExtTCPBacklogDrop") + receiver.get("TcpExtTCPRcvQDrop")
                    + receiver.get("TcpExtTCPOFODrop") + receiver.get("TcpExtTCPZeroWindowDrop")
                    + receiver.get("IpInDiscards");
            return new RunCounters(sender.get("TcpExtTCPDSACKRecvSegs"), sender.get("TcpExtTCPSackRecovery"),
                    sender.get("TcpExtTCPSpuriousRtxHostQueues"), receiver.get("TcpExtTCPOFOQueue"),
                    rcvDrops + linkDrops);
        }
    }

    /** Gbit/s, retransmissions and TCP counters per path, one per round. */
    public record Result(Config config, String congestion, Map<String, double[]> gbps, Map<String, long[]> retransmits,
                         Map<String, RunCounters[]> counters, String loadBefore, String loadAfter) {
        public double median(String path) {
            return EngineBenchSupport.median(gbps.get(path));
        }

        public double[] ratios(String a, String b) {
            return EngineBenchSupport.ratios(gbps.get(a), gbps.get(b));
        }
    }

    private TcpThroughputBench() {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("TcpThroughputBench", "[--smoke] [--rounds N] [--seconds S] [--congestion ALGO]",
                args, List.of("--smoke"), List.of("--rounds", "--seconds", "--congestion"));
        if (a == null) {
            return;
        }
        Config config = a.has("--smoke") ? Config.smokeRun() : Config.fullRun();
        config = config.withRounds(a.intOr("--rounds", config.rounds())).withSeconds(a.intOr("--seconds", config.seconds()))
                .withCongestion(a.stringOr("--congestion", null));
        Result r = run(config, System.out);
        printReport(r, System.out);
    }

    static LabSpec labSpec(String net) {
        LabSpec spec = LabSpec.empty().withBridge("br0");
        for (int i = 1; i <= 8; i++) {
            // IPv6 off: no link-local chatter during the runs
            spec = spec.withHost(HostSpec.named("h" + i).withInterface(InterfaceSpec.of("eth0", net + i + "/24"))
                    .withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                    .withSysctl("net.ipv6.conf.default.disable_ipv6", "1"));
            spec = spec.withWire(WireSpec.toRoot("h" + i + ":eth0", "p" + i, i == 3 || i == 4 ? "br0" : null));
        }
        return spec;
    }

    public static Result run(Config config, PrintStream log) {
        String loadBefore = EngineBenchSupport.loadAverage();
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        String net = "10." + rnd.nextInt(100, 250) + "." + rnd.nextInt(1, 250) + ".";
        Engine engine = null, steered = null;
        EngineOptions options = EngineBenchSupport.engineOptions("jvbt");
        EngineOptions steeredOptions = EngineBenchSupport.engineOptions("jvbt").withReceiveSteering(true);
        List<AutoCloseable> closeLater = new ArrayList<>();
        Lab lab = null;
        try {
            lab = Lab.up(labSpec(net));
            log.println("== lab " + lab.prefix() + ": h1-h2 through jvisor (engine " + options.name() + ", peer redirect "
                    + (options.peerRedirect() ? "on" : "off") + "), h7-h8 the same with receive steering (engine "
                    + steeredOptions.name() + "), h3-h4 through bridge " + lab.rootDevice("br0")
                    + ", h5-h6 through a hand-written tc forwarder");
            // ---- h1 - h2 through a one-instance chain
            ModuleCatalog catalog = new ModuleCatalog();
            catalog.register(ModuleType.fromSource("forwarder", EngineBenchSupport.bpfSource("forwarder.c"), 2));
            engine = Engine.start(options, catalog);
            engine.apply(Topology.builder().instance("fwd", "forwarder")
                    .connect("fwd:0", "dev:" + lab.rootDevice("p1"))
                    .connect("fwd:1", "dev:" + lab.rootDevice("p2"))
                    .build());
            // ---- h7 - h8 the same, through an engine that steers its devices' receive queues
            steered = Engine.start(steeredOptions, catalog);
            steered.apply(Topology.builder().instance("fwd", "forwarder")
                    .connect("fwd:0", "dev:" + lab.rootDevice("p7"))
                    .connect("fwd:1", "dev:" + lab.rootDevice("p8"))
                    .build());
            // ---- h5 - h6 through the hand-written forwarder, one copy per ingress port
            CollectionSpec spec = EngineBenchSupport.only(EngineBenchSupport.compile("tc_peers.c"), "fwd");
            int p5 = lab.root().ifindex(lab.rootDevice("p5"));
            int p6 = lab.root().ifindex(lab.rootDevice("p6"));
            int[][] sides = {{0, p5, p6}, {1, p6, p5}}; // in_port, ingress device, peer of the other port
            for (int[] s : sides) {
                Collection c = Collection.load(spec.withConstant("in_port", s[0]));
                closeLater.add(c);
                c.map("peers").update(EngineCostBench.u32(s[0] ^ 1),
                        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(s[2]).putInt(0).array());
                BpfProgram p = c.program("fwd");
                closeLater.add(BpfLink.tcx(p, s[1], TcxDirection.INGRESS));
            }

            Map<String, Host[]> pairs = new LinkedHashMap<>();
            pairs.put("jvisor", new Host[] {lab.host("h1"), lab.host("h2")});
            pairs.put("jvisor-rps", new Host[] {lab.host("h7"), lab.host("h8")});
            pairs.put("bridge", new Host[] {lab.host("h3"), lab.host("h4")});
            pairs.put("tc", new Host[] {lab.host("h5"), lab.host("h6")});
            // a short untimed run per path first (ARP, iperf3 in the page cache); a smoke run skips it
            if (!config.smoke()) {
                for (var e : pairs.entrySet()) {
                    Iperf3.tcp(e.getValue()[1].netns(), e.getValue()[1].address(), e.getValue()[0].netns(),
                            Duration.ofSeconds(1), config.congestion());
                }
            }
            log.printf(Locale.ROOT, "== %d rounds, one %d s iperf3 TCP stream per path per round, order rotating%s%n",
                    config.rounds(), config.seconds(),
                    config.smoke() ? " (SMOKE RUN: too short to compare, checks the harness only)" : "");
            Map<String, String[]> devs = Map.of("jvisor", new String[] {lab.rootDevice("p1"), lab.rootDevice("p2")},
                    "jvisor-rps", new String[] {lab.rootDevice("p7"), lab.rootDevice("p8")},
                    "bridge", new String[] {lab.rootDevice("p3"), lab.rootDevice("p4")},
                    "tc", new String[] {lab.rootDevice("p5"), lab.rootDevice("p6")});
            Map<String, double[]> gbps = new LinkedHashMap<>();
            Map<String, long[]> retr = new LinkedHashMap<>();
            Map<String, RunCounters[]> counters = new LinkedHashMap<>();
            for (String p : PATHS) {
                gbps.put(p, new double[config.rounds()]);
                retr.put(p, new long[config.rounds()]);
                counters.put(p, new RunCounters[config.rounds()]);
            }
            for (int r = 0; r < config.rounds(); r++) {
                List<String> order = new ArrayList<>(PATHS);
                java.util.Collections.rotate(order, -r);
                if (r % 2 == 1) {
                    java.util.Collections.reverse(order);
                }
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "   round %d:", r + 1));
                for (String p : order) {
                    Host[] h = pairs.get(p);
                    TcpCounters s0 = TcpCounters.read(h[0].netns()), r0 = TcpCounters.read(h[1].netns());
                    long d0 = linkDrops(devs.get(p));
                    Iperf3.Result res = Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(),
                            Duration.ofSeconds(config.seconds()), config.congestion());
                    counters.get(p)[r] = RunCounters.of(TcpCounters.read(h[0].netns()).since(s0),
                            TcpCounters.read(h[1].netns()).since(r0), linkDrops(devs.get(p)) - d0);
                    gbps.get(p)[r] = res.gbps();
                    retr.get(p)[r] = res.retransmits();
                    line.append(String.format(Locale.ROOT, " %s %.2f", p, res.gbps()));
                }
                log.println(line + " Gbit/s");
            }
            long passed = 0;
            for (Engine e : List.of(engine, steered)) {
                long rx = e.stats("fwd", 0).rxPackets() + e.stats("fwd", 1).rxPackets();
                if (rx == 0 || e.missedTailCalls("fwd") != 0) {
                    throw new IllegalStateException("a jvisor path carried no packets, or missed tail calls: rx "
                            + rx + ", missed " + e.missedTailCalls("fwd"));
                }
                passed += rx;
            }
            log.println("== check: the forwarder instances counted " + passed + " packets, no missed tail calls");
            String cc = config.congestion() != null ? config.congestion()
                    : pairs.get("jvisor")[0].netns().run(() -> java.nio.file.Files.readString(
                            java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_congestion_control")).strip());
            return new Result(config, cc, gbps, retr, counters, loadBefore, EngineBenchSupport.loadAverage());
        } finally {
            EngineBenchSupport.closeAll(closeLater, log, "== ");
            EngineBenchSupport.destroyQuietly(steered, steeredOptions, log);
            EngineBenchSupport.tearDown(engine, options, lab, log);
        }
    }

    /** rx_dropped plus tx_dropped of root-namespace devices. */
    private static long linkDrops(String[] devices) {
        long sum = 0;
        for (String d : devices) {
            for (String f : List.of("rx_dropped", "tx_dropped")) {
                try {
                    sum += Long.parseLong(java.nio.file.Files.readString(
                            java.nio.file.Path.of("/sys/class/net", d, "statistics", f)).strip());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }
        return sum;
    }

    public static void printReport(Result r, PrintStream out) {
        Config c = r.config();
        out.println();
        EngineBenchSupport.printMachine(out, r.loadBefore(), r.loadAfter());
        out.printf(Locale.ROOT, "== iperf3 TCP, one stream, %d s per run, %d rounds, congestion control %s%s; Gbit/s is "
                + "the receiver's, median over rounds; ratios are taken within a round, then the median.%s%n", c.seconds(),
                c.rounds(), r.congestion(), c.congestion() == null ? " (the namespaces' default)" : " (iperf3 -C)",
                c.smoke() ? " SMOKE RUN: too short to compare, checks the harness only." : "");
        out.println();
        out.println("| path | Gbit/s | per round | retransmits per run (median) |");
        out.println("| --- | ---: | --- | ---: |");
        for (String p : PATHS) {
            double[] retr = java.util.Arrays.stream(r.retransmits().get(p)).mapToDouble(x -> x).toArray();
            out.printf(Locale.ROOT, "| %s | %.2f | %s | %.0f |%n", label(p), r.median(p),
                    EngineBenchSupport.list(r.gbps().get(p), "%.2f"), EngineBenchSupport.median(retr));
        }
        out.println();
        out.println("TCP counters per run (median over rounds; nstat deltas of the sender's and the receiver's namespace):");
        out.println();
        out.println("| path | retransmitted segments | of them DSACKed (the receiver had them) | fast recoveries "
                + "| retransmits skipped, original still queued here | segments received out of order | drops |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String p : PATHS) {
            RunCounters[] cs = r.counters().get(p);
            out.printf(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |%n", p,
                    medianOf(r.retransmits().get(p)), medianOf(cs, RunCounters::spurious),
                    medianOf(cs, RunCounters::recoveries), medianOf(cs, RunCounters::stillQueued),
                    medianOf(cs, RunCounters::outOfOrder), medianOf(cs, RunCounters::drops));
        }
        out.println();
        out.println("| ratio | median | per round |");
        out.println("| --- | ---: | --- |");
        for (String[] pair : List.of(new String[] {"jvisor", "bridge"}, new String[] {"jvisor", "tc"},
                new String[] {"jvisor-rps", "tc"}, new String[] {"jvisor-rps", "jvisor"}, new String[] {"tc", "bridge"})) {
            double[] ratios = r.ratios(pair[0], pair[1]);
            out.printf(Locale.ROOT, "| %s / %s | **%.3f** | %s |%n", pair[0], pair[1], EngineBenchSupport.median(ratios),
                    EngineBenchSupport.list(ratios, "%.3f"));
        }
    }

    private static double medianOf(long[] xs) {
        return EngineBenchSupport.median(java.util.Arrays.stream(xs).mapToDouble(x -> x).toArray());
    }

    private static double medianOf(RunCounters[] cs, java.util.function.ToLongFunction<RunCounters> f) {
        return EngineBenchSupport.median(java.util.Arrays.stream(cs).mapToDouble(c -> f.applyAsLong(c)).toArray());
    }

    static String label(String p) {
        return switch (p) {
            case "jvisor" -> "jvisor (tcx entry + forwarder instance, tc)";
            case "jvisor-rps" -> "jvisor with receive steering (RPS on its two devices)";
            case "bridge" -> "Linux bridge";
            case "tc" -> "hand-written tc forwarder (tcx, bpf_redirect)";
            default -> p;
        };
    }
}

package io.jvisor.bench;

import static io.jvisor.bench.EngineBenchSupport.host;
import static io.jvisor.bench.EngineBenchSupport.router;

import io.jvisor.bench.PacketRate.Drops;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Iperf3;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.WireSpec;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The router module's small-UDP packet rate against Linux IP forwarding in a namespace, in one lab
 * and one run, with a sender that sends as fast as the CPUs allow (issue #6).
 *
 * <p>The lab: h1 (subnet 1, gw .1) to h2 (subnet 2) through one jvisor {@code router} instance on the
 * root ends of their veths; h3 to h4 through a namespace {@code r} with {@code ip_forward=1}; and,
 * as the floor, h5 to h6 on one veth pair with no router. Each receiver's {@code eth0} drops every
 * frame at tc ingress (a tcx program returning TC_ACT_SHOT), so no receiver stack or socket is measured; a
 * frame is counted when it arrives there (the receiver's {@code rx_packets}, read from
 * {@code /proc/net/dev} in its namespace).
 *
 * <p>The sender is a {@link PacketGenerator}: it sends one 60-byte frame (64 on the wire with the
 * FCS: Ethernet, IPv4, UDP, 18 bytes of payload) addressed to the gateway's MAC and the receiver's
 * IP address, out of the sending host's {@code eth0}, for about {@code seconds}. {@code --generator
 * auto} (the default) runs the kernel's live-frames generator ({@code bpf/pps_gen.c}, XDP_TX run
 * with BPF_PROG_TEST_RUN and live frames; one CPU, each batch of 64 forwarded in the same CPU's
 * softirq before the next is made) where the kernel allows it, and otherwise {@code senders}
 * threads with a packet socket each (PACKET_QDISC_BYPASS, sendmmsg bursts; each frame forwarded in
 * its sender's softirq); the output says which one ran and why. {@code --generator live} and
 * {@code --generator af-packet} force one. A veth drops XDP_TX frames unless its peer runs NAPI, so
 * for the live generator GRO is turned on for the first device each path's frames enter (the
 * jvisor router's root end, {@code r}'s {@code eth0}, h6's {@code eth0}), for all three paths
 * alike. Each round measures every path back to back, in rotating order; ratios are taken within a
 * round, then the median. A TCP stream (iperf3, one stream) per router path is measured in the same
 * rounds.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.RouterPpsBench \
 *     [--smoke] [--rounds N] [--seconds S] [--generator live|af-packet|auto] [--senders N] [--no-tcp]
 * </pre>
 */
public final class RouterPpsBench {
    /** The paths: name, sender, receiver. */
    static final List<String[]> PATHS = List.of(
            new String[] {"jvisor router", "h1", "h2"},
            new String[] {"Linux ip_forward", "h3", "h4"},
            new String[] {"no router (one veth)", "h5", "h6"});

    /**
     * How long to run, and how to send.
     *
     * @param senders the af-packet generator's sending threads
     * @param generator which generator to run ({@code --generator})
     */
    record Config(boolean smoke, int rounds, int seconds, int senders, boolean tcp, PacketGenerator.Choice generator) {
        static Config fullRun() {
            return new Config(false, 15, 2, Runtime.getRuntime().availableProcessors(), true, PacketGenerator.Choice.AUTO);
        }

        static Config smokeRun() {
            return new Config(true, 1, 1, 2, true, PacketGenerator.Choice.AUTO);
        }

        Config with(PacketGenerator.Choice g) {
            return new Config(smoke, rounds, seconds, senders, tcp, g);
        }

        Config withTcp(boolean on) {
            return new Config(smoke, rounds, seconds, senders, on, generator);
        }
    }

    /**
     * Per path, one value per round: received packets per second, sent per second, frames lost (sent
     * minus received), frames the sender's device refused (af-packet; each was sent again, so it is
     * not in "sent"), TCP Gbit/s (routers only); and which generator ran ({@code generatorKind}) with
     * its {@link PacketGenerator#summary()} ({@code generator}).
     */
    record Result(Config config, PacketGenerator.Choice generatorKind, String generator, Map<String, double[]> rxPps,
                  Map<String, double[]> txPps, Map<String, double[]> lost, Map<String, double[]> refused,
                  Map<String, double[]> tcpGbps, List<String> checks, String loadBefore, String loadAfter) {
        public double[] ratio(Map<String, double[]> m, String a, String b) {
            return EngineBenchSupport.ratios(m.get(a), m.get(b));
        }
    }

    private RouterPpsBench() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("RouterPpsBench", "[--smoke] [--rounds N] [--seconds S]"
                + " [--generator live|af-packet|auto] [--senders N] [--no-tcp]", args, List.of("--smoke", "--no-tcp"),
                List.of("--rounds", "--seconds", "--generator", "--senders"));
        if (a == null) {
            return;
        }
        Config c = a.has("--smoke") ? Config.smokeRun() : Config.fullRun();
        c = new Config(c.smoke(), a.intOr("--rounds", c.rounds()), a.intOr("--seconds", c.seconds()),
                a.intOr("--senders", c.senders()), c.tcp() && !a.has("--no-tcp"), a.generator());
        try {
            printReport(run(c, System.out), System.out);
        } catch (GeneratorRefusedException e) { // --generator live on a kernel that refuses live frames
            System.err.println("RouterPpsBench: " + e.getMessage());
            System.exit(1);
        }
    }

    static LabSpec labSpec(String net) {
        return LabSpec.empty()
                .withHost(host("h1", net + "1.2/24", net + "1.1"))
                .withHost(host("h2", net + "2.2/24", net + "2.1"))
                .withHost(host("h3", net + "3.2/24", net + "3.1"))
                .withHost(host("h4", net + "4.2/24", net + "4.1"))
                .withHost(host("h5", net + "5.2/24", null))
                .withHost(host("h6", net + "5.3/24", null))
                .withHost(router("r", net + "3.1/24", net + "4.1/24"))
                .withWire(WireSpec.toRoot("h1:eth0", "p1", null))
                .withWire(WireSpec.toRoot("h2:eth0", "p2", null))
                .withWire(WireSpec.between("h3:eth0", "r:eth0"))
                .withWire(WireSpec.between("h4:eth0", "r:eth1"))
                .withWire(WireSpec.between("h5:eth0", "h6:eth0"));
    }

    /** Sets up the lab and the engine, runs the rounds, and removes everything, on failure too. */
    static Result run(Config config, PrintStream log) throws Exception {
        String loadBefore = EngineBenchSupport.loadAverage();
        String net = EngineBenchSupport.labNet();
        EngineOptions options = EngineBenchSupport.engineOptions("jvbp");
        Engine engine = null;
        Lab lab = null;
        Drops drops = null;
        PacketGenerator generator = null;
        try {
            lab = Lab.up(labSpec(net));
            log.println("== lab " + lab.prefix() + " (" + net + "0.0/16): h1->h2 jvisor router, h3->h4 Linux ip_forward "
                    + "in namespace r, h5->h6 one veth (no router)");
            engine = Engine.start(options, ModuleCatalog.discover());
            engine.apply(Topology.builder()
                    .instance("r1", "router", Map.of("port.0", net + "1.1/24", "port.1", net + "2.1/24"))
                    .connect("r1:0", "dev:" + lab.rootDevice("p1"))
                    .connect("r1:1", "dev:" + lab.rootDevice("p2"))
                    .build());
            Map<String, byte[]> frames = new LinkedHashMap<>();
            for (String[] p : PATHS) {
                Host from = lab.host(p[1]);
                Host to = lab.host(p[2]);
                // resolves every neighbour on the way (the jvisor router drops the first packet to an unresolved one)
                Ping.run(from.netns(), to.address(), 2);
                Ping.run(to.netns(), from.address(), 2);
                if (!Ping.run(from.netns(), to.address(), 2).allReplied()) {
                    throw new IllegalStateException(from + " does not reach " + to);
                }
                frames.put(p[0], PacketRate.frame(from, to));
            }
            if (config.tcp() && !config.smoke()) {
                for (int i = 0; i < 2; i++) {
                    Host[] h = hosts(lab, PATHS.get(i));
                    Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(), Duration.ofSeconds(1));
                }
            }
            drops = new Drops();
            for (String[] p : PATHS) {
                drops.on(lab.host(p[2]));
            }
            // the live generator's probe sends one frame on the first path
            generator = PacketGenerator.open(config.generator(), config.senders(), lab.host(PATHS.get(0)[1]),
                    frames.get(PATHS.get(0)[0]));
            log.println("== generator: " + generator.summary());
            if (generator.needsNapi()) {
                // XDP_TX into a veth is dropped unless the peer runs NAPI: GRO on turns it on (no XDP program needed)
                PacketRate.gro(null, lab.rootDevice("p1"), true);
                PacketRate.gro(lab.host("r"), "eth0", true);
                PacketRate.gro(lab.host("h6"), "eth0", true);
            }
            for (String[] p : PATHS) { // warm-up (and the senders' JIT), untimed
                generator.send(lab.host(p[1]), frames.get(p[0]), 200_000);
            }
            log.printf(Locale.ROOT, "== %d rounds, about %d s per measurement, generator %s, 60-byte frames (64 on the wire)"
                    + "%s%n", config.rounds(), config.seconds(), generator.kind().option(),
                    config.smoke() ? " (SMOKE RUN)" : "");
            Map<String, double[]> rx = new LinkedHashMap<>();
            Map<String, double[]> tx = new LinkedHashMap<>();
            Map<String, double[]> lost = new LinkedHashMap<>();
            Map<String, double[]> refused = new LinkedHashMap<>();
            Map<String, double[]> tcp = new LinkedHashMap<>();
            for (String[] p : PATHS) {
                rx.put(p[0], new double[config.rounds()]);
                tx.put(p[0], new double[config.rounds()]);
                lost.put(p[0], new double[config.rounds()]);
                refused.put(p[0], new double[config.rounds()]);
            }
            tcp.put(PATHS.get(0)[0], new double[config.rounds()]);
            tcp.put(PATHS.get(1)[0], new double[config.rounds()]);
            for (int r = 0; r < config.rounds(); r++) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "   round %d:", r + 1));
                List<String[]> order = new ArrayList<>(PATHS);
                java.util.Collections.rotate(order, r);
                for (String[] p : order) {
                    Host[] h = hosts(lab, p);
                    long before = PacketRate.rxPackets(h[1]);
                    long t0 = System.nanoTime();
                    PacketGenerator.Sent sent = generator.sendFor(h[0], frames.get(p[0]), Duration.ofSeconds(config.seconds()));
                    double secs = (System.nanoTime() - t0) / 1e9;
                    Thread.sleep(100);
                    long got = PacketRate.rxPackets(h[1]) - before;
                    rx.get(p[0])[r] = got / secs;
                    tx.get(p[0])[r] = sent.frames() / secs;
                    lost.get(p[0])[r] = sent.frames() - got;
                    refused.get(p[0])[r] = sent.refused();
                    line.append(String.format(Locale.ROOT, " %s %.0f rx/s (sent %.0f/s, refused %d);", p[0],
                            rx.get(p[0])[r], tx.get(p[0])[r], sent.refused()));
                }
                if (config.tcp()) {
                    for (int i = 0; i < 2; i++) {
                        String[] p = PATHS.get((i + r) % 2);
                        Host[] h = hosts(lab, p);
                        // TCP needs the receiver's stack: lift the drop for the stream
                        drops.off(h[1]);
                        try {
                            tcp.get(p[0])[r] = Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(),
                                    Duration.ofSeconds(config.seconds())).gbps();
                        } finally {
                            drops.on(h[1]);
                        }
                        line.append(String.format(Locale.ROOT, " tcp %s %.2f Gbit/s;", p[0], tcp.get(p[0])[r]));
                    }
                }
                log.println(line);
            }
            List<String> checks = new ArrayList<>();
            long routed = engine.stats("r1", 1).txPackets();
            if (routed == 0 || engine.missedTailCalls("r1") != 0) {
                throw new IllegalStateException("the router instance forwarded " + routed + " packets, missed tail calls "
                        + engine.missedTailCalls("r1"));
            }
            checks.add("the router instance sent " + routed + " packets out of port 1, drops " + engine.drops("r1")
                    + ", no missed tail calls");
            checks.forEach(c -> log.println("== check: " + c));
            return new Result(config, generator.kind(), generator.summary(), rx, tx, lost, refused, tcp, checks, loadBefore,
                    EngineBenchSupport.loadAverage());
        } finally {
            EngineBenchSupport.closeAll(Arrays.asList(generator, drops), log, "== ");
            EngineBenchSupport.tearDown(engine, options, lab, log);
        }
    }

    static Host[] hosts(Lab lab, String[] path) {
        return new Host[] {lab.host(path[1]), lab.host(path[2])};
    }

    // ---- report ----------------------------------------------------------------------------------

    static void printReport(Result r, PrintStream out) {
        Config c = r.config();
        String j = PATHS.get(0)[0];
        String l = PATHS.get(1)[0];
        String f = PATHS.get(2)[0];
        out.println();
        EngineBenchSupport.printMachine(out, r.loadBefore(), r.loadAfter());
        out.printf(Locale.ROOT, "== medians over %d rounds of about %d s per path; ratios within a round, then the median.%s%n",
                c.rounds(), c.seconds(), c.smoke() ? " SMOKE RUN: figures meaningless." : "");
        out.println("== generator: " + r.generator());
        out.println();
        out.println("| path | received pps (median) | per round | sent pps (median) | lost (sent - received), per round "
                + "| refused by the sender's device, per round | vs no router (median) |");
        out.println("| --- | ---: | --- | ---: | --- | --- | ---: |");
        for (String p : List.of(j, l, f)) {
            double rx = EngineBenchSupport.median(r.rxPps().get(p));
            out.printf(Locale.ROOT, "| %s | %.0f | %s | %.0f | %s | %s | %.3f |%n", p, rx,
                    EngineBenchSupport.list(r.rxPps().get(p), "%.0f"), EngineBenchSupport.median(r.txPps().get(p)),
                    EngineBenchSupport.list(r.lost().get(p), "%.0f"), EngineBenchSupport.list(r.refused().get(p), "%.0f"),
                    EngineBenchSupport.median(r.ratio(r.rxPps(), p, f)));
        }
        out.println();
        double[] ratio = r.ratio(r.rxPps(), j, l);
        out.printf(Locale.ROOT, "Small UDP, jvisor router / Linux ip_forward, received pps: **%.3f** (per round %s; aim: at "
                + "least 1.1; generator %s).%n", EngineBenchSupport.median(ratio), EngineBenchSupport.list(ratio, "%.3f"),
                r.generatorKind().option());
        if (c.tcp()) {
            double[] t = r.ratio(r.tcpGbps(), j, l);
            out.printf(Locale.ROOT, "TCP (iperf3, one stream), jvisor router %.2f Gbit/s, Linux ip_forward %.2f Gbit/s: "
                    + "**%.3f** (per round %s).%n", EngineBenchSupport.median(r.tcpGbps().get(j)),
                    EngineBenchSupport.median(r.tcpGbps().get(l)), EngineBenchSupport.median(t),
                    EngineBenchSupport.list(t, "%.3f"));
        }
        out.println();
        EngineBenchSupport.printChecks(out, r.checks());
    }
}

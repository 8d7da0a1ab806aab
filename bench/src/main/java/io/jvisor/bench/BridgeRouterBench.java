package io.jvisor.bench;

import static io.jvisor.bench.EngineBenchSupport.host;
import static io.jvisor.bench.EngineBenchSupport.router;

import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Iperf3;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import io.jvisor.net.lab.WireSpec;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The standard modules against their Linux peers, in one run, alternating rounds (issue #6):
 *
 * <ul>
 *   <li>bridge: TCP h1 - h2 (one subnet) through one jvisor {@code bridge} instance (ports 0 and 1 on
 *       the root ends of their veths) against h3 - h4 through a Linux bridge;</li>
 *   <li>router: TCP and small-UDP rate h5 (subnet 5, gw .1) to h6 (subnet 6, gw .1) through one jvisor
 *       {@code router} instance, against h7 to h8 through a namespace {@code r} with two interfaces and
 *       {@code net.ipv4.ip_forward=1}.</li>
 * </ul>
 *
 * The UDP figure is the lab's {@link UdpStream} (one Java sender, 64-byte payloads) asked for a rate
 * far above what it can send; it reports datagrams received per second, so it is bounded by the
 * sender as well as by the path.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.BridgeRouterBench \
 *     [--smoke] [--rounds N] [--seconds S] [--udp-rate PPS]
 * </pre>
 */
public final class BridgeRouterBench {
    /** measurement, jvisor path, Linux path. */
    static final List<String[]> TESTS = List.of(
            new String[] {"bridge-tcp", "jvisor bridge", "Linux bridge"},
            new String[] {"router-tcp", "jvisor router", "Linux ip_forward"},
            new String[] {"router-udp", "jvisor router", "Linux ip_forward"});

    private BridgeRouterBench() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("BridgeRouterBench", "[--smoke] [--rounds N] [--seconds S] [--udp-rate PPS]", args,
                List.of("--smoke"), List.of("--rounds", "--seconds", "--udp-rate"));
        if (a == null) {
            return;
        }
        boolean smoke = a.has("--smoke");
        run(a.intOr("--rounds", smoke ? 1 : 5), a.intOr("--seconds", smoke ? 1 : 3), a.intOr("--udp-rate", 1_000_000), smoke,
                System.out);
    }

    static LabSpec labSpec(String net) {
        LabSpec spec = LabSpec.empty().withBridge("br0")
                .withHost(host("h1", net + "1.2/24", null))
                .withHost(host("h2", net + "1.3/24", null))
                .withHost(host("h3", net + "3.2/24", null))
                .withHost(host("h4", net + "3.3/24", null))
                .withHost(host("h5", net + "5.2/24", net + "5.1"))
                .withHost(host("h6", net + "6.2/24", net + "6.1"))
                .withHost(host("h7", net + "7.2/24", net + "7.1"))
                .withHost(host("h8", net + "8.2/24", net + "8.1"))
                .withHost(router("r", net + "7.1/24", net + "8.1/24"));
        for (int i = 1; i <= 6; i++) {
            spec = spec.withWire(WireSpec.toRoot("h" + i + ":eth0", "p" + i, i == 3 || i == 4 ? "br0" : null));
        }
        return spec.withWire(WireSpec.between("h7:eth0", "r:eth0")).withWire(WireSpec.between("h8:eth0", "r:eth1"));
    }

    static void run(int rounds, int seconds, int udpRate, boolean smoke, PrintStream log) throws Exception {
        String loadBefore = EngineBenchSupport.loadAverage();
        String net = EngineBenchSupport.labNet();
        EngineOptions options = EngineBenchSupport.engineOptions("jvbr");
        Engine engine = null;
        Lab lab = null;
        try {
            lab = Lab.up(labSpec(net));
            log.println("== lab " + lab.prefix() + " (" + net + "0.0/16): h1-h2 jvisor bridge, h3-h4 Linux bridge "
                    + lab.rootDevice("br0") + ", h5->h6 jvisor router, h7->h8 Linux ip_forward in namespace r");
            engine = Engine.start(options, ModuleCatalog.discover());
            engine.apply(Topology.builder()
                    .instance("br", "bridge")
                    .connect("br:0", "dev:" + lab.rootDevice("p1"))
                    .connect("br:1", "dev:" + lab.rootDevice("p2"))
                    .instance("r1", "router", Map.of("port.0", net + "5.1/24", "port.1", net + "6.1/24"))
                    .connect("r1:0", "dev:" + lab.rootDevice("p5"))
                    .connect("r1:1", "dev:" + lab.rootDevice("p6"))
                    .build());
            Map<String, Host[]> pairs = new LinkedHashMap<>();
            pairs.put("jvisor bridge", new Host[] {lab.host("h1"), lab.host("h2")});
            pairs.put("Linux bridge", new Host[] {lab.host("h3"), lab.host("h4")});
            pairs.put("jvisor router", new Host[] {lab.host("h5"), lab.host("h6")});
            pairs.put("Linux ip_forward", new Host[] {lab.host("h7"), lab.host("h8")});
            // The jvisor router drops the first packet to an unresolved neighbour: ping first, both ways.
            for (Host[] h : pairs.values()) {
                Ping.run(h[0].netns(), h[1].address(), 2);
                Ping.run(h[1].netns(), h[0].address(), 2);
                if (!Ping.run(h[0].netns(), h[1].address(), 2).allReplied()) {
                    throw new IllegalStateException(h[0] + " does not reach " + h[1]);
                }
            }
            if (!smoke) {
                for (Host[] h : pairs.values()) {
                    Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(), Duration.ofSeconds(1));
                }
            }
            log.printf(Locale.ROOT, "== %d rounds, %d s per measurement, order rotating; UDP asked at %d datagrams/s%s%n",
                    rounds, seconds, udpRate, smoke ? " (SMOKE RUN: too short to compare)" : "");
            Map<String, double[]> values = new LinkedHashMap<>();
            for (String[] t : TESTS) {
                values.put(t[0] + "/" + t[1], new double[rounds]);
                values.put(t[0] + "/" + t[2], new double[rounds]);
            }
            Map<String, long[]> lost = new LinkedHashMap<>();
            lost.put("jvisor router", new long[rounds]);
            lost.put("Linux ip_forward", new long[rounds]);
            for (int r = 0; r < rounds; r++) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "   round %d:", r + 1));
                for (String[] t : TESTS) {
                    List<String> order = new ArrayList<>(List.of(t[1], t[2]));
                    if (r % 2 == 1) {
                        Collections.reverse(order);
                    }
                    for (String path : order) {
                        Host[] h = pairs.get(path);
                        double v;
                        if (t[0].endsWith("tcp")) {
                            v = Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(), Duration.ofSeconds(seconds)).gbps();
                        } else {
                            try (UdpStream udp = UdpStream.open(h[0].netns(), h[0].address(), h[1].netns(),
                                    h[1].address())) {
                                udp.start(udpRate);
                                Thread.sleep(seconds * 1000L);
                                udp.stop();
                                UdpStream.Report rep = udp.finish(Duration.ofMillis(500));
                                v = rep.received() / (double) seconds;
                                lost.get(path)[r] = rep.lost();
                            }
                        }
                        values.get(t[0] + "/" + path)[r] = v;
                        line.append(String.format(Locale.ROOT, " %s %s %s;", t[0], path,
                                t[0].endsWith("tcp") ? String.format(Locale.ROOT, "%.2f Gbit/s", v)
                                        : String.format(Locale.ROOT, "%.0f rx/s", v)));
                    }
                }
                log.println(line);
            }
            long br = engine.stats("br", 0).rxPackets() + engine.stats("br", 1).rxPackets();
            long rt = engine.stats("r1", 0).rxPackets() + engine.stats("r1", 1).rxPackets();
            if (br == 0 || rt == 0 || engine.missedTailCalls("br") != 0 || engine.missedTailCalls("r1") != 0) {
                throw new IllegalStateException("a jvisor path carried no packets or missed tail calls: bridge rx " + br
                        + ", router rx " + rt);
            }
            log.println("== check: bridge instance counted " + br + " packets, router " + rt + ", no missed tail calls");
            String loadAfter = EngineBenchSupport.loadAverage();

            log.println();
            EngineBenchSupport.printMachine(log, loadBefore, loadAfter);
            log.printf(Locale.ROOT, "== medians over %d rounds of %d s; ratios within a round, then the median.%s%n", rounds,
                    seconds, smoke ? " SMOKE RUN." : "");
            log.println();
            log.println("| measurement | jvisor | Linux | per round (jvisor / Linux) | ratio (median) | per round |");
            log.println("| --- | ---: | ---: | --- | ---: | --- |");
            for (String[] t : TESTS) {
                double[] a = values.get(t[0] + "/" + t[1]);
                double[] b = values.get(t[0] + "/" + t[2]);
                double[] ratio = EngineBenchSupport.ratios(a, b);
                String f = t[0].endsWith("tcp") ? "%.2f" : "%.0f";
                String unit = t[0].endsWith("tcp") ? " Gbit/s" : " rx/s";
                log.printf(Locale.ROOT, "| %s (%s vs %s) | " + f + unit + " | " + f + unit + " | %s / %s | **%.3f** | %s |%n",
                        t[0], t[1], t[2], EngineBenchSupport.median(a), EngineBenchSupport.median(b),
                        EngineBenchSupport.list(a, f), EngineBenchSupport.list(b, f), EngineBenchSupport.median(ratio),
                        EngineBenchSupport.list(ratio, "%.3f"));
            }
            log.println();
            log.println("UDP datagrams lost per run: jvisor router " + java.util.Arrays.toString(lost.get("jvisor router"))
                    + ", Linux ip_forward " + java.util.Arrays.toString(lost.get("Linux ip_forward")));
        } finally {
            EngineBenchSupport.tearDown(engine, options, lab, log);
        }
    }
}

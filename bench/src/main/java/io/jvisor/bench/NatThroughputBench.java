package io.jvisor.bench;

import static io.jvisor.bench.EngineBenchSupport.host;
import static io.jvisor.bench.EngineBenchSupport.router;

import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.modules.nat.NatHandler;
import io.jvisor.modules.nat.NatModule;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Iperf3;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.WireSpec;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * NAT throughput: TCP (iperf3) from an inside host to an outside host through masquerade, jvisor
 * against nftables, in one lab, alternating rounds.
 *
 * <ul>
 *   <li>jvisor: h1 (N.1.2, gw N.1.1) - {@code router} instance (N.1.1, N.2.1) - {@code nat} instance
 *       (snat N.1.0/24 to N.2.1) - h2 (N.2.2, no route back to N.1);</li>
 *   <li>Linux: h3 (N.3.2, gw N.3.1) - namespace {@code r} (N.3.1, N.4.1, ip_forward, nftables
 *       {@code masquerade} on its outside interface) - h4 (N.4.2, no route back to N.3).</li>
 * </ul>
 *
 * Neither outside host has a route back to the inside subnet, so a connection only works when it is
 * translated. The run checks that both translations were used: SNAT mappings in the jvisor NAT, and
 * the packet counter of the nftables masquerade rule.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.NatThroughputBench \
 *     [--smoke] [--rounds N] [--seconds S]
 * </pre>
 */
public final class NatThroughputBench {
    static final String JV = "jvisor router + nat", LINUX = "Linux ip_forward + nftables masquerade";

    private NatThroughputBench() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("NatThroughputBench", "[--smoke] [--rounds N] [--seconds S]", args, List.of("--smoke"),
                List.of("--rounds", "--seconds"));
        if (a == null) {
            return;
        }
        boolean smoke = a.has("--smoke");
        run(a.intOr("--rounds", smoke ? 1 : 7), a.intOr("--seconds", smoke ? 1 : 3), smoke, System.out);
    }

    static String exec(Host h, String stdin, String... cmd) throws Exception {
        Process p = h.exec(List.of(cmd));
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** Returns the medians: path -> Gbit/s, and "ratio". */
    static Map<String, Double> run(int rounds, int seconds, boolean smoke, PrintStream log) throws Exception {
        String loadBefore = EngineBenchSupport.loadAverage();
        String net = EngineBenchSupport.labNet();
        EngineOptions options = EngineBenchSupport.engineOptions("jvnb");
        Engine engine = null;
        Lab lab = null;
        try {
            LabSpec spec = LabSpec.empty()
                    .withHost(host("h1", net + "1.2/24", net + "1.1"))
                    .withHost(host("h2", net + "2.2/24", null))
                    .withHost(host("h3", net + "3.2/24", net + "3.1"))
                    .withHost(host("h4", net + "4.2/24", null))
                    .withHost(router("r", net + "3.1/24", net + "4.1/24"))
                    .withWire(WireSpec.toRoot("h1:eth0", "p1", null))
                    .withWire(WireSpec.toRoot("h2:eth0", "p2", null))
                    .withWire(WireSpec.between("h3:eth0", "r:eth0"))
                    .withWire(WireSpec.between("h4:eth0", "r:eth1"));
            lab = Lab.up(spec);
            exec(lab.host("r"), """
                    table ip jvbench {
                        chain post {
                            type nat hook postrouting priority srcnat; policy accept;
                            oifname "eth1" counter masquerade
                        }
                    }
                    """, "nft", "-f", "-");
            log.println("== lab " + lab.prefix() + " (" + net + "0.0/16): h1->h2 through jvisor router + nat, h3->h4 "
                    + "through namespace r (ip_forward, nftables masquerade)");
            ModuleCatalog catalog = ModuleCatalog.discover();
            engine = Engine.start(options, catalog);
            engine.apply(Topology.builder()
                    .instance("r1", "router", Map.of("port.0", net + "1.1/24", "port.1", net + "2.1/24"))
                    .instance("n", "nat", Map.of("snat.0", net + "1.0/24 to " + net + "2.1"))
                    .connect("r1:0", "dev:" + lab.rootDevice("p1"))
                    .connect("r1:1", "n:0")
                    .connect("n:1", "dev:" + lab.rootDevice("p2"))
                    .build());
            Map<String, Host[]> pairs = new LinkedHashMap<>();
            pairs.put(JV, new Host[] {lab.host("h1"), lab.host("h2")});
            pairs.put(LINUX, new Host[] {lab.host("h3"), lab.host("h4")});
            for (Host[] h : pairs.values()) {
                Ping.run(h[0].netns(), h[1].address(), 2); // the router resolves its neighbours
                if (!Ping.run(h[0].netns(), h[1].address(), 2).allReplied()) {
                    throw new IllegalStateException(h[0] + " does not reach " + h[1] + " through NAT");
                }
            }
            if (!smoke) {
                for (Host[] h : pairs.values()) {
                    Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(), Duration.ofSeconds(1));
                }
            }
            log.printf(Locale.ROOT, "== %d rounds, %d s per measurement, order alternating%s%n", rounds, seconds,
                    smoke ? " (SMOKE RUN: too short to compare)" : "");
            Map<String, double[]> values = new LinkedHashMap<>();
            pairs.keySet().forEach(p -> values.put(p, new double[rounds]));
            for (int r = 0; r < rounds; r++) {
                List<String> order = new ArrayList<>(pairs.keySet());
                if (r % 2 == 1) {
                    Collections.reverse(order);
                }
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "   round %d:", r + 1));
                for (String path : order) {
                    Host[] h = pairs.get(path);
                    double v = Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(), Duration.ofSeconds(seconds)).gbps();
                    values.get(path)[r] = v;
                    line.append(String.format(Locale.ROOT, " %s %.2f Gbit/s;", path, v));
                }
                log.println(line);
            }
            NatHandler nat = ((NatModule) catalog.get("nat")).instance("n");
            long snat = nat.mappings().stream().filter(m -> m.kind() == NatHandler.Kind.SNAT && m.protocol() == 6).count();
            String counters = exec(lab.host("r"), null, "nft", "list", "table", "ip", "jvbench");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("counter packets (\\d+)").matcher(counters);
            long nft = m.find() ? Long.parseLong(m.group(1)) : 0;
            if (snat == 0 || nft == 0) {
                throw new IllegalStateException("a path was not translated: jvisor SNAT TCP mappings " + snat
                        + ", nftables masquerade packets " + nft);
            }
            log.println("== check: the jvisor NAT holds " + snat + " TCP SNAT mappings; the nftables masquerade rule "
                    + "counted " + nft + " packets (a NAT chain sees the first packet of each connection only)");
            String loadAfter = EngineBenchSupport.loadAverage();
            log.println();
            EngineBenchSupport.printMachine(log, loadBefore, loadAfter);
            log.printf(Locale.ROOT, "== medians over %d rounds of %d s; ratio within a round, then the median.%s%n",
                    rounds, seconds, smoke ? " SMOKE RUN." : "");
            log.println();
            double[] a = values.get(JV), b = values.get(LINUX), ratio = EngineBenchSupport.ratios(a, b);
            log.println("| measurement | jvisor | Linux | per round (jvisor / Linux) | ratio (median) | per round |");
            log.println("| --- | ---: | ---: | --- | ---: | --- |");
            log.printf(Locale.ROOT, "| TCP inside -> outside, masquerade (%s vs %s) | %.2f Gbit/s | %.2f Gbit/s | %s / %s |"
                    + " **%.3f** | %s |%n", JV, LINUX, EngineBenchSupport.median(a), EngineBenchSupport.median(b),
                    EngineBenchSupport.list(a, "%.2f"), EngineBenchSupport.list(b, "%.2f"),
                    EngineBenchSupport.median(ratio), EngineBenchSupport.list(ratio, "%.3f"));
            Map<String, Double> out = new LinkedHashMap<>();
            out.put(JV, EngineBenchSupport.median(a));
            out.put(LINUX, EngineBenchSupport.median(b));
            out.put("ratio", EngineBenchSupport.median(ratio));
            return out;
        } finally {
            EngineBenchSupport.tearDown(engine, options, lab, log);
        }
    }
}

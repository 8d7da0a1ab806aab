package io.jvisor.bench;

import static io.jvisor.bench.EngineBenchSupport.host;
import static io.jvisor.bench.EngineBenchSupport.router;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.modules.firewall.FirewallConfig;
import io.jvisor.modules.firewall.FirewallModule;
import io.jvisor.modules.firewall.Rule;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Iperf3;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.WireSpec;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The firewall module's figures (issue #7), each next to its peer in the same run:
 *
 * <ul>
 *   <li>{@code cost}: per-packet cost through BPF_PROG_TEST_RUN of one firewall instance holding 10,
 *       1,000 and 10,000 rules (three instances, measured in rotating order), for a packet that
 *       matches the last rule and for one that no rule matches. The peer is the same firewall at 10
 *       rules: tuple-space search should cost about the same at 10,000.</li>
 *   <li>{@code e2e}: forwarding through a router namespace ({@code ip_forward}), with the same rule
 *       set held by: nothing; iptables (legacy xtables) in the router's FORWARD chain; nftables in
 *       the router's forward hook; the jvisor firewall inserted transparently on the wire between
 *       the sender and the router. The same wiring through a plain jvisor forwarder (no rules, no
 *       conntrack) is the firewall's own no-firewall baseline. Per path and round: 64-byte UDP frames
 *       received per second from a {@link PacketGenerator} in the sender (the XDP_TX live-frames test
 *       run where the kernel allows it, else packet-socket threads; {@code --generator} forces one;
 *       frames counted at the receiver's eth0, where a tc drop ends them), 64-byte UDP datagrams
 *       received per second from iperf3 (-u -l 64 -b 0: sent minus lost, as the server counts them;
 *       one sender, slower than the fast paths) and iperf3 TCP throughput.</li>
 * </ul>
 *
 * <p>The rule set of N rules: N - 1 rules {@code drop udp from 198.18.a.b/32 to the receiver, dport
 * 5000-5999} that the traffic does not match, then {@code accept} everything. Each jvisor chain holds
 * all N (iptables' FORWARD chain judges both directions with the same rules).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.FirewallBench \
 *     [cost] [e2e] [--smoke] [--rounds N] [--seconds S] [--rules N] [--repeat R]
 *     [--generator live|af-packet|auto] [--senders N]
 * </pre>
 */
public final class FirewallBench {
    private FirewallBench() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("FirewallBench", "[cost] [e2e] [--smoke] [--rounds N] [--seconds S] [--rules N]"
                + " [--repeat R] [--generator live|af-packet|auto] [--senders N]", args, List.of("cost", "e2e", "--smoke"),
                List.of("--rounds", "--seconds", "--rules", "--repeat", "--generator", "--senders"));
        if (a == null) {
            return;
        }
        boolean smoke = a.has("--smoke"), both = !a.has("cost") && !a.has("e2e");
        PacketGenerator.Choice generator = a.generator();
        int rounds = a.intOr("--rounds", smoke ? 1 : 5), seconds = a.intOr("--seconds", smoke ? 1 : 3);
        if (both || a.has("cost")) {
            cost(rounds, a.intOr("--repeat", smoke ? 10_000 : 1_000_000), smoke, System.out);
        }
        if (both || a.has("e2e")) {
            try {
                printE2e(e2e(rounds, seconds, a.intOr("--rules", 10_000), smoke, generator,
                        a.intOr("--senders", Runtime.getRuntime().availableProcessors()), System.out), System.out);
            } catch (GeneratorRefusedException e) { // --generator live on a kernel that refuses live frames
                System.err.println("FirewallBench: " + e.getMessage());
                System.exit(1);
            }
        }
    }

    /** The benchmark rule set for traffic to {@code dst}: n - 1 rules it does not match, then accept. */
    static List<Rule> ruleSet(int n, String dst) {
        List<Rule> out = new ArrayList<>();
        for (int i = 0; i < n - 1; i++) {
            out.add(Rule.parse("drop proto udp src " + peerAddress(i) + "/32 dst " + dst + "/32 dport 5000-5999"));
        }
        out.add(Rule.parse("accept"));
        return out;
    }

    static String peerAddress(int i) {
        return "198.18." + (i / 250) + "." + (i % 250 + 1);
    }

    static FirewallConfig config(int n, String dst) {
        List<Rule> rs = ruleSet(n, dst);
        return FirewallConfig.EMPTY.withRules(FirewallConfig.Chain.EGRESS, rs).withRules(FirewallConfig.Chain.INGRESS, rs)
                .withPolicy(FirewallConfig.Chain.EGRESS, FirewallConfig.Policy.DROP)
                .withPolicy(FirewallConfig.Chain.INGRESS, FirewallConfig.Policy.DROP);
    }

    // ---- per-packet cost --------------------------------------------------------------------------

    static void cost(int rounds, int repeat, boolean smoke, PrintStream log) throws Exception {
        String loadBefore = EngineBenchSupport.loadAverage();
        int[] sizes = {10, 1_000, 10_000};
        String net = EngineBenchSupport.labNet();
        EngineOptions options = EngineBenchSupport.engineOptions("jvfc");
        Engine engine = null;
        Lab lab = null;
        try {
            LabSpec spec = LabSpec.empty();
            for (int i = 1; i <= 8; i++) {
                spec = spec.withHost(host("c" + i, net + "9." + i + "/24", null))
                        .withWire(WireSpec.toRoot("c" + i + ":eth0", "p" + i, null));
            }
            lab = Lab.up(spec);
            ModuleCatalog catalog = ModuleCatalog.discover();
            catalog.register(io.jvisor.engine.ModuleType.fromSource("fwd", "#include <jvisor/module.h>\n" + FORWARDER, 2));
            engine = Engine.start(options, catalog);
            String dst = net + "9.2";
            Topology.Builder t = Topology.builder().instance("fwd", "fwd")
                    .connect("fwd:0", "dev:" + lab.rootDevice("p7")).connect("fwd:1", "dev:" + lab.rootDevice("p8"));
            for (int k = 0; k < sizes.length; k++) {
                String name = "fw" + sizes[k];
                t.instance(name, "firewall", config(sizes[k], dst).toMap())
                        .connect(name + ":0", "dev:" + lab.rootDevice("p" + (2 * k + 1)))
                        .connect(name + ":1", "dev:" + lab.rootDevice("p" + (2 * k + 2)));
            }
            long t0 = System.nanoTime();
            engine.apply(t.build());
            log.printf(Locale.ROOT, "== cost: firewalls with %s rules per chain loaded in %.1f s (both chains each)%n",
                    java.util.Arrays.toString(sizes), (System.nanoTime() - t0) / 1e9);
            byte[] matchLast = udpFrame(net + "9.1", dst, 40000, 5001);
            byte[] policy = udpFrame(net + "9.1", dst, 40000, 5001);
            byte[] ctx = new byte[68];
            ByteBuffer.wrap(ctx).order(ByteOrder.LITTLE_ENDIAN).putInt(48, 0); // cb[0]: in port 0 (egress)
            Map<String, double[]> ns = new LinkedHashMap<>();
            BpfProgram[] progs = new BpfProgram[sizes.length];
            for (int k = 0; k < sizes.length; k++) {
                progs[k] = BpfProgram.fromId(engine.programId("fw" + sizes[k]));
                ns.put(sizes[k] + "/last", new double[rounds]);
                ns.put(sizes[k] + "/policy", new double[rounds]);
            }
            double[] fwdNs = new double[rounds];
            // the policy packet: from an address the last rule ("accept") would take, so use a set without it
            FirewallConfig[] noAccept = new FirewallConfig[sizes.length];
            try {
                for (int r = 0; r < rounds; r++) {
                    List<Integer> order = new ArrayList<>(List.of(0, 1, 2));
                    Collections.rotate(order, r);
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "   round %d:", r + 1));
                    try (BpfProgram fwd = BpfProgram.fromId(engine.programId("fwd"))) {
                        fwdNs[r] = fwd.testRun(new TestRun(matchLast, 0, ctx, 0, repeat, 0, 0, 0)).durationNs();
                        line.append(String.format(Locale.ROOT, " forwarder %.0f ns;", fwdNs[r]));
                    }
                    for (int k : order) {
                        TestRun run = new TestRun(matchLast, 0, ctx, 0, repeat, 0, 0, 0);
                        var res = progs[k].testRun(run);
                        if (res.returnValue() != 7) {
                            throw new IllegalStateException("fw" + sizes[k] + " did not forward: " + res.returnValue());
                        }
                        ns.get(sizes[k] + "/last")[r] = res.durationNs();
                        line.append(String.format(Locale.ROOT, " %d rules %d ns;", sizes[k], res.durationNs()));
                    }
                    log.println(line);
                }
                // then without the final accept: no rule matches, the policy (drop) decides
                Topology.Builder t2 = Topology.builder().instance("fwd", "fwd")
                        .connect("fwd:0", "dev:" + lab.rootDevice("p7")).connect("fwd:1", "dev:" + lab.rootDevice("p8"));
                for (int k = 0; k < sizes.length; k++) {
                    String name = "fw" + sizes[k];
                    List<Rule> rs = ruleSet(sizes[k], dst);
                    noAccept[k] = config(sizes[k], dst).withRules(FirewallConfig.Chain.EGRESS, rs.subList(0, rs.size() - 1));
                    t2.instance(name, "firewall", noAccept[k].toMap())
                            .connect(name + ":0", "dev:" + lab.rootDevice("p" + (2 * k + 1)))
                            .connect(name + ":1", "dev:" + lab.rootDevice("p" + (2 * k + 2)));
                }
                engine.apply(t2.build());
                for (int r = 0; r < rounds; r++) {
                    List<Integer> order = new ArrayList<>(List.of(0, 1, 2));
                    Collections.rotate(order, r);
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "   round %d (no match):", r + 1));
                    for (int k : order) {
                        var res = progs[k].testRun(new TestRun(policy, 0, ctx, 0, repeat, 0, 0, 0));
                        if (res.returnValue() != 2) {
                            throw new IllegalStateException("fw" + sizes[k] + " did not drop: " + res.returnValue());
                        }
                        ns.get(sizes[k] + "/policy")[r] = res.durationNs();
                        line.append(String.format(Locale.ROOT, " %d rules %d ns;", sizes[k], res.durationNs()));
                    }
                    log.println(line);
                }
            } finally {
                for (BpfProgram p : progs) {
                    if (p != null) {
                        p.close();
                    }
                }
            }
            String loadAfter = EngineBenchSupport.loadAverage();
            log.println();
            EngineBenchSupport.printMachine(log, loadBefore, loadAfter);
            log.printf(Locale.ROOT, "== medians over %d rounds of BPF_PROG_TEST_RUN x %d; ratio to 10 rules within a round,"
                    + " then the median.%s%n", rounds, repeat, smoke ? " SMOKE RUN." : "");
            log.println();
            log.println("| packet | rules per chain | ns/packet (median) | per round | ratio to 10 rules (median) |");
            log.println("| --- | ---: | ---: | --- | ---: |");
            for (String kind : List.of("last", "policy")) {
                double[] base = ns.get("10/" + kind);
                for (int s : sizes) {
                    double[] v = ns.get(s + "/" + kind);
                    double[] ratio = EngineBenchSupport.ratios(v, base);
                    log.printf(Locale.ROOT, "| %s | %d | %.0f | %s | **%.2f** |%n",
                            kind.equals("last") ? "matches the last rule" : "matches no rule (policy)", s,
                            EngineBenchSupport.median(v), EngineBenchSupport.list(v, "%.0f"),
                            EngineBenchSupport.median(ratio));
                }
            }
            log.printf(Locale.ROOT, "%nThe same packet through a plain jvisor forwarder (the SDK's framework cost, no firewall):"
                    + " %.0f ns (median; %s).%n%n", EngineBenchSupport.median(fwdNs), EngineBenchSupport.list(fwdNs, "%.0f"));
        } finally {
            EngineBenchSupport.tearDown(engine, options, lab, log);
        }
    }

    static byte[] udpFrame(String src, String dst, int sport, int dport) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 18);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + 8 + 18)).putShort((short) 1).putShort((short) 0)
                .put((byte) 64).put((byte) 17).putShort((short) 0)
                .put(java.net.InetAddress.getByName(src).getAddress()).put(java.net.InetAddress.getByName(dst).getAddress());
        b.putShort((short) sport).putShort((short) dport).putShort((short) 26).putShort((short) 0);
        return b.array();
    }

    // ---- end to end ----------------------------------------------------------------------------

    static final String[] PATHS = {"no firewall", "iptables", "nftables", "jvisor forwarder", "jvisor firewall"};
    static final String FORWARDER = "static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)\n"
            + "{\n\treturn md->in_port > 1 ? jv_drop(md, JV_DROP_USER) : jv_forward(md, md->in_port ^ 1);\n}\n";

    /**
     * The e2e figures, per path one value per round: generator frames received and sent per second,
     * frames dropped on the path (tx_dropped), frames the sender's device refused (and the generator
     * sent again); iperf3 UDP and TCP. Then which generator ran ({@code generatorKind}, and its
     * {@link PacketGenerator#summary()}) and the checks made at the end.
     */
    record E2eResult(int rules, int rounds, int seconds, boolean smoke, PacketGenerator.Choice generatorKind,
                     String generator, Map<String, double[]> genRx, Map<String, double[]> genTx,
                     Map<String, double[]> genDropped, Map<String, double[]> genRefused, Map<String, double[]> udp,
                     Map<String, double[]> tcp, List<String> checks, String loadBefore, String loadAfter) {
        /** Per round, path {@code p}'s value over {@code base}'s. */
        static double[] ratio(Map<String, double[]> m, String p, String base) {
            return EngineBenchSupport.ratios(m.get(p), m.get(base));
        }
    }

    /** The devices one path's frames cross: host (null: the root namespace) and device name. */
    record Dev(Host host, String name) {
        long txDropped() {
            return PacketRate.counters(host, name).txDropped();
        }
    }

    /**
     * The forwarding part: {@code rounds} rounds of {@code seconds} per measurement, {@code n} rules,
     * the traffic generator {@code generatorChoice} (with {@code senders} threads for af-packet).
     */
    static E2eResult e2e(int rounds, int seconds, int n, boolean smoke, PacketGenerator.Choice generatorChoice,
                         int senders, PrintStream log) throws Exception {
        String loadBefore = EngineBenchSupport.loadAverage();
        String net = EngineBenchSupport.labNet();
        EngineOptions options = EngineBenchSupport.engineOptions("jvfe");
        Engine engine = null;
        Lab lab = null;
        PacketRate.Drops drops = null;
        PacketGenerator generator = null;
        try {
            // path k: a{k} (subnet 2k+11) -> r{k} -> b{k} (subnet 2k+12); the wire a{k} - r{k} of paths 3
            // (the jvisor firewall) and 4 (the same wiring through a plain jvisor forwarder) passes the root
            LabSpec spec = LabSpec.empty();
            for (int k = 0; k < 5; k++) {
                int s1 = 2 * k + 11, s2 = 2 * k + 12;
                spec = spec.withHost(host("a" + k, net + s1 + ".2/24", net + s1 + ".1"))
                        .withHost(host("b" + k, net + s2 + ".2/24", net + s2 + ".1"))
                        .withHost(router("r" + k, net + s1 + ".1/24", net + s2 + ".1/24"))
                        .withWire(WireSpec.between("r" + k + ":eth1", "b" + k + ":eth0"));
                if (k >= 3) {
                    spec = spec.withWire(WireSpec.toRoot("a" + k + ":eth0", "pa" + k, null))
                            .withWire(WireSpec.toRoot("r" + k + ":eth0", "pr" + k, null));
                } else {
                    spec = spec.withWire(WireSpec.between("a" + k + ":eth0", "r" + k + ":eth0"));
                }
            }
            lab = Lab.up(spec);
            log.println("== e2e: lab " + lab.prefix() + " (" + net + "0.0/16), " + n + " rules; a_k -> r_k (ip_forward) -> b_k;"
                    + " iptables in r1, nftables in r2, the jvisor firewall between a3 and r3, a jvisor forwarder (no"
                    + " rules, no conntrack) between a4 and r4");
            // iptables (legacy xtables) in r1, nftables in r2
            String d1 = net + "14.2", d2 = net + "16.2", d3 = net + "18.2";
            StringBuilder ipt = new StringBuilder("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n");
            for (int i = 0; i < n - 1; i++) {
                ipt.append("-A FORWARD -s ").append(peerAddress(i)).append("/32 -d ").append(d1)
                        .append("/32 -p udp -m udp --dport 5000:5999 -j DROP\n");
            }
            ipt.append("-A FORWARD -j ACCEPT\nCOMMIT\n");
            exec(lab.host("r1"), ipt.toString(), "iptables-legacy-restore");
            StringBuilder nft = new StringBuilder("table ip jvbench {\n chain forward {\n  type filter hook forward priority 0;"
                    + " policy drop;\n");
            for (int i = 0; i < n - 1; i++) {
                nft.append("  ip saddr ").append(peerAddress(i)).append(" ip daddr ").append(d2)
                        .append(" udp dport 5000-5999 drop\n");
            }
            nft.append("  counter accept\n }\n}\n");
            exec(lab.host("r2"), nft.toString(), "nft", "-f", "-");
            String iptCount = exec(lab.host("r1"), "", "iptables-legacy", "-S", "FORWARD");
            String nftCount = exec(lab.host("r2"), "", "nft", "list", "chain", "ip", "jvbench", "forward");
            log.printf(Locale.ROOT, "== iptables FORWARD holds %d rules, nftables forward %d%n",
                    iptCount.lines().filter(l -> l.startsWith("-A")).count(),
                    nftCount.lines().filter(l -> l.contains("drop") || l.trim().endsWith("accept")).count() - 1);

            ModuleCatalog catalog = ModuleCatalog.discover();
            catalog.register(io.jvisor.engine.ModuleType.fromSource("fwd", "#include <jvisor/module.h>\n" + FORWARDER, 2));
            engine = Engine.start(options, catalog);
            long t0 = System.nanoTime();
            engine.apply(Topology.builder().instance("fw", "firewall", config(n, d3).toMap())
                    .connect("fw:0", "dev:" + lab.rootDevice("pa3"))
                    .connect("fw:1", "dev:" + lab.rootDevice("pr3"))
                    .instance("fwd", "fwd")
                    .connect("fwd:0", "dev:" + lab.rootDevice("pa4"))
                    .connect("fwd:1", "dev:" + lab.rootDevice("pr4")).build());
            log.printf(Locale.ROOT, "== jvisor firewall with %d rules per chain applied in %.2f s%n", n,
                    (System.nanoTime() - t0) / 1e9);

            Map<String, Host[]> pairs = new LinkedHashMap<>();
            Map<String, Dev> first = new LinkedHashMap<>();
            Map<String, List<Dev>> devices = new LinkedHashMap<>();
            for (int k = 0; k < 5; k++) {
                Host a = lab.host("a" + k), r = lab.host("r" + k), b = lab.host("b" + k);
                pairs.put(PATHS[k], new Host[] {a, b});
                List<Dev> ds = new ArrayList<>(List.of(new Dev(a, "eth0"), new Dev(r, "eth0"), new Dev(r, "eth1"),
                        new Dev(b, "eth0")));
                if (k >= 3) {
                    ds.add(new Dev(null, lab.rootDevice("pa" + k)));
                    ds.add(new Dev(null, lab.rootDevice("pr" + k)));
                }
                devices.put(PATHS[k], ds);
                // the first device the generator's frames enter: it needs NAPI (GRO on) to take XDP_TX frames
                // (the live generator)
                first.put(PATHS[k], k >= 3 ? new Dev(null, lab.rootDevice("pa" + k)) : new Dev(r, "eth0"));
            }
            Map<String, byte[]> frames = new LinkedHashMap<>();
            for (Map.Entry<String, Host[]> e : pairs.entrySet()) {
                Host[] h = e.getValue();
                // resolves every neighbour on the way
                Ping.run(h[0].netns(), h[1].address(), 1);
                Ping.run(h[1].netns(), h[0].address(), 1);
                if (!Ping.run(h[0].netns(), h[1].address(), 2).allReplied()) {
                    throw new IllegalStateException(h[0] + " does not reach " + h[1]);
                }
                frames.put(e.getKey(), PacketRate.frame(h[0], h[1]));
            }
            drops = new PacketRate.Drops();
            // the live generator's probe sends one frame on the first path
            generator = PacketGenerator.open(generatorChoice, senders, pairs.get(PATHS[0])[0], frames.get(PATHS[0]));
            log.println("== generator: " + generator.summary());
            for (String p : PATHS) { // warm-up, untimed
                generatorSlot(generator, drops, pairs.get(p), frames.get(p), first.get(p), devices.get(p),
                        Duration.ofMillis(smoke ? 100 : 300));
            }
            if (!smoke) {
                for (Host[] h : pairs.values()) {
                    Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(), Duration.ofSeconds(1));
                }
            }
            log.printf(Locale.ROOT, "== %d rounds, %d s per measurement, order rotating; per path: the %s generator"
                    + " (60-byte frames, 64 on the wire), iperf3 UDP (64-byte payloads), iperf3 TCP%s%n", rounds, seconds,
                    generator.kind().option(), smoke ? " (SMOKE RUN: too short to compare)" : "");
            Map<String, double[]> genRx = new LinkedHashMap<>(), genTx = new LinkedHashMap<>(),
                    genDropped = new LinkedHashMap<>(), genRefused = new LinkedHashMap<>(), udp = new LinkedHashMap<>(),
                    tcp = new LinkedHashMap<>();
            for (String p : PATHS) {
                for (Map<String, double[]> m : List.of(genRx, genTx, genDropped, genRefused, udp, tcp)) {
                    m.put(p, new double[rounds]);
                }
            }
            for (int r = 0; r < rounds; r++) {
                List<String> order = new ArrayList<>(List.of(PATHS));
                Collections.rotate(order, r);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "   round %d:", r + 1));
                for (String p : order) {
                    Host[] h = pairs.get(p);
                    double[] g = generatorSlot(generator, drops, h, frames.get(p), first.get(p), devices.get(p),
                            Duration.ofSeconds(seconds));
                    genRx.get(p)[r] = g[0];
                    genTx.get(p)[r] = g[1];
                    genDropped.get(p)[r] = g[2];
                    genRefused.get(p)[r] = g[3];
                    udp.get(p)[r] = iperfUdp(h[1], h[0], seconds);
                    tcp.get(p)[r] = Iperf3.tcp(h[1].netns(), h[1].address(), h[0].netns(), Duration.ofSeconds(seconds))
                            .gbps();
                    line.append(String.format(Locale.ROOT, " %s gen %.0f rx/s (sent %.0f/s, dropped %.0f, refused %.0f),"
                            + " iperf3 %.0f rx/s %.2f Gbit/s;", p, g[0], g[1], g[2], g[3], udp.get(p)[r], tcp.get(p)[r]));
                }
                log.println(line);
            }
            List<String> checks = new ArrayList<>();
            FirewallModule fm = (FirewallModule) engine.catalog().get("firewall");
            var last = fm.instance("fw").counter(FirewallConfig.Chain.EGRESS, n * 10);
            if (last.packets() == 0) {
                throw new IllegalStateException("the jvisor firewall's last rule saw no packet");
            }
            // the peers really traversed their rule sets: the counters of their final accept
            String iptLast = exec(lab.host("r1"), "", "iptables-legacy", "-L", "FORWARD", "-v", "-x", "-n").lines()
                    .reduce((x, y) -> y).orElse("").trim();
            String nftLast = exec(lab.host("r2"), "", "nft", "list", "chain", "ip", "jvbench", "forward").lines()
                    .filter(l -> l.contains("counter")).findFirst().orElse("").trim();
            checks.add("final accept rules counted: jvisor firewall (egress) " + last.packets() + " packets; iptables '"
                    + iptLast.replaceAll("\\s+", " ") + "'; nftables '" + nftLast + "'");
            for (String instance : List.of("fw", "fwd")) {
                long dropped = engine.drops(instance).values().stream().mapToLong(Long::longValue).sum();
                checks.add("jvisor instance " + instance + ": " + dropped + " drops " + engine.drops(instance)
                        + ", missed tail calls " + engine.missedTailCalls(instance));
            }
            checks.forEach(c -> log.println("== check: " + c));
            return new E2eResult(n, rounds, seconds, smoke, generator.kind(), generator.summary(), genRx, genTx,
                    genDropped, genRefused, udp, tcp, checks, loadBefore, EngineBenchSupport.loadAverage());
        } finally {
            EngineBenchSupport.closeAll(Arrays.asList(generator, drops), log, "== ");
            EngineBenchSupport.tearDown(engine, options, lab, log);
        }
    }

    /**
     * One generator measurement on one path: for the live generator GRO on at the first device (so it
     * takes XDP_TX frames), and the receiver's drop on, for the slot only, so the iperf3 runs see the
     * devices as they were. Returns frames received per second at the receiver's eth0, frames sent
     * per second, the growth of the tx_dropped counters of the path's devices (frames a device could
     * not hand on) and the frames the sender's device refused (sent again by the generator).
     */
    static double[] generatorSlot(PacketGenerator generator, PacketRate.Drops drops, Host[] h, byte[] frame,
                                  Dev first, List<Dev> devices, Duration duration) throws InterruptedException {
        if (generator.needsNapi()) {
            PacketRate.gro(first.host(), first.name(), true);
        }
        drops.on(h[1]);
        try {
            long rx0 = PacketRate.rxPackets(h[1]);
            long d0 = devices.stream().mapToLong(Dev::txDropped).sum();
            long t0 = System.nanoTime();
            PacketGenerator.Sent sent = generator.sendFor(h[0], frame, duration);
            double secs = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(100); // the last frames on their way
            long got = PacketRate.rxPackets(h[1]) - rx0;
            long dropped = devices.stream().mapToLong(Dev::txDropped).sum() - d0;
            return new double[] {got / secs, sent.frames() / secs, dropped, sent.refused()};
        } finally {
            drops.off(h[1]);
            if (generator.needsNapi()) {
                PacketRate.gro(first.host(), first.name(), false);
            }
        }
    }

    /** The e2e report: the machine, then one table row per path. */
    static void printE2e(E2eResult r, PrintStream log) {
        int rounds = r.rounds();
        log.println();
        EngineBenchSupport.printMachine(log, r.loadBefore(), r.loadAfter());
        log.printf(Locale.ROOT, "== medians over %d rounds of %d s; ratios within a round, then the median.%s%n",
                rounds, r.seconds(), r.smoke() ? " SMOKE RUN." : "");
        log.println("== generator: " + r.generator());
        log.println();
        log.println("| path (" + r.rules() + " rules) | UDP 64 B rx/s (" + r.generatorKind().option() + " generator) |"
                + " per round | vs iptables | sent/s (median) | dropped on the path, per round |"
                + " refused by the sender's device, per round |");
        log.println("| --- | ---: | --- | ---: | ---: | --- | --- |");
        for (String p : PATHS) {
            log.printf(Locale.ROOT, "| %s | %.0f | %s | **%.2f** | %.0f | %s | %s |%n", p,
                    EngineBenchSupport.median(r.genRx().get(p)), EngineBenchSupport.list(r.genRx().get(p), "%.0f"),
                    EngineBenchSupport.median(E2eResult.ratio(r.genRx(), p, "iptables")),
                    EngineBenchSupport.median(r.genTx().get(p)), EngineBenchSupport.list(r.genDropped().get(p), "%.0f"),
                    EngineBenchSupport.list(r.genRefused().get(p), "%.0f"));
        }
        log.println();
        log.println("| path (" + r.rules() + " rules) | UDP 64 B rx/s (iperf3) | per round | vs iptables | TCP Gbit/s |"
                + " per round | vs no firewall | vs jvisor forwarder |");
        log.println("| --- | ---: | --- | ---: | ---: | --- | ---: | ---: |");
        for (String p : PATHS) {
            log.printf(Locale.ROOT, "| %s | %.0f | %s | **%.2f** | %.2f | %s | **%.2f** | **%.2f** |%n", p,
                    EngineBenchSupport.median(r.udp().get(p)), EngineBenchSupport.list(r.udp().get(p), "%.0f"),
                    EngineBenchSupport.median(E2eResult.ratio(r.udp(), p, "iptables")),
                    EngineBenchSupport.median(r.tcp().get(p)), EngineBenchSupport.list(r.tcp().get(p), "%.2f"),
                    EngineBenchSupport.median(E2eResult.ratio(r.tcp(), p, "no firewall")),
                    EngineBenchSupport.median(E2eResult.ratio(r.tcp(), p, "jvisor forwarder")));
        }
        log.println();
        double[] aim = E2eResult.ratio(r.genRx(), "jvisor firewall", "iptables");
        log.printf(Locale.ROOT, "UDP 64 B (%s generator), jvisor firewall / iptables at %d rules: **%.2f** (per round %s;"
                + " aim: at least 10).%n", r.generatorKind().option(), r.rules(), EngineBenchSupport.median(aim),
                EngineBenchSupport.list(aim, "%.2f"));
        EngineBenchSupport.printChecks(log, r.checks());
        log.println();
    }

    /**
     * iperf3 UDP with 64-byte payloads at full speed ({@code -b 0}) from {@code client} to {@code server}:
     * the datagrams the server received per second (sent minus the server's count of lost ones).
     */
    static double iperfUdp(Host server, Host client, int seconds) throws Exception {
        int port = ThreadLocalRandom.current().nextInt(20000, 60000);
        String addr = server.address().getHostAddress();
        Process srv = server.netns().exec(new ProcessBuilder("iperf3", "-s", "-1", "--forceflush", "-B", addr, "-p",
                Integer.toString(port)).redirectErrorStream(true));
        try {
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(srv.getInputStream(), StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + 10_000_000_000L;
            for (String line = in.readLine(); ; line = in.readLine()) {
                if (line == null || System.nanoTime() > deadline) {
                    throw new IllegalStateException("iperf3 server in " + server + " did not start");
                }
                if (line.contains("listening")) {
                    break;
                }
            }
            Thread drain = Thread.ofPlatform().daemon().start(() -> {
                try {
                    in.transferTo(java.io.Writer.nullWriter());
                } catch (java.io.IOException e) {
                    // the server ended
                }
            });
            Process cli = client.netns().exec(new ProcessBuilder("iperf3", "-u", "-l", "64", "-b", "0", "-t",
                    Integer.toString(seconds), "-c", addr, "-p", Integer.toString(port), "-J").redirectErrorStream(true));
            String out = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            cli.waitFor();
            drain.join(2000);
            var sum = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out).path("end").path("sum");
            if (sum.isMissingNode() || !sum.has("packets")) {
                throw new IllegalStateException("iperf3 UDP in " + client + " gave no summary: " + out);
            }
            return (sum.path("packets").asLong() - sum.path("lost_packets").asLong()) / sum.path("seconds").asDouble(seconds);
        } finally {
            srv.destroy();
            if (!srv.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                srv.destroyForcibly();
            }
        }
    }

    /** Runs a command in a host's namespace with {@code input} on stdin; fails on a non-zero exit. */
    static String exec(Host h, String input, String... cmd) throws Exception {
        Process p = h.exec(List.of(cmd));
        Thread feeder = Thread.ofPlatform().daemon().start(() -> {
            try (var out = p.getOutputStream()) {
                out.write(input.getBytes(StandardCharsets.UTF_8));
            } catch (java.io.IOException e) {
                // the command exited early; its status says why
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        feeder.join();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed in " + h + ": " + err);
        }
        return out;
    }
}

package io.jvisor.modules.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.modules.ConfigValues;
import io.jvisor.modules.EngineLab;
import io.jvisor.modules.Sockets;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.Topology;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.WireSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A client behind a router, the LB between the router and the backends' bridge:
 *
 * <pre>
 *   c (N.1.2) --- r:0  router  r:1 --- lb:0  lb:1 --- br:0  bridge  br:1..4 --- b1..b4 (N.2.11..14)
 * </pre>
 *
 * The VIP N.2.100 is on the backends' subnet: the router ARPs for it and the LB answers. Each backend
 * answers UDP and TCP with its own number, so the client sees which backend served each flow, and
 * replies arriving from the VIP prove the reverse translation.
 */
@RequiresRoot
class LbTest {
    static final int UDP_PORT = 8000, TCP_PORT = 9000, DSR_PORT = 7000;

    /**
     * What a DSR backend's ipip device would do, as a two-port module in front of it: strips the outer
     * header of IPIP packets from the LB's side. A plain (not encapsulated) packet to the DSR port is
     * dropped under reason user+1, so the test can tell that every flow arrived encapsulated.
     */
    static final String DECAP = """
            #include <jvisor/module.h>
            #define DECAP_L3_IPV4 (1ULL << 7) /* BPF_F_ADJ_ROOM_DECAP_L3_IPV4, newer than these headers */
            static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
            {
                struct iphdr *ip = jv_ipv4(ctx);
                if (md->in_port != 0 || !ip)
                    return jv_forward(md, md->in_port ^ 1);
                if (ip->protocol == IPPROTO_IPIP && ip->ihl == 5) {
                    if (bpf_skb_adjust_room(ctx->raw, -20, BPF_ADJ_ROOM_MAC, DECAP_L3_IPV4))
                        return jv_drop(md, JV_DROP_USER);
                    return jv_forward(md, 1);
                }
                if (ip->protocol == IPPROTO_UDP) {
                    struct udphdr *uh = jv_l4(ctx, ip, sizeof(*uh));
                    if (uh && uh->dest == bpf_htons(7000))
                        return jv_drop(md, JV_DROP_USER + 1);
                }
                return jv_forward(md, 1);
            }
            """;

    static final class Bed extends EngineLab {
        final List<AutoCloseable> servers = new ArrayList<>();

        Bed() throws Exception {
            this(false);
        }

        /**
         * With dsr, an IPIP decapsulator sits between the LB and the bridge: this kernel has no ipip
         * device for the backends. The LB has already given the frames the backend's MAC, so the bridge
         * still delivers each to its backend, which sees the inner packet as its ipip device would give it.
         */
        final boolean dsr;

        Bed(boolean dsr) throws Exception {
            super("lb", "jvlb", catalog(), net -> {
                LabSpec spec = LabSpec.empty().withHost(host("c", net + "1.2/24", net + "1.1"))
                        .withWire(WireSpec.toRoot("c:eth0", "c", null));
                for (int i = 1; i <= 4; i++) {
                    spec = spec.withHost(host("b" + i, net + "2." + (10 + i) + "/24", net + "2.1"))
                            .withWire(WireSpec.toRoot("b" + i + ":eth0", "b" + i, null));
                }
                return spec;
            });
            this.dsr = dsr;
            try {
                for (int i = 1; i <= 4; i++) {
                    servers.add(udpServer(i));
                    servers.add(tcpServer(i));
                }
            } catch (Exception e) {
                close();
                throw e;
            }
        }

        /** The standard modules and the IPIP decapsulator. */
        static ModuleCatalog catalog() {
            ModuleCatalog c = ModuleCatalog.discover();
            c.register(ModuleType.fromSource("ipip-decap", DECAP, 2));
            return c;
        }

        String vip() {
            return net + "2.100";
        }

        String backend(int i) {
            return net + "2." + (10 + i);
        }

        void apply(Map<String, String> lb) {
            Topology.Builder t = Topology.builder()
                    .instance("r", "router", Map.of("port.0", net + "1.1/24", "port.1", net + "2.1/24"))
                    .instance("lb", "lb", lb).instance("br", "bridge")
                    .connect("r:0", "dev:" + lab.rootDevice("c"))
                    .connect("r:1", "lb:0");
            if (dsr) {
                t.instance("dx", "ipip-decap").connect("lb:1", "dx:0").connect("dx:1", "br:0");
            } else {
                t.connect("lb:1", "br:0");
            }
            for (int i = 1; i <= 4; i++) {
                t.connect("br:" + i, "dev:" + lab.rootDevice("b" + i));
            }
            engine.apply(t.build());
        }

        LbHandler lb() {
            return ((LbModule) catalog.get("lb")).instance("lb");
        }

        /** Backend i answers every datagram on its UDP port with its number. */
        AutoCloseable udpServer(int i) throws Exception {
            return Sockets.answerUdp(h("b" + i), InetAddress.getByName(backend(i)), UDP_PORT, (byte) i,
                    "lb-test-udp-b" + i);
        }

        /** Backend i answers every byte on every TCP connection with its number. */
        AutoCloseable tcpServer(int i) throws Exception {
            ServerSocket ss = Sockets.listen(h("b" + i), InetAddress.getByName(backend(i)), TCP_PORT, 200);
            Thread t = new Thread(() -> {
                while (!ss.isClosed()) {
                    try {
                        Socket c = ss.accept();
                        Thread w = new Thread(() -> {
                            try (c; InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
                                while (in.read() >= 0) {
                                    out.write(i);
                                    out.flush();
                                }
                            } catch (IOException e) {
                                // closed
                            }
                        });
                        w.setDaemon(true);
                        w.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "lb-test-tcp-b" + i);
            t.setDaemon(true);
            t.start();
            return ss;
        }

        /**
         * One datagram from each client source port to the VIP; returns port -> backend number. A flow
         * whose answer does not come is retried (the first packets may meet unresolved neighbours).
         */
        Map<Integer, Integer> udpFlows(List<Integer> ports) throws Exception {
            return udpFlows(ports, UDP_PORT);
        }

        Map<Integer, Integer> udpFlows(List<Integer> ports, int vipPort) throws Exception {
            Map<Integer, Integer> out = new TreeMap<>();
            InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(vip()), vipPort);
            InetAddress me = InetAddress.getByName(net + "1.2");
            for (int from = 0; from < ports.size(); from += 200) {
                List<DatagramSocket> socks = new ArrayList<>();
                try {
                    for (int p : ports.subList(from, Math.min(ports.size(), from + 200))) {
                        DatagramSocket s = h("c").netns().run(() -> new DatagramSocket(new InetSocketAddress(me, p)));
                        socks.add(s);
                        s.send(new DatagramPacket(new byte[] {0}, 1, to));
                    }
                    // a lost first packet (neighbours still resolving) is sent again, on every
                    // socket still waiting, whenever one of them times out
                    int attempts = 0;
                    for (DatagramSocket s : socks) {
                        while (true) {
                            s.setSoTimeout(1000);
                            DatagramPacket p = new DatagramPacket(new byte[16], 16);
                            try {
                                s.receive(p);
                            } catch (SocketTimeoutException e) {
                                if (++attempts == 6) {
                                    throw new AssertionError("no answer for client port " + s.getLocalPort());
                                }
                                for (DatagramSocket w : socks) {
                                    if (!out.containsKey(w.getLocalPort())) {
                                        w.send(new DatagramPacket(new byte[] {0}, 1, to));
                                    }
                                }
                                continue;
                            }
                            // the reply comes from the VIP: the reverse translation worked
                            assertThat(p.getSocketAddress()).isEqualTo(to);
                            out.put(s.getLocalPort(), (int) p.getData()[0]);
                            break;
                        }
                    }
                } finally {
                    socks.forEach(DatagramSocket::close);
                }
            }
            return out;
        }

        /** The Maglev table slot a client flow hashes to. */
        int slot(int clientPort, int vipPort, int protocol, int tableSize) {
            int h = LbHandler.flowHash(ConfigValues.ip("c", net + "1.2"), ConfigValues.ip("v", vip()), clientPort, vipPort,
                    protocol);
            return Integer.remainderUnsigned(h, tableSize);
        }

        /** The backend number the Maglev table names for a client flow (what a flow not in lb_conn gets). */
        int predicted(String service, int clientPort, int vipPort, int protocol) throws Exception {
            List<String> table = lb().table(service);
            String be = table.get(slot(clientPort, vipPort, protocol, table.size()));
            return Integer.parseInt(be.substring(be.lastIndexOf('.') + 1, be.indexOf(':'))) - 10;
        }

        @Override
        public void close() {
            for (AutoCloseable s : servers) {
                try {
                    s.close();
                } catch (Exception e) {
                    // best effort
                }
            }
            super.close();
        }
    }

    static Map<String, String> config(Bed bed, String... backends) {
        Map<String, String> c = new TreeMap<>();
        c.put("service.dns", "udp " + bed.vip() + ":" + UDP_PORT);
        c.put("service.web", "tcp " + bed.vip() + ":" + TCP_PORT);
        for (int i = 0; i + 1 < backends.length; i += 2) {
            c.put(backends[i], backends[i + 1]);
        }
        return c;
    }

    static int[] counts(Map<Integer, Integer> flows) {
        int[] c = new int[5];
        flows.values().forEach(b -> c[b]++);
        return c;
    }

    static List<Integer> ports(int from, int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(from + i);
        }
        return out;
    }

    @Test
    void flowsSpreadByWeightAndRemovingABackendMovesOnlyItsFlows() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(config(bed, "backend.dns.b1", bed.backend(1) + " weight 1", "backend.dns.b2",
                    bed.backend(2) + " weight 2", "backend.dns.b3", bed.backend(3) + " weight 3"));
            bed.udpFlows(List.of(20000)); // warm-up: the router resolves the VIP, the LB the backends
            bed.lb().flushConnections();

            int n = 3000;
            List<Integer> ports = ports(30000, n);
            Map<Integer, Integer> first = bed.udpFlows(ports);
            assertThat(first).hasSize(n);
            // every flow went where the Maglev table says
            for (var e : first.entrySet()) {
                assertThat(e.getValue()).as("client port %d", e.getKey())
                        .isEqualTo(bed.predicted("dns", e.getKey(), UDP_PORT, 17));
            }
            // and the spread follows the weights 1:2:3: binomial, within 5 standard deviations
            int[] c = counts(first);
            for (int b = 1; b <= 3; b++) {
                double p = b / 6.0, sd = Math.sqrt(n * p * (1 - p));
                assertThat((double) c[b]).as("backend %d got %d of %d", b, c[b], n)
                        .isCloseTo(n * p, org.assertj.core.data.Offset.offset(5 * sd));
            }
            assertThat(bed.lb().connections()).hasSizeGreaterThanOrEqualTo(n);

            // remove b3: its flows go to b1 and b2; every other flow stays where it was
            List<String> before = bed.lb().table("dns");
            bed.apply(config(bed, "backend.dns.b1", bed.backend(1) + " weight 1", "backend.dns.b2",
                    bed.backend(2) + " weight 2"));
            List<String> after = bed.lb().table("dns");
            Map<Integer, Integer> second = bed.udpFlows(ports);
            int moved = 0;
            for (int p : ports) {
                if (first.get(p) == 3) {
                    assertThat(second.get(p)).isIn(1, 2);
                    moved++;
                } else {
                    assertThat(second.get(p)).as("client port %d", p).isEqualTo(first.get(p));
                }
            }
            assertThat(moved).isEqualTo(c[3]);

            // without the connection table, the new Maglev table alone decides, as predicted
            bed.lb().flushConnections();
            Map<Integer, Integer> third = bed.udpFlows(ports);
            for (int p : ports) {
                assertThat(third.get(p)).isEqualTo(bed.predicted("dns", p, UDP_PORT, 17));
            }
            // Maglev keeps almost every slot of b1 and b2 in place. MaglevTest holds generated sets to 2%
            // of the other slots; this 1:2:3 set loses half its slots, and over the 150 address sets
            // the test may draw, the worst moves 3.6% of the others (0.07% on average): bound it at 5%
            String gone = bed.backend(3) + ":" + UDP_PORT;
            int otherSlots = 0, otherSlotsMoved = 0;
            for (int s = 0; s < before.size(); s++) {
                if (!before.get(s).equals(gone)) {
                    otherSlots++;
                    if (!before.get(s).equals(after.get(s))) {
                        otherSlotsMoved++;
                    }
                }
            }
            assertThat(otherSlotsMoved).as("slots of b1 and b2 that moved, of %d", otherSlots)
                    .isLessThanOrEqualTo(otherSlots / 20);
            // and the flows that moved from b1 or b2 are exactly those whose slot moved
            for (int p : ports) {
                if (first.get(p) != 3) {
                    int slot = bed.slot(p, UDP_PORT, 17, before.size());
                    assertThat(!third.get(p).equals(first.get(p))).as("client port %d, slot %d", p, slot)
                            .isEqualTo(!before.get(slot).equals(after.get(slot)));
                }
            }
        }
    }

    @Test
    void establishedTcpConnectionsSurviveAddingAndDrainingBackends() throws Exception {
        try (Bed bed = new Bed()) {
            String b1 = "backend.web.b1", b2 = "backend.web.b2", b3 = "backend.web.b3", b4 = "backend.web.b4";
            bed.apply(config(bed, b1, bed.backend(1), b2, bed.backend(2), b3, bed.backend(3)));
            // no warm-up: TCP retransmits the SYN that may meet unresolved neighbours
            InetSocketAddress vip = new InetSocketAddress(InetAddress.getByName(bed.vip()), TCP_PORT);
            List<Socket> conns = new ArrayList<>();
            try {
                Map<Socket, Integer> served = new HashMap<>();
                for (int i = 0; i < 40; i++) {
                    Socket s = Sockets.connect(bed.h("c"), vip, 5000);
                    s.setSoTimeout(5000);
                    conns.add(s);
                    served.put(s, exchange(s));
                    assertThat(served.get(s)).isEqualTo(bed.predicted("web", s.getLocalPort(), TCP_PORT, 6));
                }
                assertThat(served.values()).contains(1, 2, 3);

                // add b4: the table changes (about a quarter of it goes to b4), established connections stay
                bed.apply(config(bed, b1, bed.backend(1), b2, bed.backend(2), b3, bed.backend(3), b4, bed.backend(4)));
                long wouldMove = conns.stream().filter(s -> {
                    try {
                        return bed.predicted("web", s.getLocalPort(), TCP_PORT, 6) != served.get(s);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }).count();
                assertThat(wouldMove).as("connections the new table alone would move").isPositive();
                for (Socket s : conns) {
                    assertThat(exchange(s)).as("connection from port %d", s.getLocalPort()).isEqualTo(served.get(s));
                }
                // new connections follow the new table, b4 included
                List<Integer> fresh = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    try (Socket s = Sockets.connect(bed.h("c"), vip, 5000)) {
                        s.setSoTimeout(5000);
                        int b = exchange(s);
                        assertThat(b).isEqualTo(bed.predicted("web", s.getLocalPort(), TCP_PORT, 6));
                        fresh.add(b);
                    }
                }
                assertThat(fresh).contains(4);

                // drain b1: its connections keep working, new ones never reach it
                bed.apply(config(bed, b1, bed.backend(1) + " draining", b2, bed.backend(2), b3, bed.backend(3), b4,
                        bed.backend(4)));
                for (Socket s : conns) {
                    assertThat(exchange(s)).isEqualTo(served.get(s));
                }
                for (int i = 0; i < 30; i++) {
                    try (Socket s = Sockets.connect(bed.h("c"), vip, 5000)) {
                        s.setSoTimeout(5000);
                        assertThat(exchange(s)).isNotEqualTo(1);
                    }
                }
                assertThat(bed.lb().table("web")).doesNotContain(bed.backend(1) + ":" + TCP_PORT);
            } finally {
                for (Socket s : conns) {
                    s.close();
                }
            }
        }
    }

    static int exchange(Socket s) throws IOException {
        s.getOutputStream().write('x');
        s.getOutputStream().flush();
        int b = s.getInputStream().read();
        if (b < 0) {
            throw new IOException("connection closed");
        }
        return b;
    }

    @Test
    void dsrEncapsulatesToTheBackendsWhichAnswerTheClientDirectly() throws Exception {
        try (Bed bed = new Bed(true)) {
            // the backends hold the VIP on lo and answer from it, as DSR backends do
            for (int i = 1; i <= 2; i++) {
                Host b = bed.h("b" + i);
                run(b, "ip", "addr", "add", bed.vip() + "/32", "dev", "lo");
                b.netns().sysctl("net.ipv4.conf.eth0.arp_ignore", "1");
                b.netns().sysctl("net.ipv4.conf.eth0.arp_announce", "2");
                bed.servers.add(Sockets.answerUdp(b, InetAddress.getByName(bed.vip()), DSR_PORT, (byte) i,
                        "lb-test-dsr-b" + i));
            }
            Map<String, String> c = config(bed, "backend.dsr.b1", bed.backend(1), "backend.dsr.b2", bed.backend(2));
            c.put("service.dsr", "udp " + bed.vip() + ":" + DSR_PORT + " mode dsr");
            c.put("dsr.source", bed.net + "2.200");
            bed.apply(c);
            Map<Integer, Integer> flows = bed.udpFlows(ports(32000, 400), DSR_PORT);
            assertThat(flows).hasSize(400);
            assertThat(flows.values()).containsOnly(1, 2).contains(1, 2);
            for (var e : flows.entrySet()) {
                assertThat(e.getValue()).isEqualTo(bed.predicted("dsr", e.getKey(), DSR_PORT, 17));
            }
            // every flow arrived encapsulated (a plain one would be dropped under user+1)
            assertThat(bed.engine.drops("dx")).doesNotContainKey("user_1");
            assertThat(bed.engine.stats("dx", 1).txPackets()).isGreaterThanOrEqualTo(400);
            // the answers did not come back through the LB: DSR sets up no reverse entries
            assertThat(bed.lb().connections()).hasSizeGreaterThanOrEqualTo(400);
            int reverse = 0;
            for (byte[] k : bed.engine.map("lb", "lb_conn").keys()) {
                reverse += k[13] == 1 ? 1 : 0;
            }
            assertThat(reverse).isZero();
        }
    }

    static String run(Host h, String... cmd) throws Exception {
        Process p = h.exec(List.of(cmd));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                + new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
        }
        return out;
    }

    @Test
    void configErrorsNameTheKey() {
        LbModule m = new LbModule();
        assertThat(m.validateConfig(Map.of("service.web", "tcp 10.0.0.100:80", "backend.web.a", "10.0.0.1 weight 3"))).isNull();
        assertThat(m.validateConfig(Map.of("service.web", "sctp 10.0.0.100:80"))).contains("'service.web'");
        assertThat(m.validateConfig(Map.of("service.web", "tcp 10.0.0.100"))).contains("'service.web'");
        assertThat(m.validateConfig(Map.of("service.web", "tcp 10.0.0.100:80 mode dsr"))).contains("dsr.source");
        assertThat(m.validateConfig(Map.of("backend.web.a", "10.0.0.1"))).contains("'backend.web.a'").contains("no service");
        assertThat(m.validateConfig(Map.of("service.web", "tcp 10.0.0.100:80", "backend.web.a", "10.0.0.1 weight 0")))
                .contains("'backend.web.a'");
        assertThat(m.validateConfig(Map.of("service.web", "tcp 10.0.0.100:80", "backend.web.a", "10.0.0.1",
                "backend.web.b", "10.0.0.1:80"))).contains("'backend.web.b'").contains("same address");
        assertThat(m.validateConfig(Map.of("table.size", "65536"))).contains("'table.size'");
        assertThat(m.validateConfig(Map.of("service.web", "tcp 10.0.0.100:80", "backend.web.a", "10.0.0.1",
                "backend.web.b", "10.0.0.2", "table.size", "2"))).contains("'service.web'").contains("larger");
        assertThat(m.validateConfig(Map.of("service.a.b", "tcp 10.0.0.100:80"))).contains("'service.a.b'");
        assertThat(m.validateConfig(Map.of("colour", "blue"))).contains("'colour'");
        LbConfig c = LbConfig.parse(Map.of("service.web", "tcp 10.0.0.100:80", "backend.web.a", "10.0.0.1:8080 draining"));
        assertThat(c.services().getFirst().backends().getFirst().state()).isEqualTo(LbConfig.State.DRAINING);
        assertThat(c.services().getFirst().backends().getFirst().port()).isEqualTo(8080);
        assertThat(LbConfig.parse(Map.of("service.web", "tcp 10.0.0.100:80", "backend.web.a", "10.0.0.1"))
                .services().getFirst().backends().getFirst().port()).isEqualTo(80);
    }

    @Test
    void aBadChangeIsRefusedAndLeavesTheRunningServiceAlone() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(config(bed, "backend.dns.b1", bed.backend(1), "backend.dns.b2", bed.backend(2)));
            bed.udpFlows(List.of(20000));
            assertThatThrownBy(() -> bed.apply(config(bed, "backend.dns.b1", bed.backend(1) + " weight -1")))
                    .hasMessageContaining("'backend.dns.b1'");
            Map<Integer, Integer> flows = bed.udpFlows(ports(31000, 50));
            assertThat(flows.values()).containsOnly(1, 2).contains(1, 2);
        }
    }
}

package io.jvisor.modules.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.modules.EngineLab;
import io.jvisor.modules.Sockets;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import io.jvisor.net.lab.WireSpec;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Two hosts in different subnets, each wired to a router port. */
@RequiresRoot
class RouterTest {

    /** h1 a.1.2/24 (gw .1) on port 0, h2 a.2.2/24 (gw .1) on port 1, and an engine running the router. */
    static final class Bed extends EngineLab {
        Bed() throws Exception {
            super("router", "jvr", ModuleCatalog.discover(), net -> {
                LabSpec spec = LabSpec.empty();
                for (int i = 1; i <= 2; i++) {
                    spec = spec.withHost(host("h" + i, net + i + ".2/24", net + i + ".1"))
                            .withWire(WireSpec.toRoot("h" + i + ":eth0", "r" + i, null));
                }
                return spec;
            });
        }

        Map<String, String> config(String... extra) {
            Map<String, String> c = new TreeMap<>();
            c.put("port.0", net + "1.1/24");
            c.put("port.1", net + "2.1/24");
            for (int i = 0; i + 1 < extra.length; i += 2) {
                c.put(extra[i], extra[i + 1]);
            }
            return c;
        }

        void apply(Map<String, String> config) {
            engine.apply(Topology.builder().instance("r", "router", config)
                    .connect("r:0", "dev:" + lab.rootDevice("r1"))
                    .connect("r:1", "dev:" + lab.rootDevice("r2")).build());
        }

        RouterHandler router() {
            return ((RouterModule) catalog.get("router")).instance("r");
        }

        Host h(int i) {
            return lab.host("h" + i);
        }
    }

    @Test
    void routesBetweenSubnetsAnswersPingAndSendsIcmpErrors() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.config());
            Host h1 = bed.h(1), h2 = bed.h(2);
            // the router's own addresses answer ping (and ARP)
            assertThat(Ping.run(h1.netns(), bed.ip("1.1"), 3).allReplied()).isTrue();
            assertThat(Ping.run(h2.netns(), bed.ip("2.1"), 3).allReplied()).isTrue();
            // the far port's address, through the router's near port
            assertThat(Ping.run(h1.netns(), bed.ip("2.1"), 2).allReplied()).isTrue();
            // across: the first ping may be lost while the router resolves h2 (drop and count, no queue)
            Ping.run(h1.netns(), bed.ip("2.2"), 1);
            assertThat(Ping.run(h1.netns(), bed.ip("2.2"), 5).allReplied()).isTrue();
            assertThat(Ping.run(h2.netns(), bed.ip("1.2"), 5).allReplied()).isTrue();
            RouterHandler r = bed.router();
            assertThat(r.neighbours()).extracting(RouterHandler.Neighbour::ip)
                    .contains(bed.net + "1.2", bed.net + "2.2");
            // the neighbour entries hold the hosts' real MACs
            String link = Sockets.run(h2, "ip", "-o", "link", "show", "eth0");
            String h2mac = link.replaceAll("(?s).*link/ether ([0-9a-f:]{17}).*", "$1");
            assertThat(r.neighbours()).anyMatch(n -> n.ip().equals(bed.net + "2.2") && n.mac().equals(h2mac));

            // TTL 1 across the router: time exceeded from the router's near address
            String ttl = Sockets.run(h1, "ping", "-n", "-c", "1", "-W", "2", "-t", "1", bed.net + "2.2");
            assertThat(ttl).contains("From " + bed.net + "1.1").containsIgnoringCase("Time to live exceeded");
            // TTL 2 gets there: the router decremented to 1 and h2 answered (checksum right)
            assertThat(Sockets.run(h1, "ping", "-n", "-c", "1", "-W", "2", "-t", "2", bed.net + "2.2")).contains("1 received");

            // no route: net unreachable
            String unreach = Sockets.run(h1, "ping", "-n", "-c", "1", "-W", "2", "192.0.2.77");
            assertThat(unreach).contains("From " + bed.net + "1.1").containsIgnoringCase("Destination Net Unreachable");

            // a UDP stream after ARP is resolved: no loss
            UdpStream.Report rep;
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.send(5000, 20_000);
                rep = udp.finish(Duration.ofSeconds(1));
            }
            assertThat(rep.lost()).as(rep.toString()).isZero();
            assertThat(rep.received()).isEqualTo(rep.sent());
        }
    }

    @Test
    void addingRouteLosesNoTrafficOnExistingRoutes() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.config());
            Host h1 = bed.h(1), h2 = bed.h(2);
            Ping.run(h1.netns(), bed.ip("2.2"), 1); // resolves both neighbours
            assertThat(Ping.run(h1.netns(), bed.ip("2.2"), 3).allReplied()).isTrue();
            UdpStream.Report rep = Sockets.streamDuring(h1, h2, 20_000, () -> {
                bed.apply(bed.config("route.0", "192.0.2.0/24 via " + bed.net + "2.2"));
                Thread.sleep(200);
                bed.apply(bed.config("route.0", "192.0.2.0/24 via " + bed.net + "2.2 metric 5",
                        "route.1", "198.51.100.0/24 via " + bed.net + "1.2"));
            });
            assertThat(rep.sent()).isPositive();
            assertThat(rep.lost()).as(rep.toString()).isZero();
            // the new static route works: h2 answers for 192.0.2.9 once it has the address
            Sockets.run(h2, "ip", "addr", "add", "192.0.2.9/32", "dev", "eth0");
            assertThat(Ping.run(h1.netns(), InetAddress.getByName("192.0.2.9"), 3).allReplied()).isTrue();
        }
    }

    @Test
    void neighboursAreProbedAndAgedOut() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.config("neighbour.timeout", "1"));
            Host h1 = bed.h(1), h2 = bed.h(2);
            Ping.run(h1.netns(), bed.ip("2.2"), 1);
            assertThat(Ping.run(h1.netns(), bed.ip("2.2"), 2).allReplied()).isTrue();
            RouterHandler r = bed.router();
            assertThat(r.neighbours()).hasSize(2);
            Sockets.run(h2, "ip", "link", "set", "eth0", "down"); // h2 stops answering the probes
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (r.neighbours().size() != 1 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            // h1 answered its probes and stayed; h2 did not and went
            assertThat(r.neighbours()).extracting(RouterHandler.Neighbour::ip).containsExactly(bed.net + "1.2");
            assertThat(Ping.run(h1.netns(), bed.ip("1.1"), 2).allReplied()).isTrue();
        }
    }

    @Test
    void configErrorsNameTheKey() {
        RouterModule m = new RouterModule();
        assertThat(m.validateConfig(Map.of("port.0", "10.0.0.1/24"))).isNull();
        assertThat(m.validateConfig(Map.of("port.0", "10.0.0.1/24", "bogus", "1"))).contains("'bogus'");
        assertThat(m.validateConfig(Map.of("port.0", "10.0.0.300/24"))).contains("'port.0'");
        assertThat(m.validateConfig(Map.of("port.0", "10.0.0.1/24", "route.0", "10.9.0.0/16 via 10.7.0.1")))
                .contains("'route.0'").contains("no port");
        assertThat(m.validateConfig(Map.of("port.0", "10.0.0.1/24", "route.0", "10.9.0.0/16 via 10.0.0.9 metric x")))
                .contains("'route.0'");
        RouterConfig c = RouterConfig.parse(Map.of("port.0", "10.0.0.1/24", "port.1", "10.1.0.1/24",
                "route.0", "10.9.0.0/16 via 10.0.0.9 metric 5", "route.1", "10.9.0.0/16 via 10.1.0.9 metric 2",
                "route.2", "10.0.0.0/24 via 10.1.0.9"));
        var routes = c.effectiveRoutes();
        assertThat(routes).hasSize(3); // two connected, one static (metric 2 wins; connected beats route.2)
        assertThat(routes).anyMatch(r -> r.key().equals("route.1") && r.port() == 1);
        assertThat(routes).noneMatch(r -> r.key().equals("route.2") || r.key().equals("route.0"));
    }

    @Test
    void icmpChecksum() {
        byte[] hdr = {0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, (byte) 0xc0, (byte) 0xa8, 0, 1,
                (byte) 0xc0, (byte) 0xa8, 0, (byte) 0xc7};
        assertThat(RouterHandler.checksum(hdr, 0, 20)).isEqualTo(0xb861);
    }
}

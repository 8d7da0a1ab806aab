package io.jvisor.modules.nat;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.modules.ConfigValues;
import io.jvisor.modules.EngineLab;
import io.jvisor.modules.Sockets;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.net.Ethtool;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.WireSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Two inside hosts behind a router, the NAT between the router's outside port and the outside host:
 *
 * <pre>
 *   in1 (N.1.2) --- r:0          r:1 --- nat:0  nat:1 --- out (N.2.2, no route to N.1/N.3)
 *   in2 (N.3.2) --- r:2   router (N.2.1 outside)
 * </pre>
 *
 * The NAT masquerades N.1.0/24 and N.3.0/24 to N.2.1 (the router's outside address) and forwards
 * N.2.1:8080/tcp to in1:7000. The outside host has no route to the inside subnets, so every answer it
 * gives proves the translation; tcpdump in its namespace shows which addresses it sees.
 */
@RequiresRoot
class NatTest {

    static final class Bed extends EngineLab {
        Bed() throws Exception {
            super("nat", "jvnat", ModuleCatalog.discover(), net -> LabSpec.empty()
                    .withHost(host("in1", net + "1.2/24", net + "1.1"))
                    .withHost(host("in2", net + "3.2/24", net + "3.1"))
                    .withHost(host("out", net + "2.2/24", null))
                    .withWire(WireSpec.toRoot("in1:eth0", "i1", null))
                    .withWire(WireSpec.toRoot("in2:eth0", "i2", null))
                    .withWire(WireSpec.toRoot("out:eth0", "o", null)));
        }

        Map<String, String> natConfig(String... extra) {
            Map<String, String> c = new TreeMap<>();
            c.put("snat.0", net + "1.0/24 to " + net + "2.1");
            c.put("snat.1", net + "3.0/24 to " + net + "2.1");
            c.put("dnat.0", "tcp " + net + "2.1:8080 to " + net + "1.2:7000");
            for (int i = 0; i + 1 < extra.length; i += 2) {
                c.put(extra[i], extra[i + 1]);
            }
            return c;
        }

        void apply(Map<String, String> nat) {
            engine.apply(Topology.builder()
                    .instance("r", "router", Map.of("port.0", net + "1.1/24", "port.1", net + "2.1/24",
                            "port.2", net + "3.1/24"))
                    .instance("n", "nat", nat)
                    .connect("r:0", "dev:" + lab.rootDevice("i1"))
                    .connect("r:2", "dev:" + lab.rootDevice("i2"))
                    .connect("r:1", "n:0")
                    .connect("n:1", "dev:" + lab.rootDevice("o"))
                    .build());
        }

        NatHandler nat() {
            return ((NatModule) catalog.get("nat")).instance("n");
        }

        /** Pings until the router has resolved its neighbours (it drops while it resolves). */
        void warmUp() throws Exception {
            for (String h : List.of("in1", "in2")) {
                for (int i = 0; i < 5 && !Ping.run(h(h).netns(), ip("2.2"), 1).allReplied(); i++) {
                    Thread.sleep(100);
                }
            }
        }
    }

    /** tcpdump in a host's namespace; {@link #stop} returns the addresses of every IPv4 packet it saw. */
    static final class Capture implements AutoCloseable {
        private final Process p;
        private final CompletableFuture<List<String>> lines;

        Capture(Host h) throws Exception {
            p = h.exec(List.of("tcpdump", "-n", "-l", "-i", "eth0", "ip"));
            p.getOutputStream().close();
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String l;
            while ((l = err.readLine()) != null && !l.contains("listening on")) {
                // wait until it captures
            }
            lines = CompletableFuture.supplyAsync(() -> {
                List<String> out = new ArrayList<>();
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String s;
                    while ((s = r.readLine()) != null) {
                        out.add(s);
                    }
                } catch (java.io.IOException e) {
                    // the process ended
                }
                return out;
            }, Sockets.THREADS);
        }

        List<String> stop() throws Exception {
            Thread.sleep(300); // let tcpdump print what it has
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
            return lines.get(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            p.destroyForcibly();
        }
    }

    static final Pattern ADDRS = Pattern.compile("IP (\\d+\\.\\d+\\.\\d+\\.\\d+)(?:\\.\\d+)? > (\\d+\\.\\d+\\.\\d+\\.\\d+)");

    static Set<String> addresses(List<String> lines) {
        Set<String> out = new HashSet<>();
        for (String l : lines) {
            Matcher m = ADDRS.matcher(l);
            if (m.find()) {
                out.add(m.group(1));
                out.add(m.group(2));
            }
        }
        return out;
    }

    @Test
    void insideHostsReachTheOutsideThroughMasqueradeAndTheOutsideSeesOnlyTheTranslatedAddress() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.natConfig());
            // in2 sends complete TCP/UDP checksums (no offload), so the outside host verifies the NAT's updates
            try (Ethtool e = Ethtool.open(bed.h("in2").netns())) {
                e.setTxChecksum("eth0", false);
            }
            bed.warmUp();
            try (Capture cap = new Capture(bed.h("out"))) {
                // ICMP echo, identifier translated
                assertThat(Ping.run(bed.h("in1").netns(), bed.ip("2.2"), 3).allReplied()).isTrue();
                assertThat(Ping.run(bed.h("in2").netns(), bed.ip("2.2"), 3).allReplied()).isTrue();
                // TCP from both inside hosts: the server sees the router's outside address
                for (String h : List.of("in1", "in2")) {
                    CompletableFuture<String> seen = Sockets.echoOnce(bed.h("out"), bed.ip("2.2"), 9000);
                    assertThat(Sockets.tcpExchange(bed.h(h), bed.ip("2.2"), 9000, "hello")).isEqualTo("hello");
                    assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo(bed.net + "2.1");
                }
                // UDP from the same source port on both inside hosts to the same server: two distinct
                // translated ports (collision-free allocation), and each reply reaches its sender
                try (DatagramSocket server = Sockets.udp(bed.h("out"), bed.ip("2.2"), 9001)) {
                    server.setSoTimeout(5000);
                    DatagramSocket a = Sockets.udp(bed.h("in1"), bed.ip("1.2"), 40000);
                    DatagramSocket b = Sockets.udp(bed.h("in2"), bed.ip("3.2"), 40000);
                    try (a; b) {
                        a.setSoTimeout(5000);
                        b.setSoTimeout(5000);
                        InetSocketAddress to = new InetSocketAddress(bed.ip("2.2"), 9001);
                        a.send(new DatagramPacket(new byte[] {1}, 1, to));
                        b.send(new DatagramPacket(new byte[] {2}, 1, to));
                        Set<String> senders = new HashSet<>();
                        for (int i = 0; i < 2; i++) {
                            DatagramPacket p = new DatagramPacket(new byte[16], 16);
                            server.receive(p);
                            assertThat(p.getAddress().getHostAddress()).isEqualTo(bed.net + "2.1");
                            senders.add(p.getPort() + "/" + p.getData()[0]);
                            server.send(new DatagramPacket(new byte[] {(byte) (p.getData()[0] + 10)}, 1,
                                    p.getSocketAddress()));
                        }
                        assertThat(senders).hasSize(2);
                        assertThat(senders.stream().map(s -> s.split("/")[0]).distinct()).hasSize(2);
                        DatagramPacket ra = new DatagramPacket(new byte[16], 16);
                        a.receive(ra);
                        assertThat(ra.getData()[0]).isEqualTo((byte) 11);
                        DatagramPacket rb = new DatagramPacket(new byte[16], 16);
                        b.receive(rb);
                        assertThat(rb.getData()[0]).isEqualTo((byte) 12);
                    }
                }
                List<String> seen = cap.stop();
                assertThat(seen).anyMatch(l -> l.contains("ICMP echo request"));
                // only the translated address and the outside host itself: no inside address ever leaves
                assertThat(addresses(seen)).as(String.join("\n", seen))
                        .containsExactlyInAnyOrder(bed.net + "2.1", bed.net + "2.2");
            }
            NatHandler nat = bed.nat();
            List<NatHandler.Mapping> maps = nat.mappings();
            assertThat(maps).anyMatch(m -> m.kind() == NatHandler.Kind.SNAT && m.protocol() == 6
                    && m.inside().startsWith(bed.net + "1.2:") && m.translated().startsWith(bed.net + "2.1:")
                    && m.remote().equals(bed.net + "2.2:9000"));
            assertThat(maps).anyMatch(m -> m.kind() == NatHandler.Kind.SNAT && m.protocol() == 1
                    && m.inside().startsWith(bed.net + "3.2:"));
            assertThat(maps).filteredOn(m -> m.protocol() == 17 && m.remote().equals(bed.net + "2.2:9001"))
                    .extracting(NatHandler.Mapping::translated).doesNotHaveDuplicates().hasSize(2);
            assertThat(maps).allMatch(m -> m.translated().startsWith(bed.net + "2.1:"));
        }
    }

    @Test
    void dnatExposesAnInsideService() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.natConfig());
            bed.warmUp();
            try (Capture cap = new Capture(bed.h("out"))) {
                CompletableFuture<String> seen = Sockets.echoOnce(bed.h("in1"), bed.ip("1.2"), 7000);
                assertThat(Sockets.tcpExchange(bed.h("out"), bed.ip("2.1"), 8080, "howdy")).isEqualTo("howdy");
                // DNAT leaves the source alone: the inside server sees the real client
                assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo(bed.net + "2.2");
                List<String> lines = cap.stop();
                assertThat(addresses(lines)).as(String.join("\n", lines))
                        .containsExactlyInAnyOrder(bed.net + "2.1", bed.net + "2.2");
                assertThat(lines).anyMatch(l -> l.contains(bed.net + "2.1.8080 > " + bed.net + "2.2."));
            }
            assertThat(bed.nat().mappings()).anyMatch(m -> m.kind() == NatHandler.Kind.DNAT
                    && m.inside().equals(bed.net + "1.2:7000") && m.translated().equals(bed.net + "2.1:8080")
                    && m.remote().startsWith(bed.net + "2.2:"));
            // a port nothing forwards is not translated: the SYN reaches the router untranslated, and
            // the router drops TCP to its own address (no answer, so the connect times out)
            String outcome = bed.h("out").netns().run(() -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(bed.ip("2.1"), 8081), 1500);
                    return "connected";
                } catch (java.net.SocketTimeoutException e) {
                    return "timeout";
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            });
            assertThat(outcome).isEqualTo("timeout");
            assertThat(bed.nat().mappings()).noneMatch(m -> m.translated().endsWith(":8081"));
        }
    }

    @Test
    void idleMappingsExpireAndBusyOnesStay() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.natConfig("timeout.udp", "1"));
            bed.warmUp();
            NatHandler nat = bed.nat();
            try (DatagramSocket server = Sockets.udp(bed.h("out"), bed.ip("2.2"), 9002);
                    DatagramSocket c = Sockets.udp(bed.h("in1"), bed.ip("1.2"), 0)) {
                server.setSoTimeout(5000);
                InetSocketAddress to = new InetSocketAddress(bed.ip("2.2"), 9002);
                // a packet every 200 ms for 3 s, three times the timeout: one mapping all along
                Set<Integer> ports = new HashSet<>();
                for (int i = 0; i < 15; i++) {
                    c.send(new DatagramPacket(new byte[] {1}, 1, to));
                    DatagramPacket p = new DatagramPacket(new byte[16], 16);
                    server.receive(p);
                    ports.add(p.getPort());
                    Thread.sleep(200);
                }
                assertThat(ports).hasSize(1);
                assertThat(nat.mappings()).anyMatch(m -> m.protocol() == 17 && m.remote().equals(bed.net + "2.2:9002"));
                // then silence: the sweeper removes it
                long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                while ((nat.expired() == 0 || nat.mappings().stream().anyMatch(m -> m.remote().equals(bed.net + "2.2:9002")))
                        && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(nat.mappings()).noneMatch(m -> m.remote().equals(bed.net + "2.2:9002"));
                assertThat(nat.expired()).isPositive();
                // the next packet sets up a new mapping
                c.send(new DatagramPacket(new byte[] {2}, 1, to));
                DatagramPacket p = new DatagramPacket(new byte[16], 16);
                server.receive(p);
                assertThat(p.getAddress().getHostAddress()).isEqualTo(bed.net + "2.1");
                assertThat(nat.mappings()).anyMatch(m -> m.remote().equals(bed.net + "2.2:9002"));
            }
        }
    }

    @Test
    void icmpErrorsReachTheInsideSender() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.natConfig());
            bed.warmUp();
            // UDP to a port nobody listens on: the outside host answers port unreachable to the NAT
            // address; translated back, it reaches the inside socket, which reports it
            try (DatagramSocket c = bed.h("in1").netns().run(() -> {
                DatagramSocket x = new DatagramSocket(new InetSocketAddress(bed.ip("1.2"), 0));
                x.connect(new InetSocketAddress(bed.ip("2.2"), 9999));
                return x;
            })) {
                c.setSoTimeout(3000);
                c.send(new DatagramPacket(new byte[] {1}, 1));
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.receive(new DatagramPacket(new byte[8], 8)))
                        .isInstanceOf(java.net.PortUnreachableException.class);
            }
        }
    }

    @Test
    void closedTcpConnectionsExpireSoonerThanOpenOnes() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.natConfig("timeout.tcp.closed", "1"));
            bed.warmUp();
            NatHandler nat = bed.nat();
            try (ServerSocket ss = bed.h("out").netns().run(() -> {
                ServerSocket x = new ServerSocket();
                x.bind(new InetSocketAddress(bed.ip("2.2"), 9003));
                x.setSoTimeout(10_000);
                return x;
            })) {
                Socket open = Sockets.connect(bed.h("in1"), new InetSocketAddress(bed.ip("2.2"), 9003), 5000);
                Socket closed = Sockets.connect(bed.h("in1"), new InetSocketAddress(bed.ip("2.2"), 9003), 5000);
                try (open; Socket a = ss.accept(); Socket b = ss.accept()) {
                    int closedPort = closed.getLocalPort();
                    assertThat(nat.mappings()).filteredOn(m -> m.protocol() == 6 && m.remote().endsWith(":9003")).hasSize(2);
                    closed.close(); // FIN one way...
                    (a.getPort() == closedPort ? a : b).close(); // ...and the other
                    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                    while (nat.mappings().stream().anyMatch(m -> m.inside().endsWith(":" + closedPort))
                            && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                    }
                    // the closed connection's mapping went after timeout.tcp.closed; the idle open one stays
                    assertThat(nat.mappings()).noneMatch(m -> m.inside().endsWith(":" + closedPort));
                    assertThat(nat.mappings()).anyMatch(m -> m.inside().endsWith(":" + open.getLocalPort()));
                    open.getOutputStream().write(7);
                    Socket peer = a.getPort() == closedPort ? b : a;
                    peer.setSoTimeout(5000);
                    assertThat(peer.getInputStream().read()).isEqualTo(7);
                }
            }
        }
    }

    @Test
    void configErrorsNameTheKey() {
        NatModule m = new NatModule();
        assertThat(m.validateConfig(Map.of("snat.0", "10.0.0.0/24 to 192.0.2.1"))).isNull();
        assertThat(m.validateConfig(Map.of("snat.0", "10.0.0.0/24 via 192.0.2.1"))).contains("'snat.0'");
        assertThat(m.validateConfig(Map.of("snat.x", "10.0.0.0/24 to 192.0.2.1"))).contains("'snat.x'");
        assertThat(m.validateConfig(Map.of("dnat.0", "sctp 192.0.2.1:80 to 10.0.0.2:80"))).contains("'dnat.0'")
                .contains("tcp or udp");
        assertThat(m.validateConfig(Map.of("dnat.0", "tcp 192.0.2.1:0 to 10.0.0.2:80"))).contains("'dnat.0'");
        assertThat(m.validateConfig(Map.of("dnat.0", "tcp 192.0.2.1:80 to 10.0.0.2:80",
                "dnat.1", "tcp 192.0.2.1:80 to 10.0.0.3:80"))).contains("'dnat.1'").contains("same");
        assertThat(m.validateConfig(Map.of("ports", "2000-1000"))).contains("'ports'");
        assertThat(m.validateConfig(Map.of("timeout.udp", "0"))).contains("'timeout.udp'");
        assertThat(m.validateConfig(Map.of("timeout.tcp.closed", "x"))).contains("'timeout.tcp.closed'");
        assertThat(m.validateConfig(Map.of("bogus", "1"))).contains("'bogus'");
        NatConfig c = NatConfig.parse(Map.of("ports", "5000-5009", "snat.0", "10.1.2.3/24 to 192.0.2.1"));
        assertThat(c.portMin()).isEqualTo(5000);
        assertThat(c.snat().getFirst().prefix()).isEqualTo(ConfigValues.ip("k", "10.1.2.0"));
    }

    @Test
    void aBadConfigIsRefusedBeforeAnythingIsApplied() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply(bed.natConfig());
            Map<String, String> bad = bed.natConfig("ports", "9-x");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> bed.apply(bad)).hasMessageContaining("'ports'");
            // the running NAT is untouched
            bed.warmUp();
            assertThat(Ping.run(bed.h("in1").netns(), bed.ip("2.2"), 2).allReplied()).isTrue();
        }
    }
}

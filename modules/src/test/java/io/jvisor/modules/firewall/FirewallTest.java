package io.jvisor.modules.firewall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.TestBed;
import io.jvisor.modules.BumpInTheWire;
import io.jvisor.modules.Sockets;
import io.jvisor.engine.Topology;
import io.jvisor.engine.TopologyException;
import io.jvisor.modules.firewall.FirewallConfig.Chain;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The firewall between two hosts of one subnet, with real traffic: h1 is inside (port 0, the egress
 * chain judges what it sends), h2 is outside (port 1, the ingress chain judges what it sends).
 */
@RequiresRoot
class FirewallTest {

    static final class Bed implements AutoCloseable {
        final ModuleCatalog catalog = ModuleCatalog.discover();
        final TestBed bed = BumpInTheWire.start(Hook.TC, catalog);
        final Engine engine = bed.engine;

        void apply(FirewallConfig c) {
            apply(c.toMap());
        }

        void apply(Map<String, String> c) {
            BumpInTheWire.apply(bed, "fw", "firewall", c);
        }

        FirewallHandler fw() {
            return ((FirewallModule) catalog.get("firewall")).instance("fw");
        }

        Host h(int i) {
            return bed.lab.host("h" + i);
        }

        @Override
        public void close() {
            bed.close();
        }
    }

    /** True when a TCP connection from {@code from} to {@code to}:{@code port} opens and carries a byte each way. */
    static boolean tcp(Host from, Host to, int port) throws Exception {
        try (ServerSocket server = to.netns().run(() -> {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(to.address(), port));
            return s;
        })) {
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                try (Socket c = server.accept()) {
                    c.getOutputStream().write(c.getInputStream().read());
                } catch (IOException e) {
                    // closed: no connection came
                }
            });
            // the socket is created at connect: connect in the namespace
            try (Socket c = Sockets.connect(from, new InetSocketAddress(to.address(), port), 1500)) {
                c.setSoTimeout(1500);
                c.getOutputStream().write(42);
                return c.getInputStream().read() == 42;
            } catch (IOException | io.jvisor.net.NetnsException e) {
                // refused or timed out
                return false;
            } finally {
                server.close();
                t.join(2000);
            }
        }
    }

    /** Sends n UDP datagrams from h:sport to to:dport and returns how many arrived. */
    static int udp(Host from, Host to, int sport, int dport, int n) throws Exception {
        try (DatagramChannel rx = to.netns().run(() -> DatagramChannel.open().bind(new InetSocketAddress(to.address(), dport)));
             DatagramChannel tx = from.netns().run(() -> DatagramChannel.open()
                     .bind(new InetSocketAddress(from.address(), sport)))) {
            rx.configureBlocking(false);
            for (int i = 0; i < n; i++) {
                tx.send(ByteBuffer.wrap(new byte[32]), new InetSocketAddress(to.address(), dport));
            }
            Thread.sleep(300);
            int got = 0;
            ByteBuffer b = ByteBuffer.allocate(2048);
            while (rx.receive(b.clear()) != null) {
                got++;
            }
            return got;
        }
    }

    @Test
    void rulesAllowAndDenyAsWrittenAndRepliesPassWhileNewInboundConnectionsAreDropped() throws Exception {
        try (Bed b = new Bed()) {
            Host h1 = b.h(1), h2 = b.h(2);
            String h2ip = h2.address().getHostAddress();
            FirewallConfig c = FirewallConfig.parse(Map.of(
                    "egress.policy", "drop",
                    "egress.10", "accept proto tcp dport 8000-8009 flags syn,!ack",
                    "egress.20", "accept state established",
                    "egress.30", "drop proto udp dport 6000",
                    "egress.40", "accept proto udp dst " + h2ip + "/32 dport 6000-6999",
                    "egress.50", "log proto icmp",
                    "ingress.policy", "drop",
                    "ingress.10", "accept state established,related",
                    "ingress.20", "accept proto tcp dport 9000"));
            b.apply(c);
            FirewallHandler fw = b.fw();
            // ICMP: out and its replies pass; a new inbound echo request does not
            assertThat(Ping.run(h1.netns(), h2.address(), 3).allReplied()).isTrue();
            assertThat(Ping.run(h2.netns(), h1.address(), 2).received()).isZero();
            // TCP: the allowed port range opens, its replies pass; a port outside it does not
            assertThat(tcp(h1, h2, 8005)).isTrue();
            assertThat(tcp(h1, h2, 8010)).isFalse();
            // inbound: a new connection is dropped, except to the one port the ingress chain opens
            assertThat(tcp(h2, h1, 8005)).isFalse();
            assertThat(tcp(h2, h1, 9000)).isTrue();
            // UDP: first match wins (rule 30 drops 6000 before rule 40 would accept it)
            assertThat(udp(h1, h2, 40000, 6000, 20)).isZero();
            assertThat(udp(h1, h2, 40001, 6001, 20)).isEqualTo(20);
            assertThat(udp(h1, h2, 40002, 7000, 20)).isZero();
            // and a UDP datagram from outside that is no reply is dropped
            assertThat(udp(h2, h1, 40003, 6001, 5)).isZero();

            // counters: rule 30 saw exactly the 20 datagrams to port 6000, rule 40 the 20 to 6001
            assertThat(fw.counter(Chain.EGRESS, 30).packets()).isEqualTo(20);
            assertThat(fw.counter(Chain.EGRESS, 40).packets()).isEqualTo(20);
            assertThat(fw.counter(Chain.EGRESS, 30).bytes()).isEqualTo(20L * (14 + 20 + 8 + 32));
            assertThat(fw.counter(Chain.INGRESS, 10).packets()).isPositive();
            // "log" accepts (and logs): the first echo request went out through it; the next two belong
            // to the connection it opened (same echo id, reply seen) and rule 20 took them
            assertThat(fw.counter(Chain.EGRESS, 50).packets()).isEqualTo(1);
            assertThat(fw.policyCounter(Chain.INGRESS)[0]).as("inbound ping, TCP SYNs and UDP").isPositive();
            assertThat(fw.policyCounter(Chain.EGRESS)[0]).as("UDP to 7000, TCP SYN to 8010").isPositive();
            // the conntrack table: the accepted UDP flow (unreplied) and the TCP connections
            assertThat(fw.connections()).anyMatch(k -> k.protocol() == 17 && k.dport() == 6001 && k.sport() == 40001
                    && !k.replied() && k.openedBy() == Chain.EGRESS);
            assertThat(fw.connections()).anyMatch(k -> k.protocol() == 6 && k.dport() == 8005 && k.replied());
            assertThat(fw.connections()).anyMatch(k -> k.protocol() == 6 && k.dport() == 9000
                    && k.openedBy() == Chain.INGRESS);
            assertThat(fw.connections()).noneMatch(k -> k.dport() == 6000 || k.dport() == 8010 || k.dport() == 7000);
        }
    }

    @Test
    void singleRulesAreInsertedAndDeletedAndUnchangedRulesKeepTheirCounters() throws Exception {
        try (Bed b = new Bed()) {
            Host h1 = b.h(1), h2 = b.h(2);
            FirewallConfig c = FirewallConfig.EMPTY.withPolicy(Chain.EGRESS, FirewallConfig.Policy.DROP)
                    .withRule(Chain.EGRESS, 10, Rule.parse("accept proto udp dport 5000"))
                    .withRule(Chain.EGRESS, 30, Rule.parse("accept proto udp dport 5001-5002"));
            b.apply(c);
            assertThat(udp(h1, h2, 41000, 5000, 10)).isEqualTo(10);
            assertThat(udp(h1, h2, 41001, 5001, 10)).isEqualTo(10);
            // insert a drop in between: 5001 is now dropped by it, 5002 still passes by rule 30
            c = c.withRule(Chain.EGRESS, 20, Rule.parse("drop proto udp dport 5001"));
            b.apply(c);
            assertThat(udp(h1, h2, 41002, 5001, 10)).isZero();
            assertThat(udp(h1, h2, 41003, 5002, 10)).isEqualTo(10);
            FirewallHandler fw = b.fw();
            assertThat(fw.counter(Chain.EGRESS, 10).packets()).as("kept across the insert").isEqualTo(10);
            assertThat(fw.counter(Chain.EGRESS, 20).packets()).isEqualTo(10);
            assertThat(fw.counter(Chain.EGRESS, 30).packets()).as("10 before, 10 after").isEqualTo(20);
            // delete it again
            c = c.withoutRule(Chain.EGRESS, 20);
            b.apply(c);
            assertThat(udp(h1, h2, 41004, 5001, 10)).isEqualTo(10);
            assertThat(b.fw().counter(Chain.EGRESS, 30).packets()).isEqualTo(30);
            assertThat(b.fw().counters()).hasSize(2);
        }
    }

    @Test
    void badConfigurationIsRefusedNamingTheKeyAndChangesNothing() throws Exception {
        try (Bed b = new Bed()) {
            b.apply(Map.of("egress.10", "accept proto udp dport 5000", "egress.policy", "drop"));
            int prog = b.engine.programId("fw");
            assertThatThrownBy(() -> b.apply(Map.of("egress.10", "accept dport 5000")))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("egress.10")
                    .hasMessageContaining("ports need proto tcp or proto udp");
            assertThatThrownBy(() -> b.apply(Map.of("egress.7", "accept src 10.0.0.300/8")))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("egress.7")
                    .hasMessageContaining("not an IPv4 address");
            assertThatThrownBy(() -> b.apply(Map.of("ingress.x", "accept")))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("ingress.x");
            assertThatThrownBy(() -> b.apply(Map.of("timeout.udp", "-3")))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("timeout.udp");
            assertThatThrownBy(() -> b.apply(Map.of("egress.1", "accept proto tcp flags syn,bogus")))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("bogus");
            assertThatThrownBy(() -> b.apply(Map.of("egress.10", "accept proto udp dport 5000", "egress.policy", "drop",
                    "ingress.3", "drop proto udp icmp-type 8")))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("ingress.3")
                    .hasMessageContaining("icmp-type needs proto icmp");
            assertThatThrownBy(() -> b.apply(Map.of("egress.10", "accept proto udp dport 5000", "egress.policy", "drop",
                    "ingress.4", "drop proto icmp icmp-type 3/256")))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("ingress.4")
                    .hasMessageContaining("icmp-type '3/256': code must be a number 0..255");
            // the old rule set is still the one in force
            assertThat(b.engine.programId("fw")).isEqualTo(prog);
            assertThat(udp(b.h(1), b.h(2), 42000, 5000, 5)).isEqualTo(5);
            assertThat(udp(b.h(1), b.h(2), 42001, 5001, 5)).isZero();
        }
    }

    /**
     * Sends one datagram on h1's connected UDP socket to a port of h2 where nothing listens, and
     * returns true when h2's ICMP port unreachable (type 3 code 3) came back through the firewall.
     */
    static boolean portUnreachableArrives(Host h1, Host h2, int dport) throws Exception {
        try (DatagramChannel ch = h1.netns().run(() -> DatagramChannel.open().bind(new InetSocketAddress(h1.address(), 0)))) {
            ch.connect(new InetSocketAddress(h2.address(), dport));
            ch.configureBlocking(false);
            ch.write(ByteBuffer.wrap(new byte[16]));
            Thread.sleep(300);
            try {
                ch.read(ByteBuffer.allocate(64));
                return false;
            } catch (java.net.PortUnreachableException e) {
                return true;
            }
        }
    }

    @Test
    void icmpTypeRulesDropEchoRequestsAndOneCodeWhileRepliesAndOtherTrafficPass() throws Exception {
        try (Bed b = new Bed()) {
            Host h1 = b.h(1), h2 = b.h(2);
            FirewallConfig c = FirewallConfig.parse(Map.of(
                    "ingress.policy", "drop",
                    "ingress.10", "drop proto icmp icmp-type 8",
                    "ingress.20", "drop proto icmp icmp-type 3/3",
                    "ingress.30", "accept state established,related",
                    "ingress.40", "accept proto icmp",
                    "ingress.50", "accept proto udp dport 5000"));
            b.apply(c);
            // h1's pings go out and their echo replies (type 0) come back as established
            assertThat(Ping.run(h1.netns(), h2.address(), 3).allReplied()).isTrue();
            // h2's echo requests are dropped by rule 10, although rule 40 would accept any other ICMP
            assertThat(Ping.run(h2.netns(), h1.address(), 2).received()).isZero();
            // other traffic from outside passes
            assertThat(udp(h2, h1, 45000, 5000, 5)).isEqualTo(5);
            // h2's port unreachable (3/3) about h1's datagram is related, but rule 20 drops it first
            assertThat(portUnreachableArrives(h1, h2, 5999)).isFalse();
            FirewallHandler fw = b.fw();
            assertThat(fw.counter(Chain.INGRESS, 10).packets()).as("the two inbound echo requests").isEqualTo(2);
            assertThat(fw.counter(Chain.INGRESS, 20).packets()).as("the one port unreachable").isEqualTo(1);
            assertThat(fw.counter(Chain.INGRESS, 30).packets()).as("the three echo replies").isEqualTo(3);
            assertThat(fw.counter(Chain.INGRESS, 40).packets()).isZero();
            assertThat(fw.counter(Chain.INGRESS, 50).packets()).isEqualTo(5);
            assertThat(fw.counter(Chain.INGRESS, 10).bytes()).as("two 98-byte echo requests")
                    .isEqualTo(2L * (14 + 20 + 8 + 56));

            // change rule 20 to another code (host unreachable): the port unreachable passes, as related
            c = c.withRule(Chain.INGRESS, 20, Rule.parse("drop proto icmp icmp-type 3/1"));
            b.apply(c);
            assertThat(portUnreachableArrives(h1, h2, 5998)).isTrue();
            assertThat(b.fw().counter(Chain.INGRESS, 20).packets()).as("a changed rule starts from zero").isZero();
            assertThat(b.fw().counter(Chain.INGRESS, 30).packets()).as("3 replies, then the related error").isEqualTo(4);

            // insert a rule that drops echo replies: h1's pings now go unanswered
            c = c.withRule(Chain.INGRESS, 15, Rule.parse("drop proto icmp icmp-type 0"));
            b.apply(c);
            assertThat(Ping.run(h1.netns(), h2.address(), 2).received()).isZero();
            assertThat(b.fw().counter(Chain.INGRESS, 15).packets()).isEqualTo(2);

            // delete rules 10 and 15: h2's echo requests pass by rule 40, h1's replies by rule 30
            c = c.withoutRule(Chain.INGRESS, 10).withoutRule(Chain.INGRESS, 15);
            b.apply(c);
            assertThat(Ping.run(h2.netns(), h1.address(), 2).allReplied()).isTrue();
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
            assertThat(b.fw().counters()).hasSize(4);
            assertThat(b.fw().counter(Chain.INGRESS, 40).packets()).as("h2's first echo request opens a connection")
                    .isEqualTo(1);
            assertThat(b.fw().counter(Chain.INGRESS, 50).packets()).as("kept across three changes").isEqualTo(5);
        }
    }

    @Test
    void tenThousandRulesLoadAndWork() throws Exception {
        try (Bed b = new Bed()) {
            Host h1 = b.h(1), h2 = b.h(2);
            String h2ip = h2.address().getHostAddress();
            List<Rule> rules = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                if (i == 5_000) {
                    rules.add(Rule.parse("drop proto udp dst " + h2ip + "/32 dport 7000"));
                } else if (i == 9_999) {
                    rules.add(Rule.parse("accept proto udp dst " + h2ip + "/32 dport 7000-7010"));
                } else {
                    // rules that match nothing here: other destinations, and port ranges
                    rules.add(Rule.parse("accept proto udp dst 198.18." + (i / 250) + "." + (i % 250) + "/32 dport "
                            + (1000 + i % 50) + "-" + (1100 + i % 50)));
                }
            }
            FirewallConfig c = FirewallConfig.EMPTY.withRules(Chain.EGRESS, rules)
                    .withPolicy(Chain.EGRESS, FirewallConfig.Policy.DROP);
            b.apply(c);
            assertThat(udp(h1, h2, 43000, 7000, 10)).as("rule 5001 drops").isZero();
            assertThat(udp(h1, h2, 43001, 7001, 10)).as("rule 10000 accepts").isEqualTo(10);
            assertThat(udp(h1, h2, 43002, 7011, 10)).as("the policy drops").isZero();
            FirewallHandler fw = b.fw();
            assertThat(fw.counters()).hasSize(10_000);
            assertThat(fw.counter(Chain.EGRESS, 50_010).packets()).isEqualTo(10);
            assertThat(fw.counter(Chain.EGRESS, 100_000).packets()).isEqualTo(10);
            assertThat(fw.policyCounter(Chain.EGRESS)[0]).isEqualTo(10);
        }
    }

    @Test
    void theFirewallGoesInBetweenTwoPeersAndOutAgainUnderTrafficWithoutLosingAPacket() throws Exception {
        try (Bed b = new Bed()) {
            Host h1 = b.h(1), h2 = b.h(2);
            Map<String, String> fw = FirewallConfig.parse(Map.of("egress.policy", "drop", "egress.10", "accept proto udp",
                    "ingress.policy", "drop", "ingress.10", "accept state established")).toMap();
            Topology base = Topology.builder().instance("br", "bridge")
                    .connect("br:0", b.bed.dev(1)).connect("br:1", b.bed.dev(2)).build();
            Topology with = Topology.builder().instance("br", "bridge").instance("fw", "firewall", fw)
                    .connect("br:0", b.bed.dev(1)).connect("br:1", "fw:0").connect("fw:1", b.bed.dev(2)).build();
            b.engine.apply(base);
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
            UdpStream.Report rep = Sockets.streamDuring(h1, h2, 20_000, () -> {
                b.engine.apply(with);
                Thread.sleep(400);
                long judged = b.fw().counter(Chain.EGRESS, 10).packets();
                assertThat(judged).as("the firewall judges the stream").isPositive();
                b.engine.apply(base);
            });
            assertThat(rep.lost()).as(rep.toString()).isZero();
            assertThat(rep.received()).isEqualTo(rep.sent());
        }
    }

    @Test
    void aConnectionIdleLongerThanItsTimeoutIsForgottenAndItsRepliesAreDroppedThen() throws Exception {
        try (Bed b = new Bed()) {
            Host h1 = b.h(1), h2 = b.h(2);
            b.apply(Map.of("ingress.policy", "drop", "ingress.10", "accept state established", "timeout.udp", "2"));
            // h1 -> h2:5300 opens a UDP connection; h2's datagrams from 5300 back to h1's port are its replies
            try (DatagramChannel a = h1.netns().run(() -> DatagramChannel.open().bind(new InetSocketAddress(h1.address(), 0)));
                 DatagramChannel z = h2.netns().run(() -> DatagramChannel.open().bind(new InetSocketAddress(h2.address(), 5300)))) {
                a.configureBlocking(false);
                a.send(ByteBuffer.wrap(new byte[8]), new InetSocketAddress(h2.address(), 5300));
                ByteBuffer buf = ByteBuffer.allocate(64);
                z.receive(buf.clear());
                InetSocketAddress back = new InetSocketAddress(h1.address(), ((InetSocketAddress) a.getLocalAddress()).getPort());
                z.send(ByteBuffer.wrap(new byte[8]), back);
                Thread.sleep(300);
                assertThat(a.receive(buf.clear())).as("the reply within the timeout passes").isNotNull();
                assertThat(b.fw().connections()).anyMatch(k -> k.protocol() == 17 && k.dport() == 5300 && k.replied());
                Thread.sleep(3000); // idle longer than timeout.udp = 2 s
                assertThat(b.fw().connections()).noneMatch(k -> k.protocol() == 17 && k.dport() == 5300);
                z.send(ByteBuffer.wrap(new byte[8]), back);
                Thread.sleep(300);
                assertThat(a.receive(buf.clear())).as("after the timeout it is a new inbound datagram: dropped").isNull();
                assertThat(b.fw().policyCounter(Chain.INGRESS)[0]).isEqualTo(1);
            }
        }
    }

    @Test
    void anUnchangedRuleSetSurvivesAnEngineRestart() throws Exception {
        try (Bed b = new Bed()) {
            b.apply(Map.of("egress.policy", "drop", "egress.10", "accept proto udp dport 5000"));
            assertThat(udp(b.h(1), b.h(2), 44000, 5000, 5)).isEqualTo(5);
            b.engine.close();
            Engine again = b.bed.start(b.catalog);
            // forwarding went on with the engine gone, and the adopted instance keeps its counters
            assertThat(udp(b.h(1), b.h(2), 44001, 5000, 5)).isEqualTo(5);
            assertThat(again.programId("fw")).isPositive();
            assertThat(b.fw().counter(Chain.EGRESS, 10).packets()).isEqualTo(10);
            assertThat(udp(b.h(1), b.h(2), 44002, 5001, 5)).isZero();
        }
    }
}

package io.jvisor.net.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.Address;
import io.jvisor.net.Ip;
import io.jvisor.net.IpCrossCheck;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.Link;
import io.jvisor.net.MacAddress;
import io.jvisor.net.NetException;
import io.jvisor.net.Netns;
import io.jvisor.net.Route;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Labs on the real kernel: attributes against {@code ip -j}, the bridge baseline, tear-down. */
@RequiresRoot
class LabTest {

    /** "10.x.y." with random octets, so parallel tests never share addresses. */
    private static String randomNet() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "10." + r.nextInt(1, 255) + "." + r.nextInt(0, 256) + ".";
    }

    private static LabSpec twoHostsOnBridge(String net) {
        return LabSpec.empty().withBridge("br0")
                .withHost(HostSpec.named("h1")
                        .withInterface(InterfaceSpec.of("eth0", net + "1/24").withMac(MacAddress.parse("02:00:00:00:00:01")))
                        .withGateway(net + "254").withSysctl("net.ipv4.ip_forward", "1"))
                .withHost(HostSpec.named("h2").withInterface(InterfaceSpec.of("eth0", net + "2/24").withMtu(1400)))
                .withWire(WireSpec.toRoot("h1:eth0", "p1", "br0"))
                .withWire(WireSpec.toRoot("h2:eth0", "p2", "br0"));
    }

    @Test
    void hostsAndWiresMatchIp() {
        String net = randomNet();
        Lab lab = Lab.up(twoHostsOnBridge(net));
        String prefix = lab.prefix();
        try (lab) {
            Host h1 = lab.host("h1");
            Host h2 = lab.host("h2");
            assertThat(h1.netns().name()).isEqualTo(prefix + "-h1");
            assertThat(Ip.ip("netns", "list")).contains(prefix + "-h1", prefix + "-h2");

            for (Host h : lab.hosts()) {
                for (Link l : h.rtnl().links()) {
                    IpCrossCheck.assertLinkMatches(h.netns().name(), l);
                }
                Link lo = h.rtnl().link("lo");
                assertThat(lo.isUp()).isTrue();
                Link eth0 = h.rtnl().link("eth0");
                assertThat(eth0.isUp()).isTrue();
                assertThat(eth0.kind()).isEqualTo("veth");
                assertThat(eth0.linkNetnsId()).as("the peer lives in another namespace").isPresent();
                // addresses, against ip -j addr
                JsonNode ipAddr = Ip.json(h.netns().name(), "-4", "addr", "show", "dev", "eth0").get(0).path("addr_info");
                List<String> ours = h.rtnl().addresses("eth0").stream().filter(a -> a.prefix().family() == StandardProtocolFamily.INET)
                        .map(a -> a.prefix().toString()).toList();
                List<String> ips = new ArrayList<>();
                ipAddr.forEach(a -> ips.add(a.path("local").asText() + "/" + a.path("prefixlen").asInt()));
                assertThat(ours).isEqualTo(ips).containsExactly(h.spec().iface("eth0").addresses().getFirst().toString());
            }
            Link h1eth0 = h1.rtnl().link("eth0");
            assertThat(h1eth0.mac()).contains(MacAddress.parse("02:00:00:00:00:01"));
            assertThat(h2.rtnl().link("eth0").mtu()).isEqualTo(1400);
            assertThat(Ip.link(h2.netns().name(), "eth0").path("mtu").asInt()).isEqualTo(1400);

            // default route and sysctl on h1 only
            List<Route> routes = h1.rtnl().mainRoutes(StandardProtocolFamily.INET);
            assertThat(routes).filteredOn(Route::isDefault).singleElement()
                    .satisfies(r -> assertThat(r.gateway()).contains(IpPrefix.literal(net + "254")));
            assertThat(Ip.json(h1.netns().name(), "route", "show", "default").get(0).path("gateway").asText()).isEqualTo(net + "254");
            assertThat(Ip.json(h2.netns().name(), "route", "show", "default").size()).isZero();
            assertThat(h1.netns().sysctl("net.ipv4.ip_forward")).isEqualTo("1");
            assertThat(h2.netns().sysctl("net.ipv4.ip_forward")).isEqualTo("0");

            // root side: bridge up, both root ends enslaved to it and up
            String br = lab.rootDevice("br0");
            Link bridge = lab.root().link(br);
            assertThat(bridge.kind()).isEqualTo("bridge");
            IpCrossCheck.assertLinkMatches(null, bridge);
            for (String p : List.of("p1", "p2")) {
                Link end = lab.root().link(lab.rootDevice(p));
                IpCrossCheck.assertLinkMatches(null, end);
                assertThat(end.master()).hasValue(bridge.ifindex());
                assertThat(end.isUp()).isTrue();
                assertThat(Ip.link(null, lab.rootDevice(p)).path("master").asText()).isEqualTo(br);
            }
            assertThat(lab.root().link(lab.rootDevice("p2")).mtu()).isEqualTo(1400);
        }
        assertNothingLeft(prefix);
    }

    @Test
    void bridgeBaselinePingUdpIperf3() {
        String net = randomNet();
        try (Lab lab = Lab.up(twoHostsOnBridge(net))) {
            Host h1 = lab.host("h1");
            Host h2 = lab.host("h2");
            System.out.println("two-host bridge lab up in " + lab.setUpTime().toMillis() + " ms");

            Ping.Result ping = Ping.run(h1.netns(), h2.address(), 3);
            assertThat(ping.allReplied()).as(ping.output()).isTrue();

            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.send(20_000, 20_000);
                UdpStream.Report r = udp.finish(Duration.ofSeconds(2));
                System.out.println("udp over bridge: " + r);
                assertThat(r.sent()).isEqualTo(20_000);
                assertThat(r.lost()).isZero();
                assertThat(r.duplicated()).isZero();
                assertThat(r.received()).isEqualTo(20_000);
            }

            Iperf3.Result tcp = Iperf3.tcp(h2.netns(), h2.address(), h1.netns(), Duration.ofSeconds(2));
            System.out.printf("iperf3 tcp over bridge: %.2f Gbit/s, %d retransmits%n", tcp.gbps(), tcp.retransmits());
            assertThat(tcp.bytes()).isPositive();
            assertThat(tcp.bitsPerSecond()).isPositive();
        }
    }

    @Test
    void udpStreamCountsExactLoss() {
        String net = randomNet();
        try (Lab lab = Lab.up(twoHostsOnBridge(net))) {
            Host h1 = lab.host("h1");
            Host h2 = lab.host("h2");
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.send(1_000, 20_000);
                // With the receiver's link down, every datagram in between is dropped: exactly 500.
                h2.rtnl().setDown("eth0");
                udp.send(500, 20_000);
                h2.rtnl().setUp("eth0");
                Ping.Result back = Ping.run(h1.netns(), h2.address(), 3);
                assertThat(back.received()).as("the link is back: %s", back.output()).isPositive();
                udp.send(1_000, 20_000);
                // 500 never arrive, so finish always waits out its quiet period: keep it short.
                UdpStream.Report r = udp.finish(Duration.ofMillis(500));
                System.out.println("udp with 500 dropped: " + r);
                assertThat(r).isEqualTo(new UdpStream.Report(2_500, 2_000, 500, 0, 0));
            }
        }
    }

    @Test
    void yamlLabWithHostToHostWireAndIpv6() {
        String net = randomNet();
        String v6 = "fd00:" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1, 0xffff)) + "::";
        LabSpec spec = LabSpec.fromYaml("""
                hosts:
                  - name: left
                    interfaces: [{name: veth-l, addresses: [%s1/30, "%s1/64"]}]
                  - name: right
                    interfaces: [{name: veth-r, addresses: [%s2/30, "%s2/64"]}]
                wires:
                  - {a: "left:veth-l", b: "right:veth-r"}
                """.formatted(net, v6, net, v6));
        Lab lab = Lab.up(spec);
        try (lab) {
            Host left = lab.host("left");
            Host right = lab.host("right");
            Link l = left.rtnl().link("veth-l");
            Link r = right.rtnl().link("veth-r");
            assertThat(l.linkIfindex()).hasValue(r.ifindex());
            IpCrossCheck.assertLinkMatches(left.netns().name(), l);
            assertThat(right.rtnl().addresses("veth-r")).extracting(Address::prefix)
                    .contains(IpPrefix.parse(net + "2/30"), IpPrefix.parse(v6 + "2/64"));
            assertThat(Ping.run(left.netns(), right.address(), 2).allReplied()).isTrue();
            InetAddress right6 = IpPrefix.literal(v6 + "2");
            Ping.Result p6 = Ping.run(left.netns(), right6, 2);
            assertThat(p6.allReplied()).as(p6.output()).isTrue();
            try (UdpStream udp = UdpStream.open(left.netns(), IpPrefix.literal(v6 + "1"), right.netns(), right6)) {
                udp.start(5_000);
                Thread.sleep(300);
                UdpStream.Report rep = udp.finish(Duration.ofSeconds(2));
                assertThat(rep.sent()).isPositive();
                assertThat(rep.isPerfect()).as(rep.toString()).isTrue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        assertNothingLeft(lab.prefix());
    }

    @Test
    void failedUpRemovesWhatItMade() {
        String net = randomNet();
        // The gateway is on no connected subnet: the kernel refuses the route, after the wires exist.
        LabSpec spec = twoHostsOnBridge(net).withHost(HostSpec.named("h3").withInterface("eth0", net + "3/24")
                .withGateway("10.0.0.1")).withWire(WireSpec.toRoot("h3:eth0", "p3", "br0"));
        String prefix = Lab.uniquePrefix();
        NetException e = catchThrowableOfType(NetException.class, () -> Lab.up(spec, prefix));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("add route").contains("10.0.0.1");
        System.out.println("failed lab: " + e.getMessage());
        assertNothingLeft(prefix);
    }

    @Test
    void prefixInUseIsRefused() {
        String net = randomNet();
        try (Lab lab = Lab.up(twoHostsOnBridge(net))) {
            IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                    () -> Lab.up(twoHostsOnBridge(randomNet()), lab.prefix()));
            assertThat(e).hasMessageContaining(lab.prefix()).hasMessageContaining("in use");
            assertThat(Ping.run(lab.host("h1").netns(), lab.host("h2").address(), 1).allReplied())
                    .as("the running lab is untouched").isTrue();
        }
    }

    @Test
    void downRemovesLeftoversByName() {
        // What a killed JVM leaves behind, made here with ip so that no Lab object knows of it.
        String prefix = Lab.uniquePrefix();
        Ip.ip("netns", "add", prefix + "-h1");
        Ip.ip("netns", "add", prefix + "-h2");
        Ip.ip("link", "add", prefix + "br0", "type", "bridge");
        Ip.ip("link", "add", prefix + "p1", "type", "veth", "peer", "name", "eth0", "netns", prefix + "-h1");
        Ip.ip("link", "set", prefix + "p1", "master", prefix + "br0");
        try {
            assertThat(Lab.down(prefix)).isEqualTo(4);
        } finally {
            Lab.down(prefix);
        }
        assertNothingLeft(prefix);
    }

    static void assertNothingLeft(String prefix) {
        assertThat(Netns.list()).noneMatch(n -> n.startsWith(prefix + "-"));
        List<String> rootLinks = new ArrayList<>();
        Ip.json(null, "link", "show").forEach(l -> rootLinks.add(l.path("ifname").asText()));
        assertThat(rootLinks).noneMatch(n -> n.startsWith(prefix));
    }
}

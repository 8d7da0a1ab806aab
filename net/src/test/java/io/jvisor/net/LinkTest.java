package io.jvisor.net;

import com.fasterxml.jackson.databind.JsonNode;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Links created through rtnetlink, each attribute checked against {@code ip -j -d link}. */
@RequiresRoot
class LinkTest {
    private Netns a;
    private Netns b;
    private Rtnl rtnl;

    @BeforeEach
    void setUp() {
        a = Netns.create(Names.unique("jta"));
        b = Netns.create(Names.unique("jtb"));
        rtnl = Rtnl.open(a);
    }

    @AfterEach
    void tearDown() {
        try {
            if (rtnl != null) {
                rtnl.close();
            }
        } finally {
            try {
                a.close();
            } finally {
                b.close();
            }
        }
    }

    @Test
    void vethPairWithPeerInAnotherNamespace() {
        MacAddress mac = MacAddress.parse("02:aa:bb:cc:dd:01");
        MacAddress peerMac = MacAddress.parse("02:aa:bb:cc:dd:02");
        rtnl.createVeth(VethSpec.of("v0", "v1").withPeerNamespace(b).withMac(mac).withPeerMac(peerMac).withMtu(1400));

        Link v0 = rtnl.link("v0");
        assertMatchesIp(a.name(), v0);
        assertThat(v0.kind()).isEqualTo("veth");
        assertThat(v0.mac()).contains(mac);
        assertThat(v0.mtu()).isEqualTo(1400);
        assertThat(v0.linkNetnsId()).isPresent();
        assertThat(v0.isUp()).isFalse();

        try (Rtnl inB = Rtnl.open(b)) {
            Link v1 = inB.link("v1");
            assertMatchesIp(b.name(), v1);
            assertThat(v1.mac()).contains(peerMac);
            assertThat(v0.linkIfindex()).hasValue(v1.ifindex());
            assertThat(v1.linkIfindex()).hasValue(v0.ifindex());
        }
        assertThat(rtnl.findLink("v1")).isEmpty();
    }

    @Test
    void upDownMtuMacMasterAndListing() {
        rtnl.createBridge("br0");
        rtnl.createBridge("d0");
        rtnl.createVeth("e0", "e1");
        rtnl.setMtu("d0", 9000);
        rtnl.setMac("d0", MacAddress.parse("02:00:00:00:00:42"));
        rtnl.setMaster("e0", "br0");
        rtnl.setUp("br0");
        rtnl.setUp("e0");
        rtnl.setUp("e1");
        rtnl.setUp("lo");

        for (Link l : rtnl.links()) {
            assertMatchesIp(a.name(), l);
        }
        List<String> names = rtnl.links().stream().map(Link::name).toList();
        assertThat(names).containsExactlyInAnyOrder("lo", "br0", "d0", "e0", "e1");

        Link d0 = rtnl.link("d0");
        assertThat(d0.mtu()).isEqualTo(9000);
        assertThat(d0.mac()).contains(MacAddress.parse("02:00:00:00:00:42"));
        Link br0 = rtnl.link("br0");
        assertThat(br0.kind()).isEqualTo("bridge");
        Link e0 = rtnl.link("e0");
        assertThat(e0.master()).hasValue(br0.ifindex());
        assertThat(e0.isUp()).isTrue();
        assertThat(rtnl.link(e0.ifindex())).isEqualTo(e0);

        rtnl.setDown("e0");
        rtnl.clearMaster("e0");
        Link e0After = rtnl.link("e0");
        assertThat(e0After.isUp()).isFalse();
        assertThat(e0After.master()).isEmpty();
        assertMatchesIp(a.name(), e0After);

        rtnl.delete("e0");
        rtnl.delete("d0");
        assertThat(rtnl.findLink("e1")).as("deleting one veth end deletes its peer").isEmpty();
        assertThat(rtnl.findLink("d0")).isEmpty();
    }

    @Test
    void vxlanExternalMode() throws Exception {
        rtnl.createVeth("u0", "u1");
        rtnl.setUp("u0");
        rtnl.addAddress("u0", IpPrefix.parse("10.77.1.1/24"));
        rtnl.createVxlan(VxlanSpec.external("vx0").withDstPort(4789).withLocal(InetAddress.ofLiteral("10.77.1.1")));
        rtnl.createVxlan(VxlanSpec.of("vx1", 42).withDstPort(8472));

        Link vx0 = rtnl.link("vx0");
        assertMatchesIp(a.name(), vx0);
        assertThat(vx0.kind()).isEqualTo("vxlan");
        assertThat(vx0.vxlan()).hasValueSatisfying(v -> {
            assertThat(v.external()).isTrue();
            assertThat(v.dstPort()).isEqualTo(4789);
            assertThat(v.local()).contains(InetAddress.ofLiteral("10.77.1.1"));
            assertThat(v.learning()).isFalse();
        });
        JsonNode ipData = Ip.link(a.name(), "vx0").path("linkinfo").path("info_data");
        assertThat(ipData.path("external").asBoolean()).isTrue();
        assertThat(ipData.path("port").asInt()).isEqualTo(4789);
        assertThat(ipData.path("local").asText()).isEqualTo("10.77.1.1");

        Link vx1 = rtnl.link("vx1");
        JsonNode ipData1 = Ip.link(a.name(), "vx1").path("linkinfo").path("info_data");
        assertThat(vx1.vxlan().orElseThrow().vni()).isEqualTo(42).isEqualTo(ipData1.path("id").asInt());
        assertThat(vx1.vxlan().orElseThrow().dstPort()).isEqualTo(8472).isEqualTo(ipData1.path("port").asInt());
        assertThat(vx1.vxlan().orElseThrow().learning()).isTrue();
    }

    @Test
    void moveToNamespace() {
        rtnl.createVeth("m0", "m1");
        rtnl.moveToNamespace("m0", b);
        assertThat(rtnl.findLink("m0")).isEmpty();
        try (Rtnl inB = Rtnl.open(b)) {
            Link m0 = inB.link("m0");
            assertThat(m0.kind()).isEqualTo("veth");
            assertThat(m0.linkNetnsId()).isPresent();
            assertMatchesIp(b.name(), m0);
        }
    }

    @Test
    void vethCreatedUpAndEnslavedInOneRequest() {
        rtnl.createBridge("brx");
        rtnl.createVeth(VethSpec.of("w0", "w1").withPeerNamespace(b).withUp(true).withMaster("brx"));
        Link w0 = rtnl.link("w0");
        assertThat(w0.isUp()).isTrue();
        assertThat(w0.master()).hasValue(rtnl.ifindex("brx"));
        assertMatchesIp(a.name(), w0);
        try (Rtnl inB = Rtnl.open(b)) {
            Link w1 = inB.link("w1");
            assertThat(w1.isUp()).isFalse();
            assertThat(w1.master()).isEmpty();
            assertMatchesIp(b.name(), w1);
        }
    }

    @Test
    void dummyDevice() {
        try {
            rtnl.createDummy("dm0");
        } catch (NetlinkException e) {
            // Kernels built without CONFIG_DUMMY (like CI's) refuse the kind: the error must say so
            // plainly, with the kernel's own words, and leave no device behind.
            assertThat(e.errno()).isEqualTo(95);
            assertThat(e.getMessage()).contains("dm0").contains("Unknown device type");
            assertThat(rtnl.findLink("dm0")).isEmpty();
            return;
        }
        Link dm0 = rtnl.link("dm0");
        assertThat(dm0.kind()).isEqualTo("dummy");
        assertMatchesIp(a.name(), dm0);
    }

    static void assertMatchesIp(String ns, Link link) {
        IpCrossCheck.assertLinkMatches(ns, link);
    }
}

package io.jvisor.net;

import com.fasterxml.jackson.databind.JsonNode;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Addresses, routes and neighbours, IPv4 and IPv6, checked against {@code ip -j}. */
@RequiresRoot
class AddressRouteNeighbourTest {
    private Netns ns;
    private Rtnl rtnl;
    private String net; // "10.x.y." with random octets

    @BeforeEach
    void setUp() {
        ns = Netns.create(Names.unique("jtr"));
        rtnl = Rtnl.open(ns);
        rtnl.createVeth("a0", "a1");
        rtnl.setUp("a0");
        rtnl.setUp("a1");
        rtnl.setUp("lo");
        ThreadLocalRandom r = ThreadLocalRandom.current();
        net = "10." + r.nextInt(1, 255) + "." + r.nextInt(0, 256) + ".";
    }

    @AfterEach
    void tearDown() {
        try {
            rtnl.close();
        } finally {
            ns.close();
        }
    }

    @Test
    void addressesBothFamilies() {
        IpPrefix v4 = IpPrefix.parse(net + "1/24");
        IpPrefix v6 = IpPrefix.parse("fd00:" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1, 0xffff)) + "::1/64");
        rtnl.addAddress("a0", v4);
        rtnl.addAddress("a0", v6, Rtnl.NO_DAD);

        List<Address> ours = rtnl.addresses("a0");
        assertThat(ours).extracting(Address::prefix).contains(v4, v6);
        JsonNode ip = Ip.json(ns.name(), "addr", "show", "dev", "a0").get(0).path("addr_info");
        List<String> ipList = new ArrayList<>();
        ip.forEach(a -> ipList.add(IpPrefix.literal(a.path("local").asText()).getHostAddress() + "/"
                + a.path("prefixlen").asInt() + " " + a.path("scope").asText()));
        List<String> ourList = ours.stream().map(a -> a.prefix().address().getHostAddress() + "/" + a.prefix().length()
                + " " + a.scopeName()).toList();
        assertThat(ourList).containsExactlyInAnyOrderElementsOf(ipList);
        Address v4a = ours.stream().filter(a -> a.prefix().equals(v4)).findFirst().orElseThrow();
        assertThat(v4a.label()).isEqualTo("a0");
        assertThat(v4a.scopeName()).isEqualTo("global");
        assertThat(v4a.flags() & Address.PERMANENT).isNotZero();

        rtnl.deleteAddress("a0", v4);
        rtnl.deleteAddress("a0", v6);
        assertThat(rtnl.addresses("a0")).extracting(Address::prefix).doesNotContain(v4, v6);
        assertThat(Ip.json(ns.name(), "-4", "addr", "show", "dev", "a0").path(0).path("addr_info").size()).isZero();
    }

    @Test
    void routesBothFamilies() {
        rtnl.addAddress("a0", IpPrefix.parse(net + "1/24"));
        String v6net = "fd00:" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1, 0xffff));
        rtnl.addAddress("a0", IpPrefix.parse(v6net + "::1/64"), Rtnl.NO_DAD);
        InetAddress gw = IpPrefix.literal(net + "254");
        InetAddress gw6 = IpPrefix.literal(v6net + "::fe");

        rtnl.addRoute(RouteSpec.defaultVia(gw));
        rtnl.addRoute(RouteSpec.to("10.200.0.0/16").withGateway(gw).withMetric(7));
        rtnl.addRoute(RouteSpec.to("10.201.1.0/24").withDevice("a1"));
        rtnl.addRoute(RouteSpec.defaultVia(gw6).withDevice("a0"));

        List<Route> v4 = rtnl.mainRoutes(StandardProtocolFamily.INET);
        JsonNode ip4 = Ip.json(ns.name(), "-4", "route", "show");
        assertThat(v4).hasSize(ip4.size());
        int a0 = rtnl.ifindex("a0");
        int a1 = rtnl.ifindex("a1");
        Route def = v4.stream().filter(Route::isDefault).findFirst().orElseThrow();
        assertThat(def.gateway()).contains(gw);
        assertThat(def.outputIfindex()).hasValue(a0);
        assertThat(def.protocol()).isEqualTo(3);
        Route metric = v4.stream().filter(r -> r.destination().equals(IpPrefix.parse("10.200.0.0/16"))).findFirst().orElseThrow();
        assertThat(metric.metric()).hasValue(7);
        Route onLink = v4.stream().filter(r -> r.destination().equals(IpPrefix.parse("10.201.1.0/24"))).findFirst().orElseThrow();
        assertThat(onLink.gateway()).isEmpty();
        assertThat(onLink.scopeName()).isEqualTo("link");
        assertThat(onLink.outputIfindex()).hasValue(a1);
        for (JsonNode r : ip4) {
            String dst = r.path("dst").asText();
            IpPrefix p = dst.equals("default") ? IpPrefix.parse("0.0.0.0/0")
                    : IpPrefix.parse(dst.contains("/") ? dst : dst + "/32");
            Route ours = v4.stream().filter(x -> x.destination().equals(p)).findFirst().orElseThrow();
            if (r.has("gateway")) {
                assertThat(ours.gateway()).contains(IpPrefix.literal(r.path("gateway").asText()));
            }
            assertThat(ours.scopeName()).isEqualTo(r.path("scope").asText("global"));
        }

        List<Route> v6 = rtnl.mainRoutes(StandardProtocolFamily.INET6);
        assertThat(v6).anySatisfy(r -> {
            assertThat(r.isDefault()).isTrue();
            assertThat(r.gateway()).contains(gw6);
        });
        assertThat(Ip.json(ns.name(), "-6", "route", "show", "default").size()).isEqualTo(1);

        rtnl.deleteRoute(RouteSpec.defaultVia(gw));
        rtnl.deleteRoute(RouteSpec.to("10.200.0.0/16"));
        rtnl.deleteRoute(RouteSpec.defaultVia(gw6));
        assertThat(rtnl.mainRoutes(StandardProtocolFamily.INET)).noneMatch(Route::isDefault)
                .noneMatch(r -> r.destination().equals(IpPrefix.parse("10.200.0.0/16")));
        assertThat(rtnl.mainRoutes(StandardProtocolFamily.INET6)).noneMatch(Route::isDefault);
        assertThat(Ip.json(ns.name(), "-4", "route", "show", "default").size()).isZero();
    }

    @Test
    void neighbours() {
        rtnl.addAddress("a0", IpPrefix.parse(net + "1/24"));
        InetAddress peer = IpPrefix.literal(net + "2");
        InetAddress peer6 = IpPrefix.literal("fd00::2");
        MacAddress mac = MacAddress.parse("02:12:34:56:78:9a");
        rtnl.addNeighbour("a0", peer, mac);
        rtnl.addNeighbour("a0", peer6, mac);

        int a0 = rtnl.ifindex("a0");
        assertThat(rtnl.neighbours()).anySatisfy(n -> {
            assertThat(n.address()).isEqualTo(peer);
            assertThat(n.mac()).contains(mac);
            assertThat(n.ifindex()).isEqualTo(a0);
            assertThat(n.state()).containsExactly(Neighbour.State.PERMANENT);
        }).anySatisfy(n -> assertThat(n.address()).isEqualTo(peer6));
        JsonNode ip = Ip.json(ns.name(), "neigh", "show", "dev", "a0");
        assertThat(ip.findValuesAsText("dst")).contains(peer.getHostAddress(), "fd00::2");
        assertThat(ip.findValuesAsText("lladdr")).containsOnly(mac.toString());
        assertThat(ip.findValues("state").toString()).contains("PERMANENT");

        rtnl.deleteNeighbour("a0", peer);
        rtnl.deleteNeighbour("a0", peer6);
        assertThat(rtnl.neighbours()).noneMatch(n -> n.address().equals(peer) || n.address().equals(peer6));
        assertThat(Ip.json(ns.name(), "neigh", "show", "dev", "a0").size()).isZero();
    }
}

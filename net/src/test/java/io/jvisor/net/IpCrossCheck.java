package io.jvisor.net;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** Cross-checks of what the library reports against {@code ip -j}. */
public final class IpCrossCheck {
    private IpCrossCheck() {}

    /** Checks every attribute the library reports against {@code ip -j -d link show}. */
    public static void assertLinkMatches(String ns, Link link) {
        JsonNode j = Ip.link(ns, link.name());
        assertThat(link.ifindex()).as("ifindex of %s", link.name()).isEqualTo(j.path("ifindex").asInt());
        assertThat(link.name()).isEqualTo(j.path("ifname").asText());
        assertThat(link.mtu()).as("mtu of %s", link.name()).isEqualTo(j.path("mtu").asInt());
        assertThat(link.mac().map(MacAddress::toString).orElse(null)).as("mac of %s", link.name())
                .isEqualTo(j.hasNonNull("address") ? j.path("address").asText() : null);
        // operstate changes asynchronously (linkwatch runs after a delay, slowly under load), so two
        // readings taken moments apart may straddle a transition: compare fresh readings of both until
        // they agree, for up to five seconds.
        String oursOper = link.operState();
        String ipOper = j.path("operstate").asText();
        for (int i = 0; i < 50 && !ipOper.equals(oursOper); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            try (Netns n = Netns.open(ns); Rtnl r = Rtnl.open(n)) {
                oursOper = r.link(link.name()).operState();
            }
            ipOper = Ip.link(ns, link.name()).path("operstate").asText();
        }
        assertThat(oursOper).as("operstate of %s", link.name()).isEqualTo(ipOper);
        Set<String> ipFlags = new TreeSet<>();
        j.path("flags").forEach(f -> ipFlags.add(f.asText()));
        Set<String> ours = new TreeSet<>();
        link.flags().forEach(f -> ours.add(f.name()));
        // ip prints only the flags it knows by name; compare those we name, both ways
        Set<String> comparable = new TreeSet<>(ipFlags);
        comparable.retainAll(Set.of("UP", "BROADCAST", "LOOPBACK", "POINTOPOINT", "NOARP", "PROMISC", "MULTICAST", "LOWER_UP"));
        ours.remove("RUNNING"); // ip does not print RUNNING
        assertThat(ours).as("flags of %s", link.name()).isEqualTo(comparable);
        assertThat(link.kind()).as("kind of %s", link.name()).isEqualTo(j.path("linkinfo").path("info_kind").asText(""));
        if (j.has("master")) {
            assertThat(link.master()).as("master of %s", link.name()).isPresent();
        } else {
            assertThat(link.master()).as("master of %s", link.name()).isEmpty();
        }
        assertThat(link.linkNetnsId().isPresent()).as("link_netnsid of %s", link.name()).isEqualTo(j.has("link_netnsid"));
        link.linkNetnsId().ifPresent(id -> assertThat(id).isEqualTo(j.path("link_netnsid").asInt()));
        if (j.has("link_index")) {
            assertThat(link.linkIfindex()).hasValue(j.path("link_index").asInt());
        }
        List<String> unchecked = new ArrayList<>();
        j.fieldNames().forEachRemaining(unchecked::add);
        assertThat(unchecked).contains("ifindex", "ifname", "mtu", "operstate", "flags");
    }
}

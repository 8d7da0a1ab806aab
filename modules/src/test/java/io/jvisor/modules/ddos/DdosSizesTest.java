package io.jvisor.modules.ddos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Hook;
import io.jvisor.engine.TestBed;
import io.jvisor.engine.Topology;
import io.jvisor.engine.TopologyException;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The sizes of a ddos instance's maps ({@code blocklist.max}, {@code sources.max}): the kernel maps
 * have them, a live change reloads the instance with the blocklists written again, a small source
 * table still rate-limits while sources churn through it, and a blocklist longer than its capacity
 * or a bad size is refused naming the key with nothing changed.
 */
@RequiresRoot
class DdosSizesTest {

    static int maxEntries(TestBed bed, String map) {
        BpfMap m = bed.engine.map("dd", map);
        return m.info().maxEntries();
    }

    @Test
    void theKernelMapsHaveTheConfiguredSizesAndAResizeKeepsBlocking() {
        try (TestBed bed = DdosTest.bed(Hook.XDP)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            DdosTest.apply(bed, DdosConfig.NONE);
            assertThat(maxEntries(bed, "dd_src_block")).isEqualTo(DdosConfig.MAX_PREFIXES);
            assertThat(maxEntries(bed, "dd_dst_block")).isEqualTo(DdosConfig.MAX_PREFIXES);
            assertThat(maxEntries(bed, "dd_sources")).isEqualTo(DdosConfig.DEFAULT_SOURCES);
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();

            IpPrefix h1net = IpPrefix.parse(h1.address().getHostAddress() + "/24").network();
            DdosConfig blocking = DdosConfig.NONE.withBlockedSources(List.of(h1net, IpPrefix.parse("192.0.2.0/24")));
            DdosTest.apply(bed, blocking);
            int before = bed.engine.map("dd", "dd_src_block").id();
            assertThat(DdosTest.flood(h1, h1.address(), h2, 100).received()).isZero();

            // live resize: new maps of the new sizes, the blocklist written into them before traffic
            DdosTest.apply(bed, blocking.withBlocklistMax(64).withSourcesMax(32));
            assertThat(bed.engine.map("dd", "dd_src_block").id()).as("a new trie").isNotEqualTo(before);
            assertThat(maxEntries(bed, "dd_src_block")).isEqualTo(64);
            assertThat(maxEntries(bed, "dd_dst_block")).isEqualTo(64);
            assertThat(maxEntries(bed, "dd_sources")).isEqualTo(32);
            assertThat(DdosTest.flood(h1, h1.address(), h2, 100).received()).isZero();
            DdosStats s = DdosModule.stats(bed.engine, "dd");
            assertThat(s.sourceBlocked().packets()).as("dd_stats carried over").isEqualTo(200);
            assertThat(s.sourceHits()).as("hits start again in the new trie")
                    .containsEntry(h1net, new DdosStats.Counter(100, 100L * (14 + 20 + 8 + 64)))
                    .containsKey(IpPrefix.parse("192.0.2.0/24"));

            // back to the default sizes; a change of sources.max alone keeps the tries
            DdosTest.apply(bed, blocking.withSourcesMax(16));
            int trie = bed.engine.map("dd", "dd_src_block").id();
            DdosTest.apply(bed, blocking.withSourcesMax(64));
            assertThat(bed.engine.map("dd", "dd_src_block").id()).isEqualTo(trie);
            assertThat(maxEntries(bed, "dd_sources")).isEqualTo(64);
            assertThat(maxEntries(bed, "dd_src_block")).isEqualTo(DdosConfig.MAX_PREFIXES);
        }
    }

    /**
     * A source table of 16 entries with 40 sources sending through it: the table holds at most 16
     * (the others were evicted), and the flood of one source is still limited to its bucket: what it
     * gets through plus what the limit dropped is what it sent, and far fewer than it sent pass.
     */
    @Test
    void aSmallSourceTableStillRateLimits() throws Exception {
        try (TestBed bed = DdosTest.bed(Hook.XDP)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            List<InetAddress> others = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                InetAddress a = InetAddress.getByName(bed.net + (150 + i));
                h1.rtnl().addAddress("eth0", IpPrefix.parse(a.getHostAddress() + "/24"));
                others.add(a);
            }
            DdosTest.apply(bed, DdosConfig.NONE);
            assertThat(Ping.run(h1.netns(), h2.address(), 1).allReplied()).isTrue();
            long rate = 100, burst = 10;
            DdosTest.apply(bed, DdosConfig.NONE.withRateLimit(new RateLimit(rate, burst)).withSourcesMax(16));
            assertThat(maxEntries(bed, "dd_sources")).isEqualTo(16);
            for (InetAddress a : others) {
                try (UdpStream udp = UdpStream.open(h1.netns(), a, h2.netns(), h2.address())) {
                    udp.send(3, 1000);
                    assertThat(udp.finish(Duration.ofMillis(100)).received()).as("3 frames fit a bucket of 10").isEqualTo(3);
                }
            }
            int entries = 0;
            for (byte[] ignored : bed.engine.map("dd", "dd_sources").keys()) {
                entries++;
            }
            assertThat(entries).as("sources in the table").isBetween(1, 16);

            int sent = 3000;
            long t0 = System.nanoTime();
            UdpStream.Report r;
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.send(sent, 20_000);
                double seconds = (System.nanoTime() - t0) / 1e9;
                r = udp.finish(Duration.ofMillis(500));
                double expected = burst + rate * seconds;
                System.out.printf("sent %d in %.3f s, received %d, B + R*T = %.0f%n", r.sent(), seconds, r.received(), expected);
            }
            long limited = DdosModule.rateLimitedSources(bed.engine, "dd").get(h1.address());
            assertThat(r.sent()).isEqualTo(sent);
            assertThat(r.received() + limited).isEqualTo(sent);
            assertThat(r.received()).as("the limit holds with a table of 16").isLessThan(sent / 2);
            assertThat(DdosModule.stats(bed.engine, "dd").rateLimited().packets()).isEqualTo(limited);
        }
    }

    @Test
    void aBlocklistBeyondItsCapacityAndBadSizesAreRefusedNamingTheKey() {
        try (TestBed bed = DdosTest.bed(Hook.XDP)) {
            DdosConfig three = DdosConfig.NONE.withBlocklistMax(4).withBlockedSources(List.of(IpPrefix.parse(
                    "192.0.2.0/24"), IpPrefix.parse("198.51.100.0/24"), IpPrefix.parse("203.0.113.0/24")));
            DdosTest.apply(bed, three);
            int trie = bed.engine.map("dd", "dd_src_block").id();
            Map<String, String> applied = bed.engine.topology().instance("dd").config();

            Map<String, String> five = new java.util.HashMap<>(applied);
            five.put("block.src", "10.0.0.0/8,10.1.0.0/16,10.2.0.0/16,10.3.0.0/16,10.4.0.0/16");
            assertThatThrownBy(() -> apply(bed, five)).isInstanceOf(TopologyException.class)
                    .hasMessageContaining("'block.src'").hasMessageContaining("5 blocked source prefixes")
                    .hasMessageContaining("blocklist.max (4)");
            Map<String, String> shrink = new java.util.HashMap<>(applied);
            shrink.put("blocklist.max", "2");
            shrink.put("block.dst", "10.9.0.1");
            assertThatThrownBy(() -> apply(bed, shrink)).isInstanceOf(TopologyException.class)
                    .hasMessageContaining("'block.src'").hasMessageContaining("blocklist.max (2)");
            for (var bad : List.of(Map.of("blocklist.max", "0"), Map.of("blocklist.max", "lots"),
                    Map.of("blocklist.max", Integer.toString(DdosConfig.BLOCKLIST_LIMIT + 1)),
                    Map.of("sources.max", "15"), Map.of("sources.max", "-1"), Map.of("sources.max", "1e6"))) {
                String key = bad.keySet().iterator().next();
                assertThatThrownBy(() -> apply(bed, bad)).isInstanceOf(TopologyException.class)
                        .hasMessageContaining("'" + key + "'");
            }
            // nothing changed: the configuration, the same trie with its three prefixes
            assertThat(bed.engine.topology().instance("dd").config()).isEqualTo(applied);
            assertThat(bed.engine.map("dd", "dd_src_block").id()).isEqualTo(trie);
            assertThat(maxEntries(bed, "dd_src_block")).isEqualTo(4);
            assertThat(DdosModule.stats(bed.engine, "dd").sourceHits()).hasSize(3);
        }
    }

    private static void apply(TestBed bed, Map<String, String> config) {
        bed.engine.apply(Topology.builder().instance("dd", "ddos", config).connect("dd:0", bed.dev(1))
                .connect("dd:1", bed.dev(2)).build());
    }
}

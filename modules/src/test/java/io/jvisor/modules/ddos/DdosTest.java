package io.jvisor.modules.ddos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.TestBed;
import io.jvisor.modules.BumpInTheWire;
import io.jvisor.engine.Topology;
import io.jvisor.engine.TopologyException;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A ddos instance at the XDP hook (the blocklist test at tc too) between h1 (port 0, the policed
 * side) and h2 (port 1), with real UDP floods counted at the receiver.
 */
@RequiresRoot
class DdosTest {

    static TestBed bed() {
        return bed(Hook.XDP);
    }

    static TestBed bed(Hook hook) {
        return BumpInTheWire.start(hook, ModuleCatalog.discover());
    }

    static void apply(TestBed bed, DdosConfig config) {
        BumpInTheWire.apply(bed, "dd", "ddos", config.toConfig());
    }

    static UdpStream.Report flood(Host from, InetAddress source, Host to, int count) {
        try (UdpStream udp = UdpStream.open(from.netns(), source, to.netns(), to.address())) {
            udp.send(count, 20_000);
            return udp.finish(Duration.ofMillis(500));
        }
    }

    static IpPrefix host(InetAddress a) {
        return IpPrefix.parse(a.getHostAddress());
    }

    @ParameterizedTest
    @EnumSource(Hook.class)
    void blocklistedSourceAndDestinationAreDroppedAndCountedAndLiveChangesApply(Hook hook) {
        try (TestBed bed = bed(hook)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            apply(bed, DdosConfig.NONE);
            assertThat(bed.engine.options().hook()).isEqualTo(hook);
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue(); // ARP resolved both ways

            // block h1's /24 as a source (the LPM trie matches it for h1's address): all of h1's frames go
            IpPrefix net = IpPrefix.parse(h1.address().getHostAddress() + "/24").network();
            apply(bed, DdosConfig.NONE.withBlockedSources(List.of(net, IpPrefix.parse("192.0.2.0/24"))));
            UdpStream.Report r = flood(h1, h1.address(), h2, 500);
            assertThat(r.received()).isZero();
            DdosStats s = DdosModule.stats(bed.engine, "dd");
            assertThat(s.sourceBlocked().packets()).isEqualTo(500);
            assertThat(s.sourceBlocked().bytes()).isEqualTo(500L * (14 + 20 + 8 + 64));
            assertThat(s.sourceHits()).containsEntry(net, s.sourceBlocked())
                    .containsEntry(IpPrefix.parse("192.0.2.0/24"), new DdosStats.Counter(0, 0));
            assertThat(bed.engine.drops("dd")).containsEntry(DdosModule.DROP_SOURCE_BLOCKED, 500L);
            // port 1 is not policed: h2 to h1 passes
            assertThat(flood(h2, h2.address(), h1, 300).received()).isEqualTo(300);
            assertThat(DdosModule.stats(bed.engine, "dd").notPoliced().packets()).isGreaterThanOrEqualTo(300);

            // live change: unblock the source, block the destination h2
            apply(bed, DdosConfig.NONE.withBlockedDestinations(List.of(host(h2.address()))));
            assertThat(flood(h1, h1.address(), h2, 400).received()).isZero();
            s = DdosModule.stats(bed.engine, "dd");
            assertThat(s.sourceBlocked().packets()).isEqualTo(500); // unchanged
            assertThat(s.destinationBlocked().packets()).isEqualTo(400);
            assertThat(s.sourceHits()).isEmpty();
            assertThat(s.destinationHits()).containsEntry(host(h2.address()), s.destinationBlocked());
            assertThat(bed.engine.drops("dd")).containsEntry(DdosModule.DROP_DESTINATION_BLOCKED, 400L);

            // and nothing blocked: everything passes and is counted as passed
            long passedBefore = s.passed().packets();
            apply(bed, DdosConfig.NONE);
            assertThat(flood(h1, h1.address(), h2, 600).isPerfect()).isTrue();
            s = DdosModule.stats(bed.engine, "dd");
            assertThat(s.passed().packets() - passedBefore).isEqualTo(600);
            assertThat(s.dropped()).isEqualTo(900);
        }
    }

    /**
     * Two sources flood at about 20 k packets/s each for about 2 s through a limit of R = 1000
     * packets/s with a burst of B = 1000, each source in its own bucket. At the receiver, each
     * source must get B + R * T packets, T being the time its sender ran, within 5 % plus 20
     * packets. The tolerance covers what the test cannot see: T is measured around the sender in
     * user space, while the bucket sees the kernel's arrival times of the first and last frame
     * (scheduling delays of a few ms on this 2-core machine, 1 packet per ms at R); and a sender
     * that stalls for longer than B / R = 1 s would lose refill (a full bucket holds B). It is
     * not a timing threshold on the code under test: the count that must hold exactly is checked
     * too (received + rate-limited drops = sent, per source).
     */
    @Test
    void perSourceTokenBucketPassesBurstPlusRateTimesTimeOfAFlood() throws Exception {
        try (TestBed bed = bed()) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            InetAddress second = InetAddress.getByName(bed.net + "101");
            h1.rtnl().addAddress("eth0", IpPrefix.parse(second.getHostAddress() + "/24"));
            apply(bed, DdosConfig.NONE);
            assertThat(Ping.run(h1.netns(), h2.address(), 1).allReplied()).isTrue();
            long rate = 1000, burst = 1000;
            apply(bed, DdosConfig.NONE.withRateLimit(new RateLimit(rate, burst)));
            long rateDropsBefore = DdosModule.stats(bed.engine, "dd").rateLimited().packets();
            UdpStream.Report[] reports = new UdpStream.Report[2];
            double[] seconds = new double[2];
            try (UdpStream a = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address());
                 UdpStream b = UdpStream.open(h1.netns(), second, h2.netns(), h2.address())) {
                long t0 = System.nanoTime();
                a.start(20_000);
                long t1 = System.nanoTime();
                b.start(20_000);
                Thread.sleep(2000);
                a.stop();
                long t2 = System.nanoTime();
                b.stop();
                long t3 = System.nanoTime();
                seconds[0] = (t2 - t0) / 1e9;
                seconds[1] = (t3 - t1) / 1e9;
                reports[0] = a.finish(Duration.ofMillis(500));
                reports[1] = b.finish(Duration.ofMillis(500));
            }
            Map<InetAddress, Long> limited = DdosModule.rateLimitedSources(bed.engine, "dd");
            long totalDropped = 0;
            InetAddress[] sources = {h1.address(), second};
            for (int i = 0; i < 2; i++) {
                UdpStream.Report r = reports[i];
                double expected = burst + rate * seconds[i];
                System.out.printf("source %s: sent %d in %.3f s, received %d, expected B + R*T = %.0f%n",
                        sources[i].getHostAddress(), r.sent(), seconds[i], r.received(), expected);
                assertThat(r.sent()).as("the flood must outrun the limit").isGreaterThan((long) (3 * expected));
                assertThat((double) r.received()).isBetween(expected * 0.95 - 20, expected * 1.05 + 20);
                assertThat(r.received() + limited.get(sources[i])).isEqualTo(r.sent());
                assertThat(r.duplicated()).isZero();
                totalDropped += limited.get(sources[i]);
            }
            DdosStats s = DdosModule.stats(bed.engine, "dd");
            assertThat(s.rateLimited().packets() - rateDropsBefore).isEqualTo(totalDropped);
            assertThat(bed.engine.drops("dd")).containsEntry(DdosModule.DROP_RATE_LIMITED, s.rateLimited().packets());
        }
    }

    @Test
    void badConfigurationIsRefusedNamingTheKeyAndChangesNothing() {
        try (TestBed bed = bed()) {
            apply(bed, DdosConfig.NONE.withBlockedSources(List.of(IpPrefix.parse("192.0.2.0/24"))));
            for (var bad : List.of(Map.of("block.src", "10.0.0.0/33"), Map.of("block.dst", "fe80::/64"),
                    Map.of("rate.pps", "0"), Map.of("rate.pps", "fast"), Map.of("rate.burst", "10"),
                    Map.of("ports", "0,2"), Map.of("block", "10.0.0.1"))) {
                String key = bad.keySet().iterator().next();
                assertThatThrownBy(() -> bed.engine.apply(Topology.builder().instance("dd", "ddos", bad)
                        .connect("dd:0", bed.dev(1)).connect("dd:1", bed.dev(2)).build()))
                        .isInstanceOf(TopologyException.class).hasMessageContaining("'" + key + "'");
            }
            assertThat(bed.engine.topology().instance("dd").config()).containsEntry("block.src", "192.0.2.0/24");
            assertThat(DdosModule.stats(bed.engine, "dd").sourceHits()).containsOnlyKeys(IpPrefix.parse("192.0.2.0/24"));
        }
    }
}

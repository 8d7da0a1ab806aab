package io.jvisor.modules.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Hook;
import io.jvisor.engine.TestBed;
import io.jvisor.engine.Topology;
import io.jvisor.engine.TopologyException;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.UdpStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code ring.size}: the kernel ring has the configured size, a live change reloads the instance
 * with a new ring (refused while a session reads the old one), a small ring behind a reader that
 * falls behind loses frames under a burst and counts every loss, and bad sizes are refused naming
 * the key with nothing changed.
 */
@RequiresRoot
class CaptureRingSizeTest {

    static int ringSize(TestBed bed) {
        return bed.engine.map("cap", "cap_ring").info().maxEntries();
    }

    @Test
    void theRingHasTheConfiguredSizeAndAResizeReloadsItButNotUnderASession() throws Exception {
        try (TestBed bed = CaptureTest.bed(Hook.TC)) {
            CaptureTest.apply(bed, CaptureConfig.DEFAULT);
            assertThat(ringSize(bed)).isEqualTo(8 << 20).isEqualTo(CaptureConfig.DEFAULT_RING_SIZE);
            int ring = bed.engine.map("cap", "cap_ring").id();
            CaptureTest.apply(bed, CaptureConfig.DEFAULT.withRingSize(1 << 16));
            assertThat(ringSize(bed)).isEqualTo(1 << 16);
            assertThat(bed.engine.map("cap", "cap_ring").id()).isNotEqualTo(ring);

            try (PcapWriter pcap = new PcapWriter(OutputStream.nullOutputStream(), 100);
                 CaptureSession s = CaptureSession.start(bed.engine, "cap", pcap)) {
                // a filter change keeps the ring and the session
                CaptureTest.apply(bed, CaptureConfig.DEFAULT.withRingSize(1 << 16).withSnaplen(128));
                // a new ring would leave the session reading the old one: refused, nothing changed
                assertThatThrownBy(() -> CaptureTest.apply(bed, CaptureConfig.DEFAULT.withRingSize(1 << 20)))
                        .isInstanceOf(TopologyException.class).hasMessageContaining("'ring.size'")
                        .hasMessageContaining("running session");
                assertThat(ringSize(bed)).isEqualTo(1 << 16);
                assertThat(bed.engine.topology().instance("cap").config()).containsEntry("snaplen", "128");
            }
            // once the session stopped, the resize applies
            CaptureTest.apply(bed, CaptureConfig.DEFAULT.withRingSize(1 << 20));
            assertThat(ringSize(bed)).isEqualTo(1 << 20);
        }
    }

    /**
     * A 64 KiB ring, a reader that stalls after the file header, and a burst of 2000 datagrams of
     * 1400 bytes (about 2.9 MB of records: an 8 MiB ring would hold them all): frames are lost, every
     * loss is counted, written + lost = matched = sent, and no more records were captured than 64
     * KiB holds. Forwarding loses nothing.
     */
    @Test
    void aSmallRingCountsItsLossesUnderABurst() throws Exception {
        try (TestBed bed = CaptureTest.bed(Hook.TC)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            CaptureTest.apply(bed, CaptureConfig.DEFAULT.withRingSize(1 << 16).withFilter(CaptureFilter.ANY
                    .withProtocol(17).withSource(IpPrefix.parse(h1.address().getHostAddress()))));
            assertThat(ringSize(bed)).isEqualTo(1 << 16);
            // an output that blocks until released: the ring fills up behind it
            StalledOutput stalled = new StalledOutput();
            int count = 2000;
            int frame = 14 + 20 + 8 + 1400;
            UdpStream.Report report;
            CaptureSummary summary;
            try (PcapWriter pcap = new PcapWriter(stalled, CaptureConfig.MAX_SNAPLEN);
                 CaptureSession session = CaptureSession.start(bed.engine, "cap", pcap);
                 UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address(), 1400)) {
                udp.send(count, 50_000);
                report = udp.finish(Duration.ofSeconds(1));
                stalled.release();
                summary = session.stop();
            }
            assertThat(report.sent()).isEqualTo(count);
            assertThat(bed.engine.stats("cap", 1).txPackets()).isGreaterThanOrEqualTo(count);
            assertThat(bed.engine.drops("cap")).isEmpty();
            assertThat(summary.kernel().matched()).isEqualTo(count);
            assertThat(summary.lost()).isPositive();
            assertThat(summary.written() + summary.lost()).isEqualTo(count);
            assertThat(summary.kernel().lostBytes()).isEqualTo(summary.lost() * frame);
            // a record is 8 (ring header) + 24 (cap_record) + the frame, rounded up to 8: the reader stalled
            // after at most one batch, so at most one ring's worth plus the records it had read
            long record = (8 + CaptureSession.RECORD_HEADER + frame + 7) & ~7L;
            System.out.printf("written %d, lost %d, one 64 KiB ring holds %d records%n", summary.written(),
                    summary.lost(), (1 << 16) / record);
            assertThat(summary.written()).isLessThan(count / 4);
            assertThat(summary.toString()).contains(summary.lost() + " packets dropped by kernel");
        }
    }

    @Test
    void badRingSizesAreRefusedNamingTheKeyAndChangeNothing() {
        try (TestBed bed = CaptureTest.bed(Hook.TC)) {
            CaptureTest.apply(bed, CaptureConfig.DEFAULT.withRingSize(1 << 17));
            int ring = bed.engine.map("cap", "cap_ring").id();
            for (String bad : List.of("0", "4096", "65535", "100000", "3145728", Integer.toString(1 << 31 >>> 0),
                    "2147483648", "8M", "-65536")) {
                assertThatThrownBy(() -> bed.engine.apply(Topology.builder().instance("cap", "capture",
                        Map.of("ring.size", bad)).connect("cap:0", bed.dev(1)).connect("cap:1", bed.dev(2)).build()))
                        .as(bad).isInstanceOf(TopologyException.class).hasMessageContaining("'ring.size'");
            }
            assertThat(bed.engine.topology().instance("cap").config()).containsExactlyEntriesOf(Map.of("ring.size",
                    Integer.toString(1 << 17)));
            assertThat(bed.engine.map("cap", "cap_ring").id()).isEqualTo(ring);
            assertThat(ringSize(bed)).isEqualTo(1 << 17);
        }
    }
}

package io.jvisor.net.lab;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The stream receiver's accounting, on synthetic arrival orders. */
class SequenceTrackerTest {

    private static UdpStream.Report run(long sent, long... arrivals) {
        SequenceTracker t = new SequenceTracker();
        for (long seq : arrivals) {
            t.record(seq);
        }
        return t.report(sent);
    }

    @Test
    void perfectStream() {
        UdpStream.Report r = run(5, 0, 1, 2, 3, 4);
        assertThat(r).isEqualTo(new UdpStream.Report(5, 5, 0, 0, 0));
        assertThat(r.isPerfect()).isTrue();
    }

    @Test
    void lossIsExact() {
        assertThat(run(10, 0, 1, 2, 6, 7, 8, 9)).isEqualTo(new UdpStream.Report(10, 7, 3, 0, 0));
        assertThat(run(4)).isEqualTo(new UdpStream.Report(4, 0, 4, 0, 0));
    }

    @Test
    void duplicatesCountEachExtraCopyAndAreNotLoss() {
        UdpStream.Report r = run(4, 0, 1, 1, 1, 2, 3, 3);
        assertThat(r).isEqualTo(new UdpStream.Report(4, 7, 0, 3, 0));
        assertThat(r.isPerfect()).isFalse();
    }

    @Test
    void reorderingCountsLateArrivals() {
        // 2 and 1 arrive after 3; a duplicate of a late packet is a duplicate, not another reorder
        assertThat(run(5, 0, 3, 2, 1, 4, 1)).isEqualTo(new UdpStream.Report(5, 6, 0, 1, 2));
    }

    @Test
    void strayNumbersBeyondWhatWasSentAreNotCountedAsDelivered() {
        assertThat(run(2, 0, 1, 7)).isEqualTo(new UdpStream.Report(2, 3, 0, 0, 0));
        assertThat(run(3, 0, 7, -1)).isEqualTo(new UdpStream.Report(3, 3, 2, 0, 0));
    }
}

package io.jvisor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.WireSpec;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The benchmarks' traffic generators on one veth pair (sender {@code s}, receiver {@code d}, whose
 * eth0 drops every frame at tc ingress, as in the benchmarks): the af-packet generator, forced, on
 * every machine; the auto choice and a forced live generator against what {@link LiveFramesProbe}
 * finds the kernel allows. Counts, never rates. The frame's next hop is a permanent neighbour entry,
 * so no ARP frame crosses the pair and the receiver's counter sees only the generator's frames.
 */
@RequiresRoot
@Timeout(120)
class PacketGeneratorTest {
    private Lab lab;
    private PacketRate.Drops drops;
    private Host s;
    private Host d;
    private byte[] frame;

    @BeforeEach
    void labUp() {
        String net = EngineBenchSupport.labNet();
        lab = Lab.up(LabSpec.empty()
                .withHost(EngineBenchSupport.host("s", net + "7.2/24", null))
                .withHost(EngineBenchSupport.host("d", net + "7.3/24", null))
                .withWire(WireSpec.between("s:eth0", "d:eth0")));
        s = lab.host("s");
        d = lab.host("d");
        s.rtnl().addNeighbour("eth0", d.address(), d.rtnl().link("eth0").mac().orElseThrow());
        frame = PacketRate.frame(s, d);
        drops = new PacketRate.Drops();
        drops.on(d);
    }

    @AfterEach
    void labDown() {
        EngineBenchSupport.closeAll(java.util.Arrays.asList(lab, drops), System.err, "");
        if (lab != null) {
            assertThat(io.jvisor.net.Netns.list()).as("namespaces left").noneMatch(n -> n.startsWith(lab.prefix() + "-"));
        }
    }

    @Test
    void afPacketSendsExactlyTheFramesAskedForAndEachIsReceivedOrCountedDropped() {
        try (PacketGenerator g = PacketGenerator.open(PacketGenerator.Choice.AF_PACKET, 2, s, frame)) {
            assertThat(g.kind()).isEqualTo(PacketGenerator.Choice.AF_PACKET);
            assertThat(g.why()).isEqualTo("forced (--generator af-packet)");
            assertThat(g.needsNapi()).isFalse();

            long[] before = counts();
            PacketGenerator.Sent sent = g.send(s, frame, 100_001);
            long[] after = settled(before);

            assertThat(sent.frames()).as("frames the kernel took").isEqualTo(100_001);
            long received = after[0] - before[0];
            long dropped = after[1] - before[1];
            assertThat(received).as("frames received at d's eth0").isPositive();
            assertThat(received + dropped).as("received + dropped by the veth (tx_dropped)").isEqualTo(sent.frames());

            before = counts();
            PacketGenerator.Sent timed = g.sendFor(s, frame, Duration.ofMillis(200));
            after = settled(before);
            assertThat(timed.frames()).isPositive();
            assertThat((after[0] - before[0]) + (after[1] - before[1])).isEqualTo(timed.frames());
        }
    }

    @Test
    void autoRunsLiveFramesWhereTheKernelAllowsThemAndOtherwiseAfPacketSayingWhy() {
        Optional<BpfException> refusal = LiveFramesProbe.refusal();
        try (PacketGenerator g = PacketGenerator.open(PacketGenerator.Choice.AUTO, 2, s, frame)) {
            if (refusal.isEmpty()) {
                assertThat(g.kind()).isEqualTo(PacketGenerator.Choice.LIVE);
                assertThat(g.why()).startsWith("auto: live frames work here");
                assertThat(g.needsNapi()).isTrue();
            } else {
                assertThat(g.kind()).isEqualTo(PacketGenerator.Choice.AF_PACKET);
                assertThat(g.why()).startsWith("auto: live frames refused")
                        .contains("BPF_F_TEST_XDP_LIVE_FRAMES", LiveFramesProbe.errnoName(refusal.get()), "CapEff");
            }
            assertSendsAndIsReceived(g, 10_000);
        }
    }

    @Test
    void forcedLiveFramesRunWhereTheKernelAllowsThemAndAreOtherwiseRefusedClearly() {
        Optional<BpfException> refusal = LiveFramesProbe.refusal();
        if (refusal.isEmpty()) {
            try (PacketGenerator g = PacketGenerator.open(PacketGenerator.Choice.LIVE, 2, s, frame)) {
                assertThat(g.kind()).isEqualTo(PacketGenerator.Choice.LIVE);
                assertThat(g.why()).isEqualTo("forced (--generator live)");
                assertSendsAndIsReceived(g, 10_000);
            }
        } else {
            assertThatThrownBy(() -> PacketGenerator.open(PacketGenerator.Choice.LIVE, 2, s, frame))
                    .isInstanceOf(GeneratorRefusedException.class)
                    .hasMessageContaining("live frames refused")
                    .hasMessageContaining("BPF_F_TEST_XDP_LIVE_FRAMES")
                    .hasMessageContaining(LiveFramesProbe.errnoName(refusal.get()))
                    .hasMessageContaining("--generator af-packet")
                    .satisfies(e -> assertThat(((GeneratorRefusedException) e).errno()).isEqualTo(refusal.get().errno()));
        }
    }

    /** Sends {@code n} frames (GRO on at d for the live generator, as the benches do): all taken, some received. */
    private void assertSendsAndIsReceived(PacketGenerator g, long n) {
        if (g.needsNapi()) {
            PacketRate.gro(d, "eth0", true);
        }
        long[] before = counts();
        PacketGenerator.Sent sent = g.send(s, frame, n);
        long[] after = settled(before);
        assertThat(sent.frames()).isEqualTo(n);
        assertThat(after[0] - before[0]).as("frames received at d's eth0").isPositive().isLessThanOrEqualTo(n);
    }

    /** d's eth0 rx_packets, and s's eth0 tx_dropped. */
    private long[] counts() {
        return new long[] {PacketRate.rxPackets(d), PacketRate.counters(s, "eth0").txDropped()};
    }

    /** The counts once they stopped moving (the last frames through the softirq). */
    private long[] settled(long[] before) {
        long[] last = counts();
        for (int i = 0; i < 50; i++) {
            sleep();
            long[] now = counts();
            if (now[0] == last[0] && now[1] == last[1]) {
                return now;
            }
            last = now;
        }
        return last;
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

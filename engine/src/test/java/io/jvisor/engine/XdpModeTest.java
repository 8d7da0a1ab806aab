package io.jvisor.engine;

import io.jvisor.bpf.features.Features;
import io.jvisor.bpf.features.Support;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The same modules, compiled once, run at the XDP hook when the engine is asked to, on each XDP
 * metadata channel. The metadata area needs bpf_xdp_adjust_meta, which some kernels refuse to XDP
 * programs: there, forcing it must fail clearly and AUTO must take the per-CPU scratch channel.
 */
@RequiresRoot
class XdpModeTest {
    /** Whether this kernel lets XDP programs call bpf_xdp_adjust_meta. */
    private static final Support ADJUST_META = Features.xdpMetadata();

    /**
     * Creates a bed whose engine carries metadata on {@code channel}, or returns null after
     * asserting that the kernel refuses that channel and the engine says so.
     */
    private static TestBed bed(int hosts, XdpMetadata channel, boolean switched) {
        TestBed bed = TestBed.create(hosts, Hook.XDP, switched).with(o -> o.withXdpMetadata(channel));
        if (channel == XdpMetadata.METADATA_AREA && !ADJUST_META.supported()) {
            try (bed) {
                assertThatThrownBy(bed::start).isInstanceOf(TopologyException.class)
                        .hasMessageContaining("bpf_xdp_adjust_meta").hasMessageContaining("PER_CPU_SCRATCH");
            }
            return null;
        }
        return bed;
    }

    private static XdpMetadata expected(XdpMetadata asked) {
        if (asked != XdpMetadata.AUTO) {
            return asked;
        }
        return ADJUST_META.supported() ? XdpMetadata.METADATA_AREA : XdpMetadata.PER_CPU_SCRATCH;
    }

    @ParameterizedTest
    @EnumSource(XdpMetadata.class)
    void chainForwardsAndCountsInXdp(XdpMetadata channel) {
        TestBed made = bed(2, channel, false);
        if (made == null) {
            return; // refused, as asserted
        }
        try (TestBed bed = made) {
            bed.prepareHostsForXdp(2);
            Engine e = bed.start();
            assertThat(e.xdpMetadata()).contains(expected(channel));
            e.apply(ChainTest.chain(bed));
            Host h1 = bed.lab.host("h1");
            Host h2 = bed.lab.host("h2");
            assertThat(Ping.run(h1.netns(), h2.address(), 3).allReplied()).isTrue();
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.send(3000, 20_000);
                assertThat(udp.finish(Duration.ofSeconds(1)).lost()).isZero();
            }
            assertThat(ChainTest.udpCount(e, 0)).isEqualTo(3000);
            assertThat(e.missedTailCalls("cnt")).isZero();
            assertThat(e.drops("fwd1")).as("drops").allSatisfy((reason, n) -> assertThat(n).isZero());
        }
    }

    @ParameterizedTest
    @EnumSource(value = XdpMetadata.class, names = {"AUTO", "PER_CPU_SCRATCH"})
    void hubFloodsWithADevmapBroadcastInXdp(XdpMetadata channel) {
        hubFloods(channel, false);
    }

    /** The devmap resolves ifindexes in the writer's namespace: devices elsewhere must still flood. */
    @ParameterizedTest
    @EnumSource(value = XdpMetadata.class, names = {"AUTO", "PER_CPU_SCRATCH"})
    void hubFloodsBetweenDevicesInAnotherNamespace(XdpMetadata channel) {
        hubFloods(channel, true);
    }

    /**
     * A test run hands the entry the same buffer again: on the metadata area it must not grow each
     * time, and on the scratch slot every run must start from fresh metadata.
     */
    @ParameterizedTest
    @EnumSource(XdpMetadata.class)
    void entryRunsRepeatedlyUnderTestRun(XdpMetadata channel) {
        TestBed made = bed(2, channel, false);
        if (made == null) {
            return; // refused, as asserted
        }
        try (TestBed bed = made) {
            Engine e = bed.start();
            e.apply(ChainTest.chain(bed));
            byte[] frame = new byte[64];
            java.util.Arrays.fill(frame, 0, 6, (byte) 0xff);
            frame[12] = 0x08;
            frame[13] = 0x06; // ARP: the chain's forwarders pass it along
            String dev = bed.dev(1).substring("dev:".length());
            long before = e.stats("fwd1", 0).rxPackets();
            try (io.jvisor.bpf.BpfProgram entry = io.jvisor.bpf.BpfProgram.openPinned(
                    bed.options.pinRoot().resolve("dev").resolve("-_" + dev).resolve("prog"))) {
                var result = entry.testRun(io.jvisor.bpf.TestRun.of(frame).withRepeat(50));
                assertThat(result.returnValue()).as("verdict after 50 runs of the same buffer")
                        .isEqualTo(4 /* XDP_REDIRECT */);
            }
            assertThat(e.stats("fwd1", 0).rxPackets() - before).as("every run entered fwd1 on port 0").isEqualTo(50);
            assertThat(e.drops("fwd1")).as("drops").allSatisfy((reason, n) -> assertThat(n).isZero());
        }
    }

    /** AUTO takes the metadata area exactly where the kernel allows bpf_xdp_adjust_meta. */
    @Test
    void autoFollowsTheProbe() {
        try (TestBed bed = TestBed.create(1, Hook.XDP).with(o -> o.withXdpMetadata(XdpMetadata.AUTO))) {
            assertThat(bed.start().xdpMetadata()).contains(expected(XdpMetadata.AUTO));
        }
        try (TestBed bed = TestBed.create(1, Hook.TC).with(o -> o.withXdpMetadata(XdpMetadata.AUTO))) {
            assertThat(bed.start().xdpMetadata()).as("tc carries metadata in the skb").isEmpty();
        }
    }

    /** A restarted engine keeps the channel its running programs were loaded with. */
    @Test
    void restartKeepsTheRunningChannel() {
        try (TestBed bed = TestBed.create(2, Hook.XDP).with(o -> o.withXdpMetadata(XdpMetadata.PER_CPU_SCRATCH))) {
            bed.prepareHostsForXdp(2);
            Engine e = bed.start();
            e.apply(ChainTest.chain(bed));
            e.close();
            // AUTO would pick the metadata area where the kernel allows it; the running programs win
            Engine again = Engine.start(bed.options.withXdpMetadata(XdpMetadata.AUTO), TestModules.catalog());
            bed.engine = again;
            assertThat(again.xdpMetadata()).contains(XdpMetadata.PER_CPU_SCRATCH);
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
            again.close();
            if (ADJUST_META.supported()) {
                assertThatThrownBy(() -> Engine.start(bed.options.withXdpMetadata(XdpMetadata.METADATA_AREA),
                        TestModules.catalog())).isInstanceOf(TopologyException.class)
                        .hasMessageContaining("PER_CPU_SCRATCH, not METADATA_AREA");
            }
            bed.engine = Engine.start(bed.options, TestModules.catalog());
        }
    }

    private static void hubFloods(XdpMetadata channel, boolean switched) {
        try (TestBed bed = bed(3, channel, switched)) {
            bed.prepareHostsForXdp(3);
            Engine e = bed.start();
            Topology.Builder t = Topology.builder().instance("hub", "hub");
            for (int i = 1; i <= 3; i++) {
                t.connect("hub:" + (i - 1), bed.dev(i));
            }
            e.apply(t.build());
            // ARP requests are broadcasts: every ping below starts with a flooded one
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
            assertThat(Ping.run(bed.lab.host("h3").netns(), bed.lab.host("h1").address(), 2).allReplied()).isTrue();
        }
    }
}

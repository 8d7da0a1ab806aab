package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The same modules, compiled once, run at the XDP hook when the engine is asked to. */
@RequiresRoot
class XdpModeTest {
    @Test
    void chainForwardsAndCountsInXdp() {
        try (TestBed bed = TestBed.create(2, Hook.XDP)) {
            bed.prepareHostsForXdp(2);
            Engine e = bed.start();
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
        }
    }

    @Test
    void hubFloodsWithADevmapBroadcastInXdp() {
        hubFloods(false);
    }

    /** The devmap resolves ifindexes in the writer's namespace: devices elsewhere must still flood. */
    @Test
    void hubFloodsBetweenDevicesInAnotherNamespace() {
        hubFloods(true);
    }

    /** A test run hands the entry the same buffer again: its metadata must not grow each time. */
    @Test
    void entryRunsRepeatedlyUnderTestRun() {
        try (TestBed bed = TestBed.create(2, Hook.XDP)) {
            Engine e = bed.start();
            e.apply(ChainTest.chain(bed));
            byte[] frame = new byte[64];
            java.util.Arrays.fill(frame, 0, 6, (byte) 0xff);
            frame[12] = 0x08;
            frame[13] = 0x06; // ARP: the chain's forwarders pass it along
            String dev = bed.dev(1).substring("dev:".length());
            try (io.jvisor.bpf.BpfProgram entry = io.jvisor.bpf.BpfProgram.openPinned(
                    bed.options.pinRoot().resolve("dev").resolve("-_" + dev).resolve("prog"))) {
                var result = entry.testRun(io.jvisor.bpf.TestRun.of(frame).withRepeat(50));
                assertThat(result.returnValue()).as("verdict after 50 runs of the same buffer")
                        .isEqualTo(4 /* XDP_REDIRECT */);
            }
            assertThat(e.drops("fwd1")).as("drops").allSatisfy((reason, n) -> assertThat(n).isZero());
        }
    }

    private static void hubFloods(boolean switched) {
        try (TestBed bed = TestBed.create(3, Hook.XDP, switched)) {
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

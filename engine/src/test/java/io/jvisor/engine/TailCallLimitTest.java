package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A packet caught in a loop of instances circles until the kernel's limit on chained tail calls
 * (33) stops it, and the instance it stopped in counts it as a tail_call_limit drop, not as a
 * missed tail call. The planner refuses such a loop of forwarders, so the test writes the loop's
 * last wire into the kernel by hand: A's port 1 leads to B's port 0 (as applied), and B's port 1
 * back to A's port 0 (forced, in jv_ports and in B's jv_next).
 */
@RequiresRoot
class TailCallLimitTest {
    private static final int RUNS = 20;

    @ParameterizedTest
    @EnumSource(Hook.class)
    void aPacketInALoopIsDroppedAtTheTailCallLimitAndCounted(Hook hook) {
        try (TestBed bed = TestBed.create(2, hook)) {
            Engine e = bed.start();
            e.apply(Topology.builder().instance("a", "forwarder").instance("b", "forwarder")
                    .connect("a:0", bed.dev(1)).connect("a:1", "b:0").connect("b:1", bed.dev(2)).build());
            PinLayout pins = new PinLayout(bed.options.pinRoot());
            try (BpfMap ports = BpfMap.openPinned(pins.maps().resolve("jv_ports"));
                 BpfProgram a = BpfProgram.fromId(e.programId("a"))) {
                ports.update(BpfMapKeys.u32(e.slot("b") * Sdk.MAX_PORTS + 1),
                        PeerCodec.encode(new PeerCodec.Instance(e.slot("a"), 0)));
                e.map("b", Sdk.NEXT_MAP).setProgram(1, a);
            }
            byte[] frame = new byte[64];
            java.util.Arrays.fill(frame, 0, 6, (byte) 0xff);
            frame[12] = 0x08;
            frame[13] = 0x06; // ARP, which forwarders pass along
            try (BpfProgram entry = BpfProgram.openPinned(pins.device((Endpoint.Device) Endpoint.parse(bed.dev(1)))
                    .resolve("prog"))) {
                var result = entry.testRun(TestRun.of(frame).withRepeat(RUNS));
                assertThat(result.returnValue()).as("the verdict of a packet that went nowhere")
                        .isEqualTo(hook == Hook.TC ? 2 /* TC_ACT_SHOT */ : 1 /* XDP_DROP */);
            }
            // the entry's tail call is the first of 33: a gets the packet 17 times (hops 1, 3, ..., 33), b 16
            assertThat(e.stats("a", 0).rxPackets()).isEqualTo(17L * RUNS);
            assertThat(e.stats("a", 1).txPackets()).isEqualTo(17L * RUNS);
            assertThat(e.stats("b", 0).rxPackets()).isEqualTo(16L * RUNS);
            assertThat(e.stats("b", 1).txPackets()).isEqualTo(16L * RUNS);
            assertThat(e.drops("a")).isEqualTo(Map.of("tail_call_limit", (long) RUNS));
            assertThat(e.drops("b")).isEmpty();
            assertThat(e.missedTailCalls("a")).isZero();
            assertThat(e.missedTailCalls("b")).isZero();
        }
    }
}

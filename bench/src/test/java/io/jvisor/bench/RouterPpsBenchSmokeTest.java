package io.jvisor.bench;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks that the router packet-rate harness runs end to end and reports: frames from the traffic
 * generator through the jvisor router, Linux ip_forward and one bare veth are counted at the
 * receivers, and one TCP stream runs per router. The generator is the auto choice (live frames
 * where {@link LiveFramesProbe} finds the kernel allows them, else af-packet with the refusal in the
 * log), and once more af-packet forced, so that path runs on every machine. Short smoke runs;
 * nothing here compares rates. Needs root; under CI=true it fails instead of skipping.
 */
@RequiresRoot
class RouterPpsBenchSmokeTest {
    @Test
    @Timeout(180)
    void routerPpsHarnessRuns() throws Exception {
        SmokeLog log = new SmokeLog();
        Optional<BpfException> refusal = LiveFramesProbe.refusal();
        RouterPpsBench.Config config = RouterPpsBench.Config.smokeRun();

        RouterPpsBench.Result r = RouterPpsBench.run(config, log.out);
        RouterPpsBench.printReport(r, log.out);

        assertFramesCrossedEveryPath(r);
        assertThat(r.tcpGbps().get("jvisor router")[0]).isPositive();
        assertThat(r.tcpGbps().get("Linux ip_forward")[0]).isPositive();
        assertThat(r.checks()).anyMatch(c -> c.contains("no missed tail calls"));
        if (refusal.isEmpty()) {
            assertThat(r.generatorKind()).isEqualTo(PacketGenerator.Choice.LIVE);
            assertThat(log.text()).contains("== generator: live (", "auto: live frames work here");
        } else {
            assertThat(r.generatorKind()).isEqualTo(PacketGenerator.Choice.AF_PACKET);
            assertThat(log.text()).contains("== generator: af-packet (", "auto: live frames refused",
                    "BPF_F_TEST_XDP_LIVE_FRAMES returned " + LiveFramesProbe.errnoName(refusal.get()));
        }
        assertThat(log.text()).contains("SMOKE RUN",
                "Small UDP, jvisor router / Linux ip_forward", "generator " + r.generatorKind().option() + ")");
        log.assertLabGone("== lab");
    }

    @Test
    @Timeout(180)
    void routerPpsHarnessRunsWithTheAfPacketGeneratorForced() throws Exception {
        SmokeLog log = new SmokeLog();
        RouterPpsBench.Config config = RouterPpsBench.Config.smokeRun().with(PacketGenerator.Choice.AF_PACKET)
                .withTcp(false);

        RouterPpsBench.Result r = RouterPpsBench.run(config, log.out);
        RouterPpsBench.printReport(r, log.out);

        assertFramesCrossedEveryPath(r);
        assertThat(r.generatorKind()).isEqualTo(PacketGenerator.Choice.AF_PACKET);
        assertThat(r.generator()).contains("2 sender threads", "PACKET_QDISC_BYPASS", "forced (--generator af-packet)");
        assertThat(log.text()).contains("== generator: af-packet (", "generator af-packet)");
        log.assertLabGone("== lab");
    }

    /**
     * Every path received frames. (Not "at most what was sent": a router's ARP probe to the receiver
     * is counted there too; PacketGeneratorTest checks the exact counts on a pair without ARP.)
     */
    private static void assertFramesCrossedEveryPath(RouterPpsBench.Result r) {
        for (String[] p : RouterPpsBench.PATHS) {
            assertThat(r.rxPps().get(p[0])).as(p[0] + " received").hasSize(1);
            assertThat(r.rxPps().get(p[0])[0]).as(p[0] + " received pps").isPositive();
            assertThat(r.txPps().get(p[0])[0]).as(p[0] + " sent pps").isPositive();
        }
    }
}

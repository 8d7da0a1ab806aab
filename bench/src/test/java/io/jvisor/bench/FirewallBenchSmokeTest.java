package io.jvisor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.testing.RequiresRoot;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Checks that the firewall's forwarding harness runs end to end and reports: with 100 rules in
 * iptables, nftables and the jvisor firewall, the traffic generator's frames, iperf3 UDP datagrams
 * and an iperf3 TCP stream reach the receiver on every path, and each peer's final accept rule
 * counted them. The generator is the auto choice: live frames where {@link LiveFramesProbe} finds the
 * kernel allows them, else af-packet with the refusal in the log. One short round; nothing here
 * compares rates. Needs root, iperf3, iptables and nft.
 */
@RequiresRoot
class FirewallBenchSmokeTest {
    @Test
    @Timeout(180)
    void forwardingHarnessRuns() throws Exception {
        SmokeLog log = new SmokeLog();

        Optional<BpfException> refusal = LiveFramesProbe.refusal();

        FirewallBench.E2eResult r = FirewallBench.e2e(1, 1, 100, true, PacketGenerator.Choice.AUTO, 2, log.out);
        FirewallBench.printE2e(r, log.out);

        for (String p : FirewallBench.PATHS) {
            assertThat(r.genRx().get(p)).as(p + ": generator frames received").hasSize(1);
            assertThat(r.genRx().get(p)[0]).as(p + ": generator frames received per second").isPositive();
            assertThat(r.genTx().get(p)[0]).as(p + ": generator frames sent per second").isPositive();
            assertThat(r.udp().get(p)[0]).as(p + ": iperf3 UDP datagrams received per second").isPositive();
            assertThat(r.tcp().get(p)[0]).as(p + ": iperf3 TCP").isPositive();
        }
        String out = log.text();
        String kind = r.generatorKind().option();
        assertThat(out).contains("SMOKE RUN", "UDP 64 B rx/s (" + kind + " generator)",
                "UDP 64 B (" + kind + " generator), jvisor firewall / iptables at 100 rules", "== generator: " + kind + " (");
        if (refusal.isEmpty()) {
            assertThat(r.generatorKind()).isEqualTo(PacketGenerator.Choice.LIVE);
            assertThat(r.generator()).contains("auto: live frames work here");
        } else {
            assertThat(r.generatorKind()).isEqualTo(PacketGenerator.Choice.AF_PACKET);
            assertThat(r.generator()).contains("auto: live frames refused",
                    "BPF_F_TEST_XDP_LIVE_FRAMES returned " + LiveFramesProbe.errnoName(refusal.get()));
        }
        // iptables and nftables counted packets at their final accept (a non-zero packet count)
        assertThat(r.checks().get(0)).doesNotContain("iptables '0 ").containsPattern("nftables '.*counter packets [1-9]");
        log.assertLabGone("== e2e: lab");
    }
}

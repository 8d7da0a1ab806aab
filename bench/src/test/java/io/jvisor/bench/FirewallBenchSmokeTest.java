package io.jvisor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Checks that the firewall's forwarding harness runs end to end and reports: with 100 rules in
 * iptables, nftables and the jvisor firewall, the XDP generator's frames, iperf3 UDP datagrams and
 * an iperf3 TCP stream reach the receiver on every path, and each peer's final accept rule counted
 * them. One short round; nothing here compares rates. Needs root, iperf3, iptables and nft.
 */
@RequiresRoot
class FirewallBenchSmokeTest {
    @Test
    @Timeout(180)
    void forwardingHarnessRuns() throws Exception {
        SmokeLog log = new SmokeLog();

        FirewallBench.E2eResult r = FirewallBench.e2e(1, 1, 100, true, log.out);
        FirewallBench.printE2e(r, log.out);

        for (String p : FirewallBench.PATHS) {
            assertThat(r.genRx().get(p)).as(p + ": generator frames received").hasSize(1);
            assertThat(r.genRx().get(p)[0]).as(p + ": generator frames received per second").isPositive();
            assertThat(r.genTx().get(p)[0]).as(p + ": generator frames sent per second").isPositive();
            assertThat(r.udp().get(p)[0]).as(p + ": iperf3 UDP datagrams received per second").isPositive();
            assertThat(r.tcp().get(p)[0]).as(p + ": iperf3 TCP").isPositive();
        }
        String out = log.text();
        assertThat(out).contains("SMOKE RUN", "UDP 64 B rx/s (XDP generator)", "jvisor firewall / iptables at 100 rules");
        // iptables and nftables counted packets at their final accept (a non-zero packet count)
        assertThat(r.checks().get(0)).doesNotContain("iptables '0 ").containsPattern("nftables '.*counter packets [1-9]");
        log.assertLabGone("== e2e: lab");
    }
}

package io.jvisor.bench;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks that the router packet-rate harness runs end to end and reports: frames sent from packet
 * sockets through the jvisor router, Linux ip_forward and one bare veth are counted at the
 * receivers, and one TCP stream runs per router. A short smoke run; nothing here compares rates.
 * Needs root; under CI=true it fails instead of skipping.
 */
@RequiresRoot
class RouterPpsBenchSmokeTest {
    @Test
    @Timeout(180)
    void routerPpsHarnessRuns() throws Exception {
        SmokeLog log = new SmokeLog();
        RouterPpsBench.Config config = RouterPpsBench.Config.smokeRun();

        RouterPpsBench.Result r = RouterPpsBench.run(config, log.out);
        RouterPpsBench.printReport(r, log.out);

        for (String[] p : RouterPpsBench.PATHS) {
            assertThat(r.rxPps().get(p[0])).as(p[0] + " received").hasSize(1);
            assertThat(r.rxPps().get(p[0])[0]).as(p[0] + " received pps").isPositive();
            assertThat(r.txPps().get(p[0])[0]).as(p[0] + " sent pps").isPositive();
        }
        assertThat(r.tcpGbps().get("jvisor router")[0]).isPositive();
        assertThat(r.tcpGbps().get("Linux ip_forward")[0]).isPositive();
        assertThat(r.checks()).anyMatch(c -> c.contains("no missed tail calls"));
        assertThat(log.text()).contains("SMOKE RUN",
                "Small UDP, jvisor router / Linux ip_forward");
        log.assertLabGone("== lab");
    }
}

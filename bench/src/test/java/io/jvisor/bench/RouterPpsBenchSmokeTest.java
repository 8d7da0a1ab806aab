package io.jvisor.bench;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

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
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        RouterPpsBench.Config config = RouterPpsBench.Config.smokeRun();

        RouterPpsBench.Result r = RouterPpsBench.run(config, log);
        RouterPpsBench.printReport(r, log);

        for (String[] p : RouterPpsBench.PATHS) {
            assertThat(r.rxPps().get(p[0])).as(p[0] + " received").hasSize(1);
            assertThat(r.rxPps().get(p[0])[0]).as(p[0] + " received pps").isPositive();
            assertThat(r.txPps().get(p[0])[0]).as(p[0] + " sent pps").isPositive();
        }
        assertThat(r.tcpGbps().get("jvisor router")[0]).isPositive();
        assertThat(r.tcpGbps().get("Linux ip_forward")[0]).isPositive();
        assertThat(r.checks()).anyMatch(c -> c.contains("no missed tail calls"));
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("SMOKE RUN",
                "Small UDP, jvisor router / Linux ip_forward");
        var m = java.util.regex.Pattern.compile("== lab (\\S+) ").matcher(bytes.toString(StandardCharsets.UTF_8));
        assertThat(m.find()).as("the lab's prefix is logged").isTrue();
        String prefix = m.group(1);
        assertThat(io.jvisor.net.Netns.list()).as("namespaces of lab " + prefix + " left")
                .noneMatch(n -> n.startsWith(prefix + "-"));
    }
}

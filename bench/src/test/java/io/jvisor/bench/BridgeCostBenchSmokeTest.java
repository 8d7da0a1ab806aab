package io.jvisor.bench;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks that the bridge cost harness runs end to end and reports: the jvisor bridge (through its
 * device entry and alone) and the hand-written C bridges under BPF_PROG_TEST_RUN, each to the
 * learned destination. A short smoke run; nothing here compares timings. Needs root; under
 * CI=true it fails instead of skipping.
 */
@RequiresRoot
class BridgeCostBenchSmokeTest {
    @Test
    @Timeout(120)
    void bridgeCostHarnessRuns() {
        SmokeLog log = new SmokeLog();
        BridgeCostBench.Config config = BridgeCostBench.Config.smokeRun();

        BridgeCostBench.Result r = BridgeCostBench.run(config, log.out);
        BridgeCostBench.printReport(r, log.out);

        for (String s : java.util.stream.Stream.concat(BridgeCostBench.SUBJECTS.stream(),
                BridgeCostBench.BREAKDOWN.stream()).toList()) {
            assertThat(r.ns()).as("figures of " + s).containsKey(s);
            assertThat(r.ns().get(s)).hasSize(config.rounds());
            assertThat(Arrays.stream(r.ns().get(s)).allMatch(x -> x > 0)).as(s + " ns/packet positive").isTrue();
        }
        assertThat(Arrays.stream(r.ratios("jvisor_bridge", "c_bridge")).allMatch(Double::isFinite)).isTrue();
        assertThat(r.checks()).anyMatch(c -> c.contains("nothing flooded, no drops, no missed tail calls"))
                .anyMatch(c -> c.contains("both bridges learned the source"));
        assertThat(log.text()).contains("SMOKE RUN", "jvisor bridge / C minimal bridge:",
                "| jvisor device entry + bridge instance");
        SmokeLog.assertNothingLeft("jvbb");
    }
}

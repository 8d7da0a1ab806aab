package io.jvisor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Checks that the nat and lb benchmark harnesses run end to end and report: the lb module and the C
 * DNAT under BPF_PROG_TEST_RUN, and iperf3 through the router + nat modules and through nftables
 * masquerade. Short smoke runs; nothing here compares timings. Needs root (and nft).
 */
@RequiresRoot
class NatLbBenchSmokeTest {
    @Test
    @Timeout(120)
    void lbCostHarnessRuns() {
        SmokeLog log = new SmokeLog();
        LbCostBench.Result r = LbCostBench.run(3, 1000, true, log.out);
        LbCostBench.printReport(r, log.out);
        for (String s : new String[] {"c_nop", "c_dnat", "jvisor_instance", "jvisor_entry"}) {
            assertThat(r.ns().get(s)).hasSize(3);
            assertThat(Arrays.stream(r.ns().get(s)).allMatch(x -> x > 0)).as(s).isTrue();
        }
        assertThat(log.text()).contains("SMOKE RUN", "| C minimal DNAT", "2 flows");
    }

    @Test
    @Timeout(180)
    void natThroughputHarnessRuns() throws Exception {
        SmokeLog log = new SmokeLog();
        var r = NatThroughputBench.run(1, 1, true, log.out);
        assertThat(r.get(NatThroughputBench.JV)).isPositive();
        assertThat(r.get(NatThroughputBench.LINUX)).isPositive();
        assertThat(log.text()).contains("SNAT mappings", "masquerade rule counted");
    }
}

package io.jvisor.bench;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks that the engine benchmark harnesses run end to end and report: engine chains and
 * hand-written peers under BPF_PROG_TEST_RUN, iperf3 through jvisor, the bridge and a tc
 * forwarder, and apply from nothing in child JVMs. Each is a short smoke run; nothing here
 * compares timings. Needs root; under CI=true it fails instead of skipping.
 */
@RequiresRoot
class EngineBenchSmokeTest {
    private static final String[] SUBJECTS = {"c_fwd", "c_fwd_counted", "jvisor_instance", "jvisor_chain_1",
        "jvisor_chain_2", "jvisor_chain_4", "jvisor_chain_8", "c_chain_direct_8", "c_chain_map_8"};

    @Test
    @Timeout(120)
    void perPacketCostHarnessRuns() {
        SmokeLog log = new SmokeLog();
        EngineCostBench.Config config = EngineCostBench.Config.smokeRun();

        EngineCostBench.Result r = EngineCostBench.run(config, log.out);
        EngineCostBench.printReport(r, log.out);

        for (String s : SUBJECTS) {
            assertThat(r.ns()).as("figures of " + s).containsKey(s);
            assertThat(r.ns().get(s)).hasSize(config.rounds());
            assertThat(java.util.Arrays.stream(r.ns().get(s)).allMatch(x -> x > 0)).as(s + " ns/packet positive").isTrue();
        }
        assertThat(r.checks()).anyMatch(c -> c.contains("no missed tail calls"));
        assertThat(java.util.Arrays.stream(r.perHop("jvisor_chain_")).allMatch(Double::isFinite)).as("per-hop slopes")
                .isTrue();
        assertThat(log.text()).contains("SMOKE RUN", "| jvisor device entry + forwarder",
                "ns per extra hop");
        SmokeLog.assertNothingLeft("jvbc");
    }

    @Test
    @Timeout(120)
    void tcpThroughputHarnessRuns() {
        SmokeLog log = new SmokeLog();

        TcpThroughputBench.Result r = TcpThroughputBench.run(TcpThroughputBench.Config.smokeRun(), log.out);
        TcpThroughputBench.printReport(r, log.out);

        for (String p : TcpThroughputBench.PATHS) {
            assertThat(r.gbps().get(p)).as(p + " Gbit/s").hasSize(1);
            assertThat(r.gbps().get(p)[0]).as(p + " Gbit/s").isPositive();
        }
        assertThat(r.counters().get("jvisor")[0]).as("jvisor TCP counters").isNotNull();
        assertThat(log.text()).contains("SMOKE RUN", "| jvisor / bridge |", "| segments received out of order |");
        SmokeLog.assertNothingLeft("jvbt");
    }

    @Test
    @Timeout(300)
    void applyTimeHarnessRuns() throws Exception {
        SmokeLog log = new SmokeLog();
        ApplyTimeBench.Config config = ApplyTimeBench.Config.smokeRun();

        ApplyTimeBench.Result r = ApplyTimeBench.run(config, log.out);
        ApplyTimeBench.printReport(r, log.out);

        assertThat(r.rounds()).hasSize(config.rounds());
        ApplyTimeBench.Round cold = r.rounds().getFirst();
        // one compilation per module type plus the engine's entry program, and none once cached
        assertThat(cold.clangCompilations()).isEqualTo(ApplyTimeBench.TYPES.size() + 1);
        assertThat(r.rounds().get(1).clangCompilations()).isZero();
        for (ApplyTimeBench.Round round : r.rounds()) {
            assertThat(round.get("apply_ms")).isPositive();
            assertThat(round.get("floor_total_ms")).isPositive();
            // one program per instance and one entry per device connection
            assertThat(round.get("programs_named_jv_tc")).isEqualTo(config.instances());
            assertThat(round.get("programs_named_jv_entry_tc")).isEqualTo(config.devices());
            assertThat(round.get("patch_distinct_programs")).isEqualTo(config.instances());
        }
        assertThat(log.text()).contains("SMOKE RUN", "| 1 | cold |");
        SmokeLog.assertNothingLeft("jvba");
    }
}

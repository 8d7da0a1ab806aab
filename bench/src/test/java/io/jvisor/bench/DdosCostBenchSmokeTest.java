package io.jvisor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Checks that the ddos cost harness runs end to end on this kernel: a real engine at the XDP hook,
 * entered through its own device entry program on whichever XDP metadata channel the kernel allows,
 * next to the hand-written C peers. Every subject returns its expected verdict (the harness checks
 * it) and the instance counts what it passed and dropped. Nothing here compares timings.
 */
@RequiresRoot
class DdosCostBenchSmokeTest {
    @Test
    @Timeout(180)
    void ddosCostHarnessRunsThroughTheEnginesOwnXdpEntry() {
        SmokeLog log = new SmokeLog();
        var r = DdosCostBench.run(3, 1000, 500, true, log.out);
        for (String s : List.of("jvisor_pass", "jvisor_drop", "jvisor_ratelimit_pass", "c_pass", "c_drop",
                "c_ratelimit_pass", "c_nop")) {
            assertThat(r.get(s)).as(s).hasSize(3);
            assertThat(Arrays.stream(r.get(s)).allMatch(x -> x > 0)).as(s).isTrue();
        }
        assertThat(log.text()).contains("SMOKE RUN", "each returns its expected verdict", "passed and");
        SmokeLog.assertNothingLeft("jvdd");
    }
}

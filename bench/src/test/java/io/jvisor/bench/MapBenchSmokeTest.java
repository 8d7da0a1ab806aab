package io.jvisor.bench;

import io.jvisor.bpf.testing.RequiresRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks that the map benchmark harness works end to end: the C peer compiles with gcc and prints
 * figures, JMH runs every {@link MapOpsBench} benchmark, and the report comes out. It checks no
 * timing: the run is far too short to compare anything, and CI machines are shared. Needs root
 * (creating BPF maps); under CI=true it fails instead of skipping.
 */
@RequiresRoot
class MapBenchSmokeTest {
    @Test
    @Timeout(120)
    void harnessRunsEndToEnd(@TempDir Path dir) throws Exception {
        // One batch size keeps the run near 15 s; --smoke on the command line does both.
        CompareMapOps.Config config = CompareMapOps.Config.smoke(dir).withBatches(List.of(256));
        SmokeLog log = new SmokeLog();

        CompareMapOps.Result result = CompareMapOps.run(config, log.out);
        CompareMapOps.printTable(result, config, log.out);

        assertThat(Files.isExecutable(dir.resolve("map_ops"))).as("gcc built the C peer").isTrue();
        assertThat(result.ops()).containsExactly("lookup", "update", "update_batch/256", "lookup_batch/256");
        assertThat(result.rounds()).hasSize(1);
        CompareMapOps.Round round = result.rounds().getFirst();
        for (String op : result.ops()) {
            assertThat(round.java()).as("Java figures").containsKey(op);
            assertThat(round.c()).as("C figures").containsKey(op);
            for (Sample s : List.of(round.java().get(op), round.c().get(op))) {
                assertThat(s.ns()).as(op + " ns/op").isFinite().isPositive();
                assertThat(s.userNs()).as(op + " user ns/op").isFinite().isNotNegative();
                assertThat(s.sysNs()).as(op + " sys ns/op").isFinite().isNotNegative();
            }
        }
        assertThat(result.cComments()).anyMatch(c -> c.startsWith("libbpf "));
        String report = log.text();
        assertThat(report).contains("| lookup | ", "| update | ", "SMOKE RUN", "Batch against single operations");
    }
}

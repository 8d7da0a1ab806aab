package io.jvisor.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks that the map benchmark harness works end to end: the C peer compiles with gcc and prints
 * figures, JMH runs every {@link MapOpsBench} benchmark, and the report comes out. It checks no
 * timing: the run is far too short to compare anything, and CI machines are shared.
 */
class MapBenchSmokeTest {
    @Test
    @Timeout(120)
    void harnessRunsEndToEnd(@TempDir Path dir) throws Exception {
        assumeTrue(isRoot(), "creating BPF maps needs root");
        // One batch size keeps the run near 15 s; --smoke on the command line does both.
        CompareMapOps.Config config = CompareMapOps.Config.smoke(dir).withBatches(List.of(256));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        CompareMapOps.Result result = CompareMapOps.run(config, log);
        CompareMapOps.printTable(result, config, log);

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
        String report = bytes.toString(StandardCharsets.UTF_8);
        assertThat(report).contains("| lookup | ", "| update | ", "SMOKE RUN", "Batch against single operations");
    }

    private static boolean isRoot() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:"))
                .anyMatch(l -> l.split("\\s+")[2].equals("0")); // effective uid
    }
}

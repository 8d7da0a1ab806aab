package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestReader;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every file in examples/ applies on the real kernel, passes its traffic checks (its declared
 * {@code spec.checks}, or every host pair reaching each other), and tears down with nothing left
 * behind: no lab namespaces or devices, no pins, no state.
 */
@RequiresRoot
class ExamplesTest {
    @TestFactory
    Stream<DynamicTest> everyExampleAppliesPassesTrafficAndTearsDownCleanly() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(ServerTestBed.examples())) {
            files = s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        }
        assertThat(files).as("examples").isNotEmpty();
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> run(f)));
    }

    private static void run(Path file) throws IOException {
        Manifest m = ManifestReader.read(Files.readString(file));
        String prefix;
        try (ServerTestBed bed = new ServerTestBed("jvx")) {
            try (Controller c = Controller.open(bed.options)) {
                ApplyResult r = c.apply(m, false);
                prefix = c.labPrefix();
                bed.lab(prefix);
                assertThat(r.changes()).isNotEmpty();
                assertThat(c.engine().topology().instances()).hasSize(m.spec().instances().size());
                // applying the same file again changes nothing
                assertThat(c.apply(m, true).changes()).isEmpty();
                List<TrafficCheck.Result> checks = TrafficCheck.run(c, 1000);
                checks.forEach(x -> System.out.println(file.getFileName() + ": " + (x.passed() ? "PASS " : "FAIL ")
                        + x.what() + ": " + x.detail()));
                if (!m.spec().checks().isEmpty()) {
                    assertThat(checks).as("one result per declared check").hasSize(m.spec().checks().size());
                } else if (m.spec().hosts().size() >= 2) {
                    assertThat(checks).isNotEmpty();
                }
                assertThat(checks).allSatisfy(x -> assertThat(x.passed()).as(x.what() + ": " + x.detail()).isTrue());
                c.destroy();
            }
            if (prefix != null) {
                assertThat(ServerTestBed.labLeftovers(prefix)).as("lab leftovers").isEmpty();
            }
            assertThat(bed.options.pinRoot()).doesNotExist();
            assertThat(bed.options.stateDir()).doesNotExist();
        }
    }
}

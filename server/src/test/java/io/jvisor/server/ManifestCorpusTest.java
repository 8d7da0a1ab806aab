package io.jvisor.server;

import io.jvisor.engine.ModuleCatalog;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestReader;
import io.jvisor.server.manifest.ManifestResolver;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Reading and checking: every bad file of the corpus is refused with a problem naming its field
 * and reason (faults only the engine finds are in {@link DaemonRestTest}); good files round-trip.
 */
class ManifestCorpusTest {
    private static final ModuleCatalog CATALOG = ModuleCatalog.discover();

    @Test
    void theCorpusHasSixtyCasesOrMore() {
        assertThat(BadManifests.all()).hasSizeGreaterThanOrEqualTo(60);
    }

    @TestFactory
    Stream<DynamicTest> everyBadFileIsRefusedNamingItsField() {
        return BadManifests.all().stream().filter(c -> !c.engineLevel()).map(c -> DynamicTest.dynamicTest(c.name(),
                () -> {
                    ManifestException e = catchThrowableOfType(ManifestException.class, () -> {
                        Manifest m = ManifestReader.read(c.text());
                        ManifestResolver.check(m, CATALOG);
                    });
                    assertThat(e).as("%s is refused", c.name()).isNotNull();
                    assertThat(c.matches(e.problems())).as("%s names %s | %s; got:%n%s", c.name(), c.field(),
                            c.fragment(), e.getMessage()).isTrue();
                }));
    }

    @Test
    void oneReadReportsEveryFault() {
        String yaml = """
                apiVersion: jvisor.io/v1
                kind: Topology
                metadata: {name: many}
                spec:
                  instances:
                    - {name: r1, type: router, config: {port.0: 10.0.0.1/33}}
                    - {name: x, type: warp}
                  connections:
                    - {a: r1:0, b: ghost:1}
                """;
        ManifestException e = catchThrowableOfType(ManifestException.class,
                () -> ManifestResolver.check(ManifestReader.read(yaml), CATALOG));
        assertThat(e.getMessage()).contains("spec.instances[0].config.port.0: \"10.0.0.1/33\": prefix length")
                .contains("spec.instances[1].type: \"warp\": unknown module type")
                .contains("spec.connections[0].b: \"ghost:1\": no instance named 'ghost'");
    }

    @Test
    void examplesRoundTripThroughYaml() throws Exception {
        try (var s = Files.list(ServerTestBed.examples())) {
            for (var f : s.toList()) {
                Manifest m = ManifestReader.read(Files.readString(f));
                ManifestResolver.check(m, CATALOG);
                assertThat(ManifestReader.read(ManifestReader.toYaml(m))).as(f.toString()).isEqualTo(m);
            }
        }
    }

    @Test
    void nestedConfigMapsAreDottedKeys() {
        Manifest m = ManifestReader.read("""
                apiVersion: jvisor.io/v1
                kind: Topology
                metadata: {name: nested}
                spec:
                  instances:
                    - name: r1
                      type: router
                      config:
                        port: {0: 10.0.1.1/24, 1: 10.0.2.1/24}
                  connections: [[r1:0, r1:1]]
                """);
        assertThat(m.spec().instances().getFirst().config()).containsEntry("port.0", "10.0.1.1/24")
                .containsEntry("port.1", "10.0.2.1/24");
        assertThat(m.spec().connections().getFirst()).isEqualTo(new Manifest.Connection("r1:0", "r1:1"));
    }
}

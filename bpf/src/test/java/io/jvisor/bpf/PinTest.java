package io.jvisor.bpf;

import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RequiresRoot
class PinTest {
    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = Files.createDirectories(Pins.DEFAULT_BPFFS.resolve(Names.unique("jvt")));
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void pinnedMapKeepsItsDataAfterEveryFdIsClosed() {
        Path pin = dir.resolve("counts");
        int id;
        try (BpfMap m = BpfMap.create(MapSpec.hash("counts", 4, 8, 8))) {
            m.update(MapTypesTest.u32(7), MapTypesTest.u64(700));
            m.pin(pin);
            id = m.id();
        }
        assertThat(Fd.openCount()).isZero();
        try (BpfMap again = BpfMap.openPinned(pin)) {
            assertThat(again.id()).isEqualTo(id);
            assertThat(again.name()).isEqualTo("counts");
            assertThat(again.lookup(MapTypesTest.u32(7)).map(MapTypesTest::asLong)).contains(700L);
        }
        Pins.unpin(pin);
        assertThat(pin).doesNotExist();
        assertThatThrownBy(() -> BpfMap.fromId(id)).isInstanceOf(BpfException.class);
    }

    @Test
    void pinnedProgramIsTheSameProgram() {
        Path pin = dir.resolve("prog");
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("pinme", ProgramType.XDP, null,
                new Asm().mov64(io.jvisor.bpf.asm.Register.R0, 2).exit().build()))) {
            p.pin(pin);
            try (BpfProgram again = BpfProgram.openPinned(pin)) {
                assertThat(again.id()).isEqualTo(p.id());
                assertThat(again.type()).isEqualTo(ProgramType.XDP);
            }
        }
    }

    @Test
    void pinningTwiceAtOnePathSaysItExists() {
        Path pin = dir.resolve("twice");
        try (BpfMap m = BpfMap.create(MapSpec.array("t", 4, 1))) {
            m.pin(pin);
            assertThatThrownBy(() -> m.pin(pin)).isInstanceOf(BpfException.class)
                    .hasMessageContaining("EEXIST").hasMessageContaining("already exists");
        }
    }

    @Test
    void pinOutsideBpffsIsRefusedAndLeavesNothing() throws IOException {
        Path outside = Files.createTempDirectory("jvisor-pin").resolve("map");
        try (BpfMap m = BpfMap.create(MapSpec.array("out", 4, 1))) {
            assertThatThrownBy(() -> m.pin(outside))
                    .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                        assertThat(e.field()).isEqualTo("path");
                        assertThat(e.getMessage()).contains(outside.toString()).contains("not inside a bpf filesystem");
                    });
        } finally {
            Files.deleteIfExists(outside.getParent());
        }
        assertThat(outside).doesNotExist();
    }

    @Test
    void openingAMissingPinNamesThePath() {
        Path missing = dir.resolve("nothing");
        assertThatThrownBy(() -> BpfMap.openPinned(missing)).isInstanceOf(BpfException.class)
                .hasMessageContaining("ENOENT").hasMessageContaining("nothing is pinned at '" + missing + "'");
    }
}

package io.jvisor.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The crash-safe state file the engine and the daemon write. */
class AtomicFileTest {
    @TempDir
    Path dir;

    @Test
    void writesReplaceTheContentOwnerOnlyAndLeaveNoTemporaryFile() throws Exception {
        Path f = dir.resolve("sub/state.json");
        assertThat(AtomicFile.read(f)).isEmpty();
        AtomicFile.write(f, "one".getBytes(StandardCharsets.UTF_8));
        AtomicFile.write(f, "two, longer".getBytes(StandardCharsets.UTF_8));
        assertThat(new String(AtomicFile.read(f).orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("two, longer");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        try (var s = Files.list(f.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("state.json");
        }
        // a temporary file left by a crash before the rename is replaced, not appended to
        Files.writeString(f.resolveSibling("state.json.tmp"), "torn");
        AtomicFile.write(f, "three".getBytes(StandardCharsets.UTF_8));
        assertThat(Files.readString(f)).isEqualTo("three");
        assertThat(f.resolveSibling("state.json.tmp")).doesNotExist();
        AtomicFile.delete(f);
        AtomicFile.delete(f);
        assertThat(f).doesNotExist();
    }

    @Test
    void aFileThatCannotBeWrittenIsNamed() throws Exception {
        Path blocker = dir.resolve("blocker");
        Files.writeString(blocker, "a file, not a directory");
        assertThatThrownBy(() -> AtomicFile.write(blocker.resolve("state.json"), new byte[1]))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("blocker/state.json");
    }
}

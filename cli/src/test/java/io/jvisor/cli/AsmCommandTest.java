package io.jvisor.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code jvisor asm FILE.s -o FILE.bin}. */
class AsmCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesRawLittleEndianInstructions() throws IOException {
        Path source = dir.resolve("prog.s");
        Files.writeString(source, """
                # XDP_PASS unless r1 is null
                    if r1 == 0 goto out
                    r0 = 2
                    exit
                out:
                    mov %r0, 1        # bpf_conformance syntax works too
                    exit
                """);
        Path bin = dir.resolve("out.bin");
        CliRun r = CliRun.run("asm", source.toString(), "-o", bin.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("assembled " + source + " -> " + bin + " (5 slots, 40 bytes)");
        assertThat(Files.readAllBytes(bin)).containsExactly(
                0x15, 0x01, 0x02, 0x00, 0, 0, 0, 0,
                0xb7, 0x00, 0x00, 0x00, 2, 0, 0, 0,
                0x95, 0, 0, 0, 0, 0, 0, 0,
                0xb7, 0x00, 0x00, 0x00, 1, 0, 0, 0,
                0x95, 0, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void outputDefaultsToTheSourceNameWithBin() throws IOException {
        Path source = dir.resolve("two.s");
        Files.writeString(source, "r0 = 0\nexit\n");
        assertThat(CliRun.run("asm", source.toString()).exit()).isZero();
        assertThat(dir.resolve("two.bin")).hasSize(16);
    }

    @Test
    void errorsNameTheFileAndLine() throws IOException {
        Path source = dir.resolve("bad.s");
        Files.writeString(source, "r0 = 0\nr0 =+= 1\nexit\n");
        CliRun r = CliRun.run("asm", source.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith(source + ":2: ").contains("r0 =+= 1");
        assertThat(dir.resolve("bad.bin")).doesNotExist();

        Files.writeString(source, "r1 = counters ll\nexit\n");
        r = CliRun.run("asm", source.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("symbol 'counters' is not resolved");

        r = CliRun.run("asm", dir.resolve("missing.s").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot read");
    }
}

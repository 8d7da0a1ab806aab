package io.jvisor.cli;

import io.jvisor.bpf.asm.Disassembler;
import io.jvisor.bpf.asm.LlvmTools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code jvisor disasm FILE.o [SECTION]} and its round trip through {@code jvisor asm}. */
class DisasmCommandTest {
    private static final String PROGRAM = """
            #define SEC(name) __attribute__((section(name), used))
            struct xdp_md { unsigned int data, data_end; };
            static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
            struct { int (*type)[2]; int (*max_entries)[1]; unsigned int *key; unsigned long long *value; } hits SEC(".maps");
            static __attribute__((noinline)) int twice(int x) { return x * 2; }
            SEC("xdp") int count(struct xdp_md *ctx) {
                unsigned int k = 0;
                unsigned long long *v = bpf_map_lookup_elem(&hits, &k);
                if (v) __sync_fetch_and_add(v, 1);
                return twice(ctx->data_end - ctx->data) > 100 ? 1 : 2;
            }
            SEC("tc") int other(void *ctx) { return 0; }
            char LICENSE[] SEC("license") = "GPL";
            """;

    @TempDir
    static Path dir;
    static Path object;

    @BeforeAll
    static void compile() throws IOException {
        object = LlvmTools.compile(LlvmTools.newestClang(), PROGRAM, dir, "count", "-mcpu=v3");
    }

    @Test
    void listsEveryExecutableSectionLikeLlvmObjdump() throws IOException {
        CliRun r = CliRun.run("disasm", object.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("\n" + object + ":\tfile format elf64-bpf\n")
                .contains("\nDisassembly of section .text:\n\n0000000000000000 <twice>:\n")
                .contains("\nDisassembly of section xdp:\n\n0000000000000000 <count>:\n")
                .contains("\nDisassembly of section tc:\n")
                .contains("\tr1 = 0x0 ll\n")
                .contains("\tcall 0x1\n")
                .contains("\tcall local -0x1\n")
                .contains("\tlock *(u64 *)(r0 + 0x0) += r1\n")
                .doesNotContain("R_BPF");
        String objdump = LlvmTools.run(List.of(LlvmTools.objdump().path().toString(), "-d", object.toString()));
        assertThat(r.out().replace("call local ", "call ")).isEqualTo(objdump);
    }

    @Test
    void oneSectionWithRelocations() {
        CliRun r = CliRun.run("disasm", "-r", object.toString(), "xdp");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Disassembly of section xdp:").doesNotContain("section .text")
                .contains(":  R_BPF_64_64\thits\n").contains(":  R_BPF_64_32\t.text\n");
    }

    @Test
    void disasmOutputAssemblesBackToTheSectionCode() throws IOException {
        Path listing = dir.resolve("xdp.s");
        Files.writeString(listing, CliRun.run("disasm", object.toString(), "xdp").out());
        Path bin = dir.resolve("xdp.bin");
        CliRun r = CliRun.run("asm", listing.toString(), "-o", bin.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        byte[] code = Disassembler.Section.fromElf(Files.readAllBytes(object)).stream()
                .filter(s -> s.name().equals("xdp")).findFirst().orElseThrow().code();
        assertThat(Files.readAllBytes(bin)).isEqualTo(code);
    }

    @Test
    void unknownSectionsAndNonObjectsAreErrors() throws IOException {
        CliRun r = CliRun.run("disasm", object.toString(), "kprobe/nothing");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("has no executable section 'kprobe/nothing'; it has: .text, xdp, tc");
        Path text = dir.resolve("not-elf.o");
        Files.writeString(text, "hello");
        r = CliRun.run("disasm", text.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("not an ELF object");
        r = CliRun.run("disasm", dir.resolve("missing.o").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot read");
    }
}

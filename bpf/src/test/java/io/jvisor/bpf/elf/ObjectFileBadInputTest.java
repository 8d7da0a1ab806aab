package io.jvisor.bpf.elf;

import io.jvisor.bpf.toolchain.CompileException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad objects are refused with an ObjectFileException that names what is wrong. */
class ObjectFileBadInputTest {
    private static byte[] compile(String code, String name) throws Exception {
        try {
            return Files.readAllBytes(TestObjects.clang().compileString(code, name, List.of()).object());
        } catch (CompileException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    @Test
    void unknownSectionIsNamed() throws Exception {
        byte[] o = compile("""
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                SEC("frobnicate/now")
                int f(void *ctx) { return 0; }
                char LICENSE[] SEC("license") = "GPL";
                """, "unknown.c");
        assertThatThrownBy(() -> ObjectFile.parse(o, "unknown"))
                .isInstanceOfSatisfying(ObjectFileException.class,
                        e -> assertThat(e.reason()).isEqualTo(ObjectFileException.Reason.UNKNOWN_SECTION))
                .hasMessageContaining("'frobnicate/now'").hasMessageContaining("unknown");
    }

    @Test
    void relocationAgainstAnUndefinedSymbolIsNamed() throws Exception {
        byte[] o = compile("""
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                extern int missing_counter;
                SEC("xdp")
                int f(struct xdp_md *ctx) { return missing_counter; }
                char LICENSE[] SEC("license") = "GPL";
                """, "extern.c");
        assertThatThrownBy(() -> ObjectFile.parse(o, "extern"))
                .isInstanceOfSatisfying(ObjectFileException.class,
                        e -> assertThat(e.reason()).isEqualTo(ObjectFileException.Reason.MISSING_SYMBOL))
                .hasMessageContaining("missing_counter");
    }

    @Test
    void relocationAgainstANonexistentSymbolIsNamed() throws Exception {
        byte[] o = Files.readAllBytes(TestObjects.compile("xdp_count.c"));
        ByteBuffer b = ByteBuffer.wrap(o).order(ByteOrder.LITTLE_ENDIAN);
        int shoff = (int) b.getLong(40);
        int shnum = b.getShort(60);
        boolean patched = false;
        for (int i = 0; i < shnum && !patched; i++) {
            int h = shoff + 64 * i;
            if (b.getInt(h + 4) == 9 /* SHT_REL */ && b.getInt(h + 44) != 0) {
                int target = shoff + 64 * b.getInt(h + 44);
                if ((b.getLong(target + 8) & 0x4) != 0) { // relocations of code
                    int rel = (int) b.getLong(h + 24);
                    long info = b.getLong(rel + 8);
                    b.putLong(rel + 8, (9999L << 32) | (info & 0xffffffffL));
                    patched = true;
                }
            }
        }
        assertThat(patched).isTrue();
        assertThatThrownBy(() -> ObjectFile.parse(o, "xdp_count"))
                .isInstanceOfSatisfying(ObjectFileException.class,
                        e -> assertThat(e.reason()).isEqualTo(ObjectFileException.Reason.MISSING_SYMBOL))
                .hasMessageContaining("symbol #9999");
    }

    @Test
    void notAnElfFileAndTruncationsAreRefused() throws Exception {
        assertThatThrownBy(() -> ObjectFile.parse(new byte[100], "zeros"))
                .isInstanceOfSatisfying(ObjectFileException.class,
                        e -> assertThat(e.reason()).isEqualTo(ObjectFileException.Reason.NOT_BPF_ELF));
        assertThatThrownBy(() -> ObjectFile.read(Path.of("/nonexistent/x.o")))
                .isInstanceOfSatisfying(ObjectFileException.class,
                        e -> assertThat(e.reason()).isEqualTo(ObjectFileException.Reason.IO));
        byte[] o = Files.readAllBytes(TestObjects.compile("calls.c"));
        for (int len = 0; len < o.length; len += 7) {
            byte[] cut = java.util.Arrays.copyOf(o, len);
            try {
                ObjectFile.parse(cut, "calls");
            } catch (ObjectFileException e) {
                assertThat(e.getMessage()).contains("calls");
            }
        }
    }

    @Test
    void badBtfIsReportedAsBadBtf() throws Exception {
        byte[] o = Files.readAllBytes(TestObjects.compile("xdp_count.c"));
        ByteBuffer b = ByteBuffer.wrap(o).order(ByteOrder.LITTLE_ENDIAN);
        int shoff = (int) b.getLong(40);
        int shnum = b.getShort(60);
        int strtab = shoff + 64 * b.getShort(62);
        int names = (int) b.getLong(strtab + 24);
        for (int i = 0; i < shnum; i++) {
            int h = shoff + 64 * i;
            int nameAt = names + b.getInt(h);
            if (new String(o, nameAt, 5).equals(".BTF\0")) {
                int at = (int) b.getLong(h + 24);
                b.putShort(at, (short) 0x1234); // bad magic
            }
        }
        assertThatThrownBy(() -> ObjectFile.parse(o, "xdp_count"))
                .isInstanceOfSatisfying(ObjectFileException.class,
                        e -> assertThat(e.reason()).isEqualTo(ObjectFileException.Reason.BAD_BTF))
                .hasMessageContaining("magic");
    }
}

package io.jvisor.bpf.toolchain;

import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.elf.TestObjects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The clang driver: flags, SDK headers, cache, diagnostics and a missing clang. */
class ClangTest {
    @TempDir
    Path tmp;

    private Clang clang() {
        return TestObjects.clang().withCacheDir(tmp.resolve("cache"));
    }

    @Test
    void compilesAFileWithLibbpfAndSdkHeadersAndCachesIt() throws Exception {
        Path src = tmp.resolve("pass.c");
        Files.writeString(src, """
                #include <jvisor/jvisor.h>

                SEC("xdp")
                int pass(struct xdp_md *ctx)
                {
                    return JVISOR_SDK_VERSION > 0 ? XDP_PASS : XDP_DROP;
                }

                char LICENSE[] SEC("license") = "GPL";
                """);
        Clang clang = clang();
        Clang.Result first = clang.compile(src);
        assertThat(first.cached()).isFalse();
        assertThat(first.object()).startsWith(tmp.resolve("cache").resolve("clang"));
        assertThat(first.object().getFileName().toString()).matches("[0-9a-f]{64}\\.o");
        CollectionSpec spec = ObjectFile.read(first.object());
        assertThat(spec.programs()).extracting(p -> p.name()).containsExactly("pass");
        Clang.Result second = clang.compile(src);
        assertThat(second.cached()).isTrue();
        assertThat(second.object()).isEqualTo(first.object());
        // a change to the source is a new cache entry
        Files.writeString(src, Files.readString(src).replace("XDP_DROP", "XDP_ABORTED"));
        Clang.Result third = clang.compile(src);
        assertThat(third.cached()).isFalse();
        assertThat(third.object()).isNotEqualTo(first.object());
        // so is another flag
        assertThat(clang.compile(src, List.of("-DEXTRA=1")).object()).isNotEqualTo(third.object());
        // and a copy to an output path
        Path out = tmp.resolve("out/pass.o");
        clang.compile(src, out, List.of());
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(third.object()));
    }

    @Test
    void errorsBecomeDiagnosticsWithTheSourceLine() {
        assertThatThrownBy(() -> clang().compileString("""
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>

                SEC("xdp")
                int bad(struct xdp_md *ctx)
                {
                    return undeclared_thing + 1;
                }
                """, "bad.c", List.of()))
                .isInstanceOfSatisfying(CompileException.class, e -> {
                    assertThat(e).isNotInstanceOf(ClangNotFoundException.class);
                    Diagnostic d = e.errors().getFirst();
                    assertThat(d.file()).isEqualTo("bad.c");
                    assertThat(d.line()).isEqualTo(7);
                    assertThat(d.column()).isEqualTo(12);
                    assertThat(d.severity()).isEqualTo(Diagnostic.Severity.ERROR);
                    assertThat(d.message()).contains("undeclared_thing");
                    assertThat(d.sourceLine()).contains("return undeclared_thing + 1;");
                    assertThat(e.getMessage()).contains("bad.c:7:12: error:").contains("return undeclared_thing + 1;");
                });
    }

    @Test
    void warningsAreReportedOnSuccess() throws Exception {
        Clang.Result r = clang().compileString("""
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>

                SEC("xdp")
                int warn(struct xdp_md *ctx)
                {
                    int unused = 3;
                    return XDP_PASS;
                }
                """, "warn.c", List.of());
        assertThat(r.diagnostics()).anySatisfy(d -> {
            assertThat(d.severity()).isEqualTo(Diagnostic.Severity.WARNING);
            assertThat(d.line()).isEqualTo(7);
            assertThat(d.sourceLine()).contains("int unused = 3;");
        });
    }

    @Test
    void parsesNewClangQuotingStyle() {
        List<Diagnostic> ds = Clang.parseDiagnostics("""
                fw.c:12:5: error: use of undeclared identifier 'x'
                   12 |     x = 1;
                      |     ^
                fw.c:3:10: fatal error: 'missing.h' file not found
                    3 | #include "missing.h"
                      |          ^~~~~~~~~~~
                2 errors generated.
                """);
        assertThat(ds).hasSize(2);
        assertThat(ds.get(0).sourceLine()).isEqualTo("    x = 1;");
        assertThat(ds.get(1).severity()).isEqualTo(Diagnostic.Severity.FATAL);
        assertThat(ds.get(1).toString()).startsWith("fw.c:3:10: fatal error: 'missing.h' file not found");
    }

    @Test
    void missingClangSaysHowToInstallIt() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> Clang.find(null, empty.toString()))
                .isInstanceOf(ClangNotFoundException.class)
                .hasMessageContaining("clang is not on PATH").hasMessageContaining("apt-get install clang");
        assertThatThrownBy(() -> Clang.find(tmp.resolve("nope").toString(), empty.toString()))
                .isInstanceOf(ClangNotFoundException.class).hasMessageContaining("JVISOR_CLANG");
    }

    @Test
    void prefersTheNewestVersionedClang() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String name : List.of("clang", "clang-12", "clang-19", "clang-9")) {
            Path f = bin.resolve(name);
            Files.writeString(f, "#!/bin/sh\necho \"fake " + name + " version\"\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Clang c = Clang.find(null, bin.toString());
        assertThat(c.executable().getFileName().toString()).isEqualTo("clang-19");
        assertThat(c.version()).isEqualTo("fake clang-19 version");
    }
}

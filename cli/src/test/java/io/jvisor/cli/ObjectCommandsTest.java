package io.jvisor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.bpf.elf.TestObjects;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code jvisor compile}, {@code jvisor object inspect} and {@code jvisor object load}. */
class ObjectCommandsTest {
    private static final String COUNTER = """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>

            struct value { __u64 packets; };

            struct {
                __uint(type, BPF_MAP_TYPE_HASH);
                __uint(max_entries, 16);
                __type(key, __u32);
                __type(value, struct value);
            } counts SEC(".maps");

            const volatile __u32 limit = 10;

            SEC("xdp")
            int xdp_counter(struct xdp_md *ctx)
            {
                __u32 k = 0;
                struct value *v = bpf_map_lookup_elem(&counts, &k);
                if (v && v->packets > limit)
                    return XDP_DROP;
                return XDP_PASS;
            }

            char LICENSE[] SEC("license") = "GPL";
            """;

    private static final String BROKEN = """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>

            SEC("xdp")
            int xdp_oob(struct xdp_md *ctx)
            {
                unsigned char *data = (void *)(long)ctx->data;
                return data[20] == 6 ? XDP_DROP : XDP_PASS;
            }

            char LICENSE[] SEC("license") = "GPL";
            """;

    @TempDir
    Path tmp;

    @BeforeEach
    void needsClang() {
        TestObjects.clang(); // skips without clang, fails under CI
    }

    private Path compiled(String name, String code) throws IOException {
        Path src = tmp.resolve(name + ".c");
        Files.writeString(src, code);
        Path obj = tmp.resolve(name + ".o");
        CliRun r = CliRun.run("compile", src.toString(), "-o", obj.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        return obj;
    }

    @Test
    void compileWritesTheObjectAndPrintsDiagnostics() throws IOException {
        Path obj = compiled("counter", COUNTER.replace("__u32 k = 0;", "__u32 k = 0; int unused;"));
        assertThat(obj).exists();
        CliRun again = CliRun.run("compile", tmp.resolve("counter.c").toString(), "-o", obj.toString());
        assertThat(again.out()).contains("(cached)");
        assertThat(again.err()).contains("counter.c:").contains("warning: unused variable 'unused'");
    }

    @Test
    void compileErrorsExitNonZeroWithFileLineAndSource() throws IOException {
        Path src = tmp.resolve("bad.c");
        Files.writeString(src, "#include <linux/bpf.h>\nint f(void) { return nope; }\n");
        CliRun r = CliRun.run("compile", src.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("bad.c:2:22: error: use of undeclared identifier 'nope'")
                .contains("int f(void) { return nope; }");
    }

    @Test
    void inspectListsProgramsMapsAndGlobals() throws IOException {
        Path obj = compiled("counter", COUNTER);
        CliRun r = CliRun.run("object", "inspect", obj.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("xdp_counter").contains("xdp ").contains("counts").contains("hash")
                .contains("4 (__u32)").contains("8 (struct value)").contains(".rodata").contains("limit")
                .contains("counter.rodata");
        CliRun json = CliRun.run("object", "inspect", obj.toString(), "--output", "json");
        assertThat(json.exit()).as(json.err()).isZero();
        JsonNode root = new ObjectMapper().readTree(json.out());
        assertThat(root.get("object").asText()).isEqualTo("counter");
        assertThat(root.get("programs").get(0).get("name").asText()).isEqualTo("xdp_counter");
        assertThat(root.get("programs").get(0).get("instructions").asInt()).isPositive();
        JsonNode counts = root.get("maps").get(0);
        assertThat(counts.get("name").asText()).isEqualTo("counts");
        assertThat(counts.get("type").asText()).isEqualTo("hash");
        assertThat(counts.get("valueType").asText()).isEqualTo("struct value");
        assertThat(counts.get("maxEntries").asInt()).isEqualTo(16);
        assertThat(root.get("globals").get(0).get("name").asText()).isEqualTo("limit");
    }

    @Test
    void inspectOfANonObjectFailsClearly() throws IOException {
        Path junk = tmp.resolve("junk.o");
        Files.writeString(junk, "not an object");
        CliRun r = CliRun.run("object", "inspect", junk.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("junk").contains("not bpf elf");
    }

    @Test
    @RequiresRoot
    void loadPinsEverythingAndAVerifierRejectionPrintsTheCLine() throws IOException {
        Path obj = compiled("counter", COUNTER);
        Path dir = Path.of("/sys/fs/bpf", Names.unique("jvcli"));
        try {
            CliRun r = CliRun.run("object", "load", obj.toString(), "--pin", dir.toString(), "-c", "limit=3");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("pinned " + dir.resolve("xdp_counter")).contains("pinned " + dir.resolve("counts"))
                    .contains("pinned " + dir.resolve("counter_rodata"));
            assertThat(dir.resolve("xdp_counter")).exists();

            Path broken = compiled("broken", BROKEN);
            CliRun b = CliRun.run("object", "load", broken.toString(), "--pin", dir.resolve("b").toString());
            assertThat(b.exit()).isNotZero();
            assertThat(b.err()).contains("broken.c:8: return data[20] == 6 ? XDP_DROP : XDP_PASS; -> ")
                    .contains("outside of the packet");
        } finally {
            if (Files.exists(dir)) {
                try (Stream<Path> s = Files.walk(dir)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}

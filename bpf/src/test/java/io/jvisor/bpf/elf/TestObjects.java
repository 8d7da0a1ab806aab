package io.jvisor.bpf.elf;

import io.jvisor.bpf.testing.Privileges;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.bpf.toolchain.ClangNotFoundException;
import io.jvisor.bpf.toolchain.CompileException;
import org.junit.jupiter.api.Assumptions;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The test C programs beside this class (src/test/resources/io/jvisor/bpf/elf), compiled with the
 * jvisor clang driver. Without clang the tests that need it are skipped, except under CI=true where
 * they fail: a skipped loader test proves nothing.
 */
public final class TestObjects {
    private TestObjects() {}

    private static Clang clang;

    /** The clang driver; skips (or, under CI, fails) the calling test when there is none. */
    public static synchronized Clang clang() {
        if (clang == null) {
            try {
                clang = Clang.find();
            } catch (ClangNotFoundException e) {
                if (Privileges.isCi()) {
                    throw new AssertionError("CI=true but clang is missing: " + e.getMessage(), e);
                }
                Assumptions.abort("needs clang: " + e.getMessage());
            }
        }
        return clang;
    }

    /** Skips (or, under CI, fails) the calling test when bpftool is not installed. */
    public static void requireBpftool() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "bpftool"))) {
                return;
            }
        }
        for (String dir : new String[] {"/usr/sbin", "/sbin"}) {
            if (Files.isExecutable(Path.of(dir, "bpftool"))) {
                return;
            }
        }
        if (Privileges.isCi()) {
            throw new AssertionError("CI=true but bpftool is missing: apt-get install bpftool");
        }
        Assumptions.abort("needs bpftool (apt-get install bpftool)");
    }

    /** The path of the test C source {@code name} (e.g. {@code xdp_count.c}). */
    public static Path source(String name) {
        URL url = TestObjects.class.getResource(name);
        if (url == null) {
            throw new IllegalArgumentException("no test source " + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Compiles test source {@code name} and returns the object file. */
    public static Path compile(String name) {
        try {
            return clang().compile(source(name)).object();
        } catch (CompileException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /** Compiles and parses test source {@code name}. */
    public static CollectionSpec spec(String name) {
        Path o = compile(name);
        String base = name.substring(0, name.lastIndexOf('.'));
        try {
            return ObjectFile.parse(Files.readAllBytes(o), base);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}

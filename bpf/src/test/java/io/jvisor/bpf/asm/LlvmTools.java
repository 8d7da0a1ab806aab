package io.jvisor.bpf.asm;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * clang and llvm-objdump for the golden tests. The comparison needs llvm-objdump 19 (LLVM 14
 * prints decimal immediates, {@link Disassembler} prints LLVM 19's hexadecimal ones, and 19 is the
 * version the output was checked against); Debian bookworm has it as package llvm-19. Missing tools skip the test, except under {@code CI=true}, where they fail it.
 */
public final class LlvmTools {
    private LlvmTools() {}

    /** The oldest llvm-objdump whose output the disassembler matches. */
    public static final int MIN_OBJDUMP = 19;
    private static final Pattern VERSION = Pattern.compile("(?:LLVM|clang) version (\\d+)\\.");

    /**
     * A tool found on PATH.
     *
     * @param path its executable
     * @param major its major version
     */
    public record Tool(Path path, int major) {}

    /** The newest llvm-objdump of at least {@link #MIN_OBJDUMP}, or the test is skipped (failed under CI). */
    public static Tool objdump() {
        return require(find("llvm-objdump").filter(t -> t.major() >= MIN_OBJDUMP),
                "llvm-objdump " + MIN_OBJDUMP + "+ (apt-get install llvm-19)");
    }

    /** The newest clang, or the test is skipped (failed under CI). */
    public static Tool newestClang() {
        return require(find("clang"), "clang (apt-get install clang-19)");
    }

    /** The unversioned {@code clang} on PATH, if any (Debian's default, clang 14 on bookworm). */
    public static Optional<Tool> defaultClang() {
        return onPath("clang").flatMap(p -> version(p).map(v -> new Tool(p, v)));
    }

    /** Compiles {@code source} for BPF with {@code -O2 -g} and the given extra flags; returns the object. */
    public static Path compile(Tool clang, String source, Path dir, String name, String... flags) throws IOException {
        Path c = dir.resolve(name + ".c");
        Path o = dir.resolve(name + ".o");
        Files.writeString(c, source);
        List<String> cmd = new ArrayList<>(List.of(clang.path().toString(), "-target", "bpf", "-O2", "-g", "-c",
                c.toString(), "-o", o.toString()));
        cmd.addAll(List.of(flags));
        String out = run(cmd);
        if (!Files.exists(o)) {
            throw new AssertionError("clang failed: " + String.join(" ", cmd) + "\n" + out);
        }
        return o;
    }

    /** Runs a command and returns its standard output; fails the test on a non-zero exit. */
    public static String run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + "\n"
                    + new String(err, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    private static Tool require(Optional<Tool> tool, String what) {
        if (tool.isEmpty()) {
            String message = "this test needs " + what;
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(message + ", and CI must have it");
            }
            Assumptions.abort(message);
        }
        return tool.get();
    }

    private static final java.util.Map<String, Optional<Tool>> FOUND = new java.util.concurrent.ConcurrentHashMap<>();

    /** The newest of {@code name-NN} and {@code name} on PATH (looked up once per run). */
    private static Optional<Tool> find(String name) {
        return FOUND.computeIfAbsent(name, LlvmTools::search);
    }

    private static Optional<Tool> search(String name) {
        List<Tool> tools = new ArrayList<>();
        Pattern versioned = Pattern.compile(Pattern.quote(name) + "-(\\d+)");
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            try (Stream<Path> files = Files.list(Path.of(dir))) {
                files.filter(f -> versioned.matcher(f.getFileName().toString()).matches() && Files.isExecutable(f))
                        .forEach(f -> version(f).ifPresent(v -> tools.add(new Tool(f, v))));
            } catch (IOException | RuntimeException e) {
                // an unreadable PATH entry holds no tools
            }
        }
        onPath(name).ifPresent(p -> version(p).ifPresent(v -> tools.add(new Tool(p, v))));
        return tools.stream().max(Comparator.comparingInt(Tool::major));
    }

    private static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Integer> version(Path tool) {
        try {
            Matcher m = VERSION.matcher(run(List.of(tool.toString(), "--version")));
            return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
        } catch (IOException | AssertionError e) {
            return Optional.empty();
        }
    }
}

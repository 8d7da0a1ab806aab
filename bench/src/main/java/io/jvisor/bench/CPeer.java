package io.jvisor.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A C benchmark peer shipped as a resource of this jar ({@code src/main/c/NAME.c}): written out,
 * compiled with gcc against libbpf, run, and its {@code result op=... batch=... ns_per_op=...}
 * lines parsed.
 */
final class CPeer {
    private static final Pattern RESULT =
            Pattern.compile("^result op=(\\S+) batch=(\\d+) ns_per_op=([0-9.eE+-]+) ops=(\\d+)"
                    + " user_ns_per_op=([0-9.eE+-]+) sys_ns_per_op=([0-9.eE+-]+)$");

    private final Path binary;
    private final List<String> comments = new ArrayList<>();

    private CPeer(Path binary) {
        this.binary = binary;
    }

    /** Writes {@code c/<name>.c} into {@code workDir} and compiles it to {@code workDir/<name>}. */
    static CPeer build(String name, Path workDir) {
        try {
            Files.createDirectories(workDir);
            Path source = workDir.resolve(name + ".c");
            try (InputStream in = CPeer.class.getResourceAsStream("/c/" + name + ".c")) {
                if (in == null) {
                    throw new IllegalStateException("resource c/" + name + ".c is missing from the class path");
                }
                Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
            }
            Path binary = workDir.resolve(name);
            List<String> cmd = List.of("gcc", "-O2", "-Wall", "-Wextra", "-o", binary.toString(), source.toString(),
                    "-lbpf");
            Proc p = Proc.run(cmd, 120);
            if (p.exit != 0) {
                throw new IllegalStateException("gcc failed (exit " + p.exit + "): " + String.join(" ", cmd) + "\n"
                        + p.output + "\nThe C peer needs gcc and libbpf-dev (scripts/setup-host.sh installs them).");
            }
            return new CPeer(binary);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the C peer " + name
                    + " (needs gcc and libbpf-dev; scripts/setup-host.sh installs them)", e);
        }
    }

    /** The command line that compiles it, for reports. */
    static String compileCommand(String name) {
        return "gcc -O2 -Wall -Wextra -o " + name + " " + name + ".c -lbpf";
    }

    Path binary() {
        return binary;
    }

    /** The {@code #} lines of the last run. */
    List<String> comments() {
        return comments;
    }

    /**
     * Runs the binary with {@code args}.
     *
     * @return the figures by {@code op/batch} (batch 1 is left out: {@code lookup})
     */
    Map<String, Sample> run(List<String> args, long timeoutSeconds) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(args);
        Proc p;
        try {
            p = Proc.run(cmd, timeoutSeconds);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + binary, e);
        }
        if (p.exit != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + p.exit + "):\n" + p.output);
        }
        Map<String, Sample> out = new LinkedHashMap<>();
        comments.clear();
        for (String line : p.output.split("\n")) {
            Matcher m = RESULT.matcher(line.strip());
            if (m.matches()) {
                int batch = Integer.parseInt(m.group(2));
                out.put(batch == 1 ? m.group(1) : m.group(1) + "/" + batch, new Sample(Double.parseDouble(m.group(3)),
                        Double.parseDouble(m.group(5)), Double.parseDouble(m.group(6))));
            } else if (line.startsWith("#")) {
                comments.add(line.substring(1).strip());
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException(String.join(" ", cmd) + " printed no results:\n" + p.output);
        }
        return out;
    }

    /** A finished child process: exit status and its stdout and stderr, merged. */
    record Proc(int exit, String output) {
        static Proc run(List<String> cmd, long timeoutSeconds) throws IOException {
            // Output goes to a file, so that a child that hangs cannot also block us on a pipe.
            Path log = Files.createTempFile("jvisor-bench-", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                try {
                    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                        throw new IllegalStateException(
                                String.join(" ", cmd) + " timed out after " + timeoutSeconds + " s");
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while running " + cmd.getFirst(), e);
                }
                return new Proc(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(log);
            }
        }
    }
}

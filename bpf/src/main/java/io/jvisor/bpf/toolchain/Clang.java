package io.jvisor.bpf.toolchain;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The C-to-BPF compiler driver: runs {@code clang -target bpf -O2 -g} with libbpf's helper
 * headers and the jvisor SDK on the include path, caches objects by content hash, and turns
 * clang's diagnostics into {@link Diagnostic}s.
 *
 * <p>{@link #find()} prefers {@code $JVISOR_CLANG}, then the newest {@code clang-NN} on PATH, then
 * {@code clang}. Objects are cached under {@code ${XDG_CACHE_HOME:-~/.cache}/jvisor/clang/<sha256>.o},
 * keyed by the source, the headers beside it, the flags, the clang version and the SDK headers.
 */
public final class Clang {
    private static final Pattern VERSIONED = Pattern.compile("clang-(\\d+)");
    private static final Pattern DIAGNOSTIC =
            Pattern.compile("^(.*?):(\\d+):(\\d+): (fatal error|error|warning|note): (.*)$");
    private static final Pattern LOCATIONLESS = Pattern.compile("^(?:(.*?): )?(fatal error|error|warning): (.*)$");
    private static final String SDK_RESOURCES = "/io/jvisor/sdk/include/";
    private static final long TIMEOUT_SECONDS = 300;

    private final Path executable;
    private final String version;
    private final Path cacheDir;

    private Clang(Path executable, String version, Path cacheDir) {
        this.executable = executable;
        this.version = version;
        this.cacheDir = cacheDir;
    }

    /**
     * Finds clang: {@code $JVISOR_CLANG}, else the newest {@code clang-NN} on PATH, else {@code clang}.
     *
     * @throws ClangNotFoundException when there is none, saying how to install it
     */
    public static Clang find() throws ClangNotFoundException {
        return find(System.getenv("JVISOR_CLANG"), System.getenv("PATH"));
    }

    /** {@link #find()} with the environment given explicitly. */
    static Clang find(String override, String path) throws ClangNotFoundException {
        if (override != null && !override.isBlank()) {
            Path p = Path.of(override);
            if (!Files.isExecutable(p)) {
                throw new ClangNotFoundException("JVISOR_CLANG=" + override + " is not an executable file");
            }
            return at(p);
        }
        Path best = null;
        int bestVersion = -1;
        Path plain = null;
        for (String dir : (path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path d = Path.of(dir);
            if (plain == null && Files.isExecutable(d.resolve("clang"))) {
                plain = d.resolve("clang");
            }
            try (Stream<Path> files = Files.list(d)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Matcher m = VERSIONED.matcher(f.getFileName().toString());
                    if (m.matches() && Files.isExecutable(f)) {
                        int v = Integer.parseInt(m.group(1));
                        if (v > bestVersion) {
                            bestVersion = v;
                            best = f;
                        }
                    }
                }
            } catch (IOException | UncheckedIOException | NumberFormatException e) {
                // an unreadable PATH entry is skipped, as a shell would
            }
        }
        Path chosen = best != null ? best : plain;
        if (chosen == null) {
            throw new ClangNotFoundException("clang is not on PATH (" + path + ")");
        }
        return at(chosen);
    }

    /**
     * Uses the clang at {@code executable}.
     *
     * @throws ClangNotFoundException when it does not run
     */
    public static Clang at(Path executable) throws ClangNotFoundException {
        Run r;
        try {
            r = run(List.of(executable.toString(), "--version"), null);
        } catch (IOException e) {
            throw new ClangNotFoundException("cannot run " + executable + ": " + e.getMessage());
        }
        if (r.exit() != 0 || r.stdout().isBlank()) {
            throw new ClangNotFoundException(executable + " --version failed: " + r.stderr().strip());
        }
        return new Clang(executable, r.stdout().lines().findFirst().orElse("").strip(), defaultCacheDir());
    }

    /** {@code ${XDG_CACHE_HOME:-~/.cache}/jvisor}. */
    public static Path defaultCacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jvisor");
    }

    /** This driver with another cache directory (objects go to {@code dir/clang}). */
    public Clang withCacheDir(Path dir) {
        return new Clang(executable, version, Objects.requireNonNull(dir));
    }

    /** The clang binary. */
    public Path executable() {
        return executable;
    }

    /** The first line of {@code clang --version}. */
    public String version() {
        return version;
    }

    /** The cache directory. */
    public Path cacheDir() {
        return cacheDir;
    }

    /**
     * An object compiled from C.
     *
     * @param object the object file (in the cache; copy it before modifying)
     * @param diagnostics clang's warnings (compilation succeeded, so there are no errors)
     * @param cached true when the object came from the cache without running clang
     */
    public record Result(Path object, List<Diagnostic> diagnostics, boolean cached) {
        public Result {
            diagnostics = List.copyOf(diagnostics);
        }
    }

    /**
     * Compiles a C file.
     *
     * @throws CompileException with clang's diagnostics when it fails
     */
    public Result compile(Path source) throws CompileException {
        return compile(source, List.of());
    }

    /**
     * Compiles a C file with extra clang flags (such as {@code -DNAME=value} or {@code -I dir}).
     *
     * @throws CompileException with clang's diagnostics when it fails
     */
    public Result compile(Path source, List<String> extraFlags) throws CompileException {
        byte[] code;
        try {
            code = Files.readAllBytes(source);
        } catch (IOException e) {
            throw new CompileException(source.toString(), List.of(), "cannot read " + source + ": " + e.getMessage());
        }
        Path dir = source.toAbsolutePath().getParent();
        return compile(source.toAbsolutePath(), code, dir, extraFlags);
    }

    /**
     * Compiles C source text; diagnostics name {@code fileName}.
     *
     * @throws CompileException with clang's diagnostics when it fails
     */
    public Result compileString(String code, String fileName, List<String> extraFlags) throws CompileException {
        byte[] bytes = code.getBytes(StandardCharsets.UTF_8);
        Path dir = cacheDir.resolve("src").resolve(sha256(bytes, fileName.getBytes(StandardCharsets.UTF_8)));
        Path file = dir.resolve(fileName);
        try {
            Files.createDirectories(dir);
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new CompileException(fileName, List.of(), "cannot write " + file + ": " + e.getMessage());
        }
        return compile(file, bytes, null, extraFlags);
    }

    /** Compiles a C file and copies the object to {@code output}. */
    public Result compile(Path source, Path output, List<String> extraFlags) throws CompileException {
        Result r = compile(source, extraFlags);
        try {
            Path parent = output.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.copy(r.object(), output, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CompileException(source.toString(), r.diagnostics(), "cannot write " + output + ": " + e.getMessage());
        }
        return new Result(output, r.diagnostics(), r.cached());
    }

    /** The flags every compilation gets, before the include paths. */
    public List<String> baseFlags() {
        List<String> flags = new ArrayList<>(List.of("-target", "bpf", "-O2", "-g", "-Wall", "-fno-color-diagnostics",
                "-D__TARGET_ARCH_" + targetArch()));
        Path multiarch = Path.of("/usr/include", multiarchTriple());
        if (Files.isDirectory(multiarch.resolve("asm"))) {
            // linux/types.h includes asm/types.h, which Debian keeps in the multiarch directory.
            flags.add("-idirafter");
            flags.add(multiarch.toString());
        }
        return flags;
    }

    private Result compile(Path file, byte[] code, Path headerDir, List<String> extraFlags) throws CompileException {
        Path sdk = sdkIncludeDir();
        List<String> flags = new ArrayList<>(baseFlags());
        flags.add("-I");
        flags.add(sdk.toString());
        flags.addAll(extraFlags);
        String key = sha256(code, String.join("\0", flags).getBytes(StandardCharsets.UTF_8),
                version.getBytes(StandardCharsets.UTF_8), file.getFileName().toString().getBytes(StandardCharsets.UTF_8),
                headersDigest(headerDir));
        Path objDir = cacheDir.resolve("clang");
        Path object = objDir.resolve(key + ".o");
        Path warnings = objDir.resolve(key + ".diag");
        if (Files.isRegularFile(object)) {
            String diag = "";
            try {
                diag = Files.isRegularFile(warnings) ? Files.readString(warnings) : "";
            } catch (IOException ignored) {
                // the warnings are informational
            }
            return new Result(object, parseDiagnostics(diag), true);
        }
        Path tmp;
        try {
            Files.createDirectories(objDir);
            tmp = Files.createTempFile(objDir, key, ".tmp");
        } catch (IOException e) {
            throw new CompileException(file.toString(), List.of(), "cannot write to the cache " + objDir + ": " + e.getMessage());
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(executable.toString());
        cmd.addAll(flags);
        cmd.addAll(List.of("-c", file.getFileName().toString(), "-o", tmp.toString()));
        Run r;
        try {
            r = run(cmd, file.getParent());
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new ClangNotFoundException("cannot run " + executable + ": " + e.getMessage());
        }
        List<Diagnostic> diagnostics = parseDiagnostics(r.stderr());
        if (r.exit() != 0) {
            deleteQuietly(tmp);
            throw new CompileException(file.getFileName().toString(), diagnostics, r.stderr());
        }
        try {
            Files.writeString(warnings, r.stderr());
            try {
                Files.move(tmp, object, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, object, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CompileException(file.toString(), diagnostics, "cannot store the object in " + objDir + ": "
                    + e.getMessage());
        }
        return new Result(object, diagnostics, false);
    }

    /**
     * Parses clang's diagnostic output: {@code file:line:col: severity: message} lines, each
     * followed by the quoted source line (and a caret line, when carets are on).
     */
    public static List<Diagnostic> parseDiagnostics(String output) {
        List<Diagnostic> out = new ArrayList<>();
        List<String> lines = output.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            Matcher m = DIAGNOSTIC.matcher(l);
            if (m.matches()) {
                String source = "";
                if (i + 1 < lines.size() && !isDiagnosticLine(lines.get(i + 1))
                        && !lines.get(i + 1).matches("\\d+ (error|warning)s? generated\\.")
                        && !lines.get(i + 1).startsWith("In file included from")) {
                    // clang 17+ quotes as "  12 |   code"; older clang quotes the bare line.
                    source = lines.get(++i).replaceFirst("^\\s*\\d+ \\| ", "");
                    if (i + 1 < lines.size() && lines.get(i + 1).matches("^\\s*(\\|\\s*)?[\\^~ ]*\\^[\\^~ ]*$")) {
                        i++;
                    }
                }
                out.add(new Diagnostic(m.group(1), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                        Diagnostic.Severity.parse(m.group(4)), m.group(5), source));
                continue;
            }
            Matcher g = LOCATIONLESS.matcher(l);
            if (g.matches() && !l.startsWith("In file included from")) {
                out.add(new Diagnostic(g.group(1) == null ? "" : g.group(1), 0, 0, Diagnostic.Severity.parse(g.group(2)),
                        g.group(3), ""));
            }
        }
        return out;
    }

    private static boolean isDiagnosticLine(String l) {
        return DIAGNOSTIC.matcher(l).matches() || LOCATIONLESS.matcher(l).matches();
    }

    // ---- the SDK include directory --------------------------------------------------------

    /**
     * The jvisor SDK's include directory, extracted from the jar into the cache (once per content).
     * Contains {@code jvisor/jvisor.h}.
     */
    public Path sdkIncludeDir() throws CompileException {
        try {
            List<String> names = sdkHeaderNames();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<byte[]> contents = new ArrayList<>();
            for (String n : names) {
                byte[] b = resource(n);
                md.update(n.getBytes(StandardCharsets.UTF_8));
                md.update(b);
                contents.add(b);
            }
            Path dir = cacheDir.resolve("sdk").resolve(HexFormat.of().formatHex(md.digest()).substring(0, 16))
                    .resolve("include");
            for (int i = 0; i < names.size(); i++) {
                Path f = dir.resolve(names.get(i));
                if (!Files.isRegularFile(f) || Files.size(f) != contents.get(i).length) {
                    Files.createDirectories(f.getParent());
                    Path tmp = Files.createTempFile(f.getParent(), "h", ".tmp");
                    Files.write(tmp, contents.get(i));
                    Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return dir;
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new CompileException("the jvisor SDK headers", List.of(), "cannot extract them to " + cacheDir + ": "
                    + e.getMessage());
        }
    }

    private static List<String> sdkHeaderNames() throws IOException {
        return new String(resource("INDEX"), StandardCharsets.UTF_8).lines().map(String::strip)
                .filter(s -> !s.isEmpty() && !s.startsWith("#")).toList();
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Clang.class.getResourceAsStream(SDK_RESOURCES + name)) {
            if (in == null) {
                throw new IOException("resource " + SDK_RESOURCES + name + " is missing from the jar");
            }
            return in.readAllBytes();
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    private static byte[] headersDigest(Path dir) {
        if (dir == null) {
            return new byte[0];
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> headers = files.filter(f -> f.getFileName().toString().endsWith(".h") && Files.isRegularFile(f))
                    .sorted(Comparator.comparing(Path::toString)).toList();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path h : headers) {
                md.update(h.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                md.update(Files.readAllBytes(h));
            }
            return md.digest();
        } catch (IOException | NoSuchAlgorithmException e) {
            return new byte[0];
        }
    }

    private static String sha256(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                md.update(Integer.toString(p.length).getBytes(StandardCharsets.US_ASCII));
                md.update((byte) 0);
                md.update(p);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static String targetArch() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64", "arm64" -> "arm64";
            default -> "x86";
        };
    }

    private static String multiarchTriple() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64", "arm64" -> "aarch64-linux-gnu";
            default -> "x86_64-linux-gnu";
        };
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a stale temporary file in the cache is harmless
        }
    }

    private record Run(int exit, String stdout, String stderr) {}

    private static Run run(List<String> cmd, Path dir) throws IOException {
        Path out = Files.createTempFile("jvisor-clang", ".out");
        Path err = Files.createTempFile("jvisor-clang", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            Process p = pb.start();
            try {
                if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException(cmd.get(0) + " did not finish within " + TIMEOUT_SECONDS + " s");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + cmd.get(0));
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}

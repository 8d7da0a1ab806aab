package io.jvisor.server;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.testing.Names;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.net.Link;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;
import io.jvisor.net.lab.Lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * An engine name and state directory of a test's own, and the clean-up that removes everything made
 * under them (lab hosts, pins, state) even after a failure. Shared with the cli tests (test-jar).
 */
public final class ServerTestBed implements AutoCloseable {
    /** The engine options: a unique name, a temporary state directory. */
    public final EngineOptions options;
    private final List<String> labPrefixes = new ArrayList<>();
    private Daemon daemon;

    public ServerTestBed(String prefix) {
        try {
            Path state = Files.createTempDirectory("jvisor-server-test");
            // the engine removes its state directory when it holds nothing else; a subdirectory is ours
            this.options = EngineOptions.named(Names.unique(prefix)).withStateDir(state.resolve("state"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The examples directory of the repository. */
    public static Path examples() {
        Path p = Path.of("..", "examples").toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("no examples directory at " + p);
        }
        return p;
    }

    /**
     * A PKCS12 key store with a self-signed EC certificate for 127.0.0.1, made by the JDK's keytool in this
     * bed's directory, and the file that holds its password.
     */
    public DaemonOptions.Tls selfSignedTls(String password) throws IOException, InterruptedException {
        Path dir = options.stateDir().getParent();
        Path ks = dir.resolve("jvisord.p12");
        Path pw = dir.resolve("tls-password");
        Files.writeString(pw, password + "\n");
        keytool("-genkeypair", "-alias", "jvisord", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", ks.toString(), "-storepass", password, "-keypass", password);
        return new DaemonOptions.Tls(ks, pw);
    }

    /**
     * A client certificate authority and one client it signed, made by keytool in this bed's directory.
     *
     * @param caPem the authority's certificate (PEM), for the daemon's {@code --tls-client-ca}
     * @param clientKeyStore the client's key and certificate chain (PKCS12, password {@code password})
     */
    public record ClientCert(Path caPem, Path clientKeyStore, String password) {}

    /** See {@link ClientCert}. */
    public ClientCert clientCert(String password) throws IOException, InterruptedException {
        Path dir = options.stateDir().getParent();
        Path ca = dir.resolve("client-ca.p12");
        Path caPem = dir.resolve("client-ca.pem");
        Path client = dir.resolve("client.p12");
        Path csr = dir.resolve("client.csr");
        Path signed = dir.resolve("client.pem");
        List<String> store = List.of("-storetype", "PKCS12", "-storepass", password, "-keypass", password);
        keytool(cat(List.of("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=jvisor test client CA", "-ext", "bc:c", "-validity", "2", "-keystore", ca.toString()), store));
        keytool(cat(List.of("-exportcert", "-rfc", "-alias", "ca", "-file", caPem.toString(), "-keystore", ca.toString()),
                store));
        keytool(cat(List.of("-genkeypair", "-alias", "client", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=jvisor test client", "-validity", "2", "-keystore", client.toString()), store));
        keytool(cat(List.of("-certreq", "-alias", "client", "-file", csr.toString(), "-keystore", client.toString()), store));
        keytool(cat(List.of("-gencert", "-rfc", "-alias", "ca", "-infile", csr.toString(), "-outfile", signed.toString(),
                "-validity", "2", "-keystore", ca.toString()), store));
        keytool(cat(List.of("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore",
                client.toString()), store));
        keytool(cat(List.of("-importcert", "-noprompt", "-alias", "client", "-file", signed.toString(), "-keystore",
                client.toString()), store));
        return new ClientCert(caPem, client, password);
    }

    private static String[] cat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all.toArray(String[]::new);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process keytool = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes());
        if (!keytool.waitFor(60, TimeUnit.SECONDS)) {
            keytool.destroyForcibly();
            throw new IllegalStateException("keytool did not finish within 60 s: " + out);
        }
        if (keytool.exitValue() != 0) {
            throw new IllegalStateException("keytool " + args[0] + " failed (exit " + keytool.exitValue() + "): " + out);
        }
    }

    /** Remembers a lab prefix to sweep at the end. */
    public void lab(String prefix) {
        if (prefix != null) {
            labPrefixes.add(prefix);
        }
    }

    /** What the engine has in the kernel and on disk: pin paths (with map ids) and saved files. */
    public Map<String, String> snapshot() {
        Map<String, String> out = new TreeMap<>();
        Path root = options.pinRoot();
        if (Files.exists(root)) {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.sorted().toList()) {
                    String rel = root.relativize(p).toString();
                    String v = "";
                    if (Files.isRegularFile(p) && p.getFileName().toString().startsWith("map_")) {
                        try (BpfMap m = BpfMap.openPinned(p)) {
                            v = "map id " + m.id();
                        }
                    }
                    out.put("pin:" + rel, v);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (String f : List.of("state.json", Controller.RECORD)) {
            Path p = options.stateDir().resolve(f);
            try {
                out.put("file:" + f, Files.exists(p) ? Files.readString(p) : "(none)");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** Namespaces and root devices that carry {@code prefix}. */
    public static List<String> labLeftovers(String prefix) {
        List<String> out = new ArrayList<>();
        for (String ns : Netns.list()) {
            if (ns.startsWith(prefix + "-")) {
                out.add("netns " + ns);
            }
        }
        try (Rtnl rtnl = Rtnl.open()) {
            for (Link l : rtnl.links()) {
                if (l.name().startsWith(prefix)) {
                    out.add("device " + l.name());
                }
            }
        }
        return out;
    }

    /** Removes everything: lab hosts, pins, state. */
    @Override
    public void close() {
        try {
            if (daemon != null) {
                try {
                    daemon.controller().destroy();
                } finally {
                    daemon.close();
                }
            }
        } finally {
            cleanUp();
        }
    }

    /** A control socket path of this bed's own, in its directory (so tests can run in parallel). */
    public Path socketPath() {
        return options.stateDir().getParent().resolve("jvisord.sock");
    }

    /** The daemon options of this bed: its engine, its own control socket, no TCP. */
    public DaemonOptions daemonOptions() {
        return DaemonOptions.of(options).withSocket(socketPath());
    }

    /**
     * Starts a daemon on this bed's control socket over this bed's engine, applies {@code topology}
     * (YAML) through its REST API, and registers the topology's lab hosts for clean-up. {@link #close()}
     * destroys the daemon's topology and stops it first.
     */
    public Daemon daemon(String topology) {
        return daemon(topology, java.util.function.UnaryOperator.identity());
    }

    /** The same, with the options {@code tweak} makes of {@link #daemonOptions()} (e.g. a TCP listener as well). */
    public Daemon daemon(String topology, java.util.function.UnaryOperator<DaemonOptions> tweak) {
        DaemonOptions o = tweak.apply(daemonOptions());
        daemon = Daemon.start(o);
        Http.Response r = Http.of(daemon, o).yaml("PUT", "/v1/topology", topology);
        if (r.status() != 200) {
            throw new AssertionError("PUT /v1/topology: " + r.status() + " " + r.body());
        }
        lab(daemon.controller().labPrefix());
        return daemon;
    }

    private void cleanUp() {
        for (String p : labPrefixes) {
            try {
                Lab.down(p);
            } catch (RuntimeException ignored) {
                // gone already
            }
        }
        try {
            Engine.purge(options);
        } catch (RuntimeException ignored) {
            // nothing there
        }
        Path dir = options.stateDir().getParent();
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}

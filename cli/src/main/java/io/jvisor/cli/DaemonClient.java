package io.jvisor.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.server.ApplyResult;
import io.jvisor.server.Counters;
import io.jvisor.server.Daemon;
import io.jvisor.server.DaemonOptions;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestProblem;
import io.jvisor.server.manifest.ManifestReader;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Talks to jvisord over its REST API, with Jetty's HTTP client (the JDK's speaks TCP only): over the
 * daemon's control socket (a unix-domain socket) by default, or over TCP with the bearer token and
 * TLS when the daemon listens there only. The daemon is the one recorded in the engine's state
 * directory ({@code daemon.json}), else the one answering on the control socket
 * ({@code --socket}, default {@value DaemonOptions#DEFAULT_SOCKET}), or one this process starts on a
 * private socket when none runs (the offline mode), so every command takes the same path.
 */
final class DaemonClient implements Backend {
    static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The control socket, or null for TCP. */
    private final Path socket;
    /** The base URL: {@code http://localhost} on the socket, the daemon's URL on TCP. */
    private final String url;
    private final String token;
    private final Daemon owned;
    private final Path ownedDir;
    private final EngineOptions engine;
    private final HttpClient http;

    private DaemonClient(Path socket, String url, String token, Daemon owned, Path ownedDir, EngineOptions engine,
                         javax.net.ssl.SSLContext tls) {
        this.socket = socket;
        this.url = socket != null ? "http://localhost" : url;
        this.token = token;
        this.owned = owned;
        this.ownedDir = ownedDir;
        this.engine = engine;
        this.http = client(tls);
    }

    private static HttpClient client(javax.net.ssl.SSLContext tls) {
        QueuedThreadPool threads = new QueuedThreadPool(16, 1);
        threads.setName("jvisor-http");
        threads.setDaemon(true); // a client left open never holds the JVM
        HttpClient c = new HttpClient();
        c.setExecutor(threads);
        c.setConnectTimeout(3_000);
        c.setIdleTimeout(0); // a capture or event stream may be quiet for long
        c.setFollowRedirects(false);
        if (tls != null) {
            org.eclipse.jetty.util.ssl.SslContextFactory.Client ssl = new org.eclipse.jetty.util.ssl.SslContextFactory.Client();
            ssl.setSslContext(tls);
            c.setSslContextFactory(ssl);
        }
        try {
            c.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the HTTP client: " + e.getMessage(), e);
        }
        return c;
    }

    /** Trusts the daemon's own certificate: root reads the key store the daemon was started with. */
    private static javax.net.ssl.SSLContext trusting(Path keyStore, Path passwordFile) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        char[] pw = new io.jvisor.server.DaemonOptions.Tls(keyStore, passwordFile).password().toCharArray();
        try (var in = Files.newInputStream(keyStore)) {
            ks.load(in, pw);
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /** A daemon runs for the engine (its process is alive) but does not answer. */
    static final class Unreachable extends RuntimeException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The control socket exists but this user may not connect to it (its mode and group say who may). */
    static final class NoPermission extends RuntimeException {
        NoPermission(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The running daemon of this engine, or empty when none runs: the one {@code daemon.json} names
     * (when this user can read it), else the one answering on the default control socket for this
     * engine. {@code socket} (the {@code --socket} option), when given, is the only place looked at.
     *
     * @throws Unreachable when its process is alive but it does not answer: starting an engine here
     *     as well would have two processes drive one engine
     * @throws NoPermission when the control socket refuses this user
     */
    static Optional<DaemonClient> find(EngineOptions options, Path socket) {
        if (socket != null) {
            return atSocket(socket, options, null);
        }
        Optional<DaemonClient> recorded = recorded(options);
        if (recorded.isPresent()) {
            return recorded;
        }
        return atSocket(Path.of(DaemonOptions.DEFAULT_SOCKET), options, options.name());
    }

    /** The daemon {@code daemon.json} names, when the file is readable and its process alive. */
    private static Optional<DaemonClient> recorded(EngineOptions options) {
        Path f = options.stateDir().resolve(Daemon.ENDPOINT_FILE);
        JsonNode n;
        try {
            if (!Files.isReadable(f)) {
                return Optional.empty();
            }
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            return Optional.empty(); // a torn or foreign file: no daemon wrote it
        }
        long pid = n.path("pid").asLong(-1);
        if (pid <= 0 || ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
            return Optional.empty(); // left by a daemon that died
        }
        Path sock = n.hasNonNull("socket") ? Path.of(n.path("socket").asText()) : null;
        String url = n.path("url").asText();
        DaemonClient c = null;
        try {
            if (sock != null) {
                c = new DaemonClient(sock, null, null, null, null, options, null);
            } else {
                String token = null;
                if (n.path("token").asBoolean(false)) {
                    token = Files.readString(options.stateDir().resolve(Daemon.TOKEN_FILE)).trim();
                }
                javax.net.ssl.SSLContext tls = n.hasNonNull("tlsKeyStore") ? trusting(Path.of(n.path("tlsKeyStore")
                        .asText()), Path.of(n.path("tlsPasswordFile").asText())) : null;
                c = new DaemonClient(null, url, token, null, null, options, tls);
            }
            c.get("/v1/health");
            return Optional.of(c);
        } catch (Exception e) {
            if (c != null) {
                c.close();
            }
            throw new Unreachable("the daemon of engine '" + options.name() + "' (pid " + pid + ") does not answer at "
                    + (sock != null ? "unix:" + sock : url) + ": " + e.getMessage(), e);
        }
    }

    /**
     * The daemon answering on {@code socket}; empty when nothing listens there, or when
     * {@code engineName} is given and the daemon there runs another engine.
     */
    private static Optional<DaemonClient> atSocket(Path socket, EngineOptions options, String engineName) {
        if (!Files.exists(socket)) {
            Path dir = socket.toAbsolutePath().getParent();
            if (dir != null && Files.isDirectory(dir) && !Files.isExecutable(dir)) {
                throw noPermission(socket, "its directory " + dir + " is closed to this user");
            }
            return Optional.empty();
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (java.net.SocketException e) {
            if (String.valueOf(e.getMessage()).contains("Permission denied")) {
                throw noPermission(socket, "permission denied");
            }
            return Optional.empty(); // ECONNREFUSED: a socket left by a daemon that died
        } catch (IOException e) {
            return Optional.empty();
        }
        DaemonClient c = new DaemonClient(socket, null, null, null, null, options, null);
        try {
            JsonNode health = c.get("/v1/health");
            if (engineName != null && !engineName.equals(health.path("engine").asText())) {
                c.close();
                return Optional.empty(); // the daemon of another engine
            }
            return Optional.of(c);
        } catch (RuntimeException e) {
            c.close();
            throw new Unreachable("the daemon on " + socket + " does not answer: " + e.getMessage(), e);
        }
    }

    private static NoPermission noPermission(Path socket, String why) {
        return new NoPermission("cannot connect to the daemon's control socket " + socket + ": " + why + ". Run jvisor "
                + "with sudo, or ask for membership of the socket's group (by default '" + DaemonOptions.DEFAULT_GROUP
                + "'; see docs/server.md, \"Security\")");
    }

    /**
     * Starts a daemon in this process on a control socket in a private directory (0700, root's), so
     * that no other user reaches the engine while the command runs.
     */
    static DaemonClient embedded(EngineOptions options) {
        Path dir;
        try {
            dir = Files.createTempDirectory("jvisor-cli", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot make a private directory for the engine's socket", e);
        }
        Path sock = dir.resolve("jvisord.sock");
        // a command ended by a signal never reaches close(): the JVM removes both after the shutdown hooks
        // (a capture's hook still talks to this daemon), the socket first
        dir.toFile().deleteOnExit();
        sock.toFile().deleteOnExit();
        Daemon d;
        try {
            // no group: the socket is as private as its directory
            d = Daemon.start(DaemonOptions.of(options).withSocket(sock).withSocketGroup(DaemonOptions.NO_GROUP));
        } catch (RuntimeException e) {
            deleteDir(dir);
            throw e;
        }
        return new DaemonClient(sock, null, null, d, dir, options, null);
    }

    /** A client of the daemon at {@code url} (TCP), sending {@code token}. */
    static DaemonClient at(String url, String token) {
        return new DaemonClient(null, url, token, null, null, null, null);
    }

    boolean isEmbedded() {
        return owned != null;
    }

    // ---- Backend ---------------------------------------------------------------------------------

    @Override
    public ApplyResult apply(Manifest m, boolean dryRun) {
        return convert(send("PUT", "/v1/topology" + (dryRun ? "?dryRun=true" : ""), ManifestReader.toTree(m)),
                ApplyResult.class);
    }

    @Override
    public ApplyResult down(boolean destroy) {
        ApplyResult r = convert(send("DELETE", "/v1/topology", null), ApplyResult.class);
        if (destroy && owned != null) {
            owned.close();
            Engine.purge(engine);
            try {
                Files.deleteIfExists(engine.stateDir());
            } catch (IOException ignored) {
                // other files in it are not ours
            }
        }
        return r;
    }

    @Override
    public Manifest manifest() {
        try {
            return ManifestReader.fromTree(get("/v1/topology"));
        } catch (Refused e) {
            if (e.status == 404) {
                return null;
            }
            throw e;
        }
    }

    @Override
    public String hostNamespace(String host) {
        JsonNode ns = get("/v1/status").path("hostNamespaces").path(host);
        return ns.isTextual() ? ns.asText() : null;
    }

    @Override
    public List<Counters.InstanceRow> counters() {
        return convert(get("/v1/counters"), new TypeReference<List<Counters.InstanceRow>>() {});
    }

    @Override
    public String where() {
        return owned != null ? "engine '" + engine.name() + "' in this process"
                : "daemon at " + (socket != null ? "unix:" + socket : url);
    }

    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception ignored) {
            // its threads are daemons
        }
        if (owned != null) {
            try {
                owned.close();
            } catch (RuntimeException ignored) {
                // closed by down(destroy) already
            } finally {
                deleteDir(ownedDir);
            }
        }
    }

    private static void deleteDir(Path dir) {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a temporary directory: the system cleans it up eventually
        }
    }

    // ---- HTTP ------------------------------------------------------------------------------------

    /** A refusal from the daemon, with its problems. */
    static final class Refused extends RuntimeException {
        final int status;
        final List<ManifestProblem> problems;

        Refused(int status, List<ManifestProblem> problems) {
            super(status + ": " + problems, null, false, false);
            this.status = status;
            this.problems = problems;
        }

        ManifestException asManifestException() {
            return new ManifestException(problems.isEmpty() ? List.of(new ManifestProblem("(request)", null,
                    "refused with status " + status)) : problems);
        }
    }

    JsonNode get(String path) {
        return send("GET", path, null);
    }

    JsonNode send(String method, String path, Object body) {
        Request r = request(method, path).timeout(10, TimeUnit.MINUTES).headers(h -> h.put("Accept", "application/json"));
        try {
            if (body != null) {
                r.body(new BytesRequestContent("application/json", JSON.writeValueAsBytes(body)));
            }
            ContentResponse c = r.send();
            return answer(c.getStatus(), c.getContent());
        } catch (IOException | InterruptedException | ExecutionException | TimeoutException e) {
            throw unanswered(e);
        }
    }

    /**
     * A response whose body is read as it arrives (a capture stream).
     *
     * @param status the status (below 400)
     * @param header a header's value by name, or null
     * @param body the body; closing it ends the request
     */
    record Streamed(int status, java.util.function.Function<String, String> header, InputStream body) {}

    /**
     * A GET whose body is read as it arrives (a capture stream); a refusal is thrown as {@link Refused}.
     * The caller closes the body.
     */
    Streamed stream(String path) {
        InputStreamResponseListener l = new InputStreamResponseListener();
        request("GET", path).send(l);
        try {
            Response r = l.get(10, TimeUnit.MINUTES);
            InputStream in = l.getInputStream();
            if (r.getStatus() >= 400) {
                try (in) {
                    answer(r.getStatus(), in.readAllBytes()); // throws the refusal
                }
            }
            return new Streamed(r.getStatus(), r.getHeaders()::get, in);
        } catch (IOException | InterruptedException | ExecutionException | TimeoutException e) {
            throw unanswered(e);
        }
    }

    /** A request to {@code path}, over the socket or TCP, with the bearer token when the daemon wants one. */
    private Request request(String method, String path) {
        Request r = http.newRequest(url + path).method(method);
        if (socket != null) {
            r.transport(new Transport.TCPUnix(socket));
        }
        if (token != null) {
            r.headers(h -> h.put("Authorization", "Bearer " + token));
        }
        return r;
    }

    /** The JSON body of an answer; a status of 400 or more is thrown as {@link Refused}, with the body's problems. */
    private static JsonNode answer(int status, byte[] body) throws IOException {
        JsonNode n = body.length == 0 ? JSON.nullNode() : JSON.readTree(body);
        if (status >= 400) {
            List<ManifestProblem> problems = new ArrayList<>();
            for (JsonNode p : n.path("problems")) {
                problems.add(new ManifestProblem(p.path("field").asText(), p.path("value").isNull() ? null
                        : p.path("value").asText(), p.path("reason").asText()));
            }
            throw new Refused(status, problems);
        }
        return n;
    }

    private IllegalStateException unanswered(Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new IllegalStateException("interrupted", e);
        }
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return new IllegalStateException("the daemon at " + (socket != null ? "unix:" + socket : url)
                + " did not answer: " + cause.getMessage(), cause);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static <T> T convert(JsonNode n, Class<T> type) {
        return JSON.convertValue(n, type);
    }

    static <T> T convert(JsonNode n, TypeReference<T> type) {
        return JSON.convertValue(n, type);
    }
}

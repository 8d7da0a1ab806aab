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

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Talks to jvisord over its REST API: the daemon recorded in the engine's state directory
 * ({@code daemon.json}), or one this process starts on an ephemeral loopback port when none runs
 * (the offline mode), so every command takes the same path.
 */
final class DaemonClient implements Backend {
    static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final String url;
    private final String token;
    private final Daemon owned;
    private final EngineOptions engine;
    private final HttpClient http;

    private DaemonClient(String url, String token, Daemon owned, EngineOptions engine) {
        this(url, token, owned, engine, null);
    }

    private DaemonClient(String url, String token, Daemon owned, EngineOptions engine, javax.net.ssl.SSLContext tls) {
        this.url = url;
        this.token = token;
        this.owned = owned;
        this.engine = engine;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3));
        this.http = (tls == null ? b : b.sslContext(tls)).build();
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

    /**
     * The running daemon of this engine, or empty when none runs.
     *
     * @throws Unreachable when its process is alive but it does not answer: starting an engine here
     *     as well would have two processes drive one engine
     */
    static Optional<DaemonClient> find(EngineOptions options) {
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
        String url = n.path("url").asText();
        try {
            String token = null;
            if (n.path("token").asBoolean(false)) {
                token = Files.readString(options.stateDir().resolve(Daemon.TOKEN_FILE)).trim();
            }
            javax.net.ssl.SSLContext tls = n.hasNonNull("tlsKeyStore") ? trusting(Path.of(n.path("tlsKeyStore").asText()),
                    Path.of(n.path("tlsPasswordFile").asText())) : null;
            DaemonClient c = new DaemonClient(url, token, null, options, tls);
            c.get("/v1/health");
            return Optional.of(c);
        } catch (Exception e) {
            throw new Unreachable("the daemon of engine '" + options.name() + "' (pid " + pid + ") does not answer at "
                    + url + ": " + e.getMessage(), e);
        }
    }

    /** Starts a daemon in this process on an ephemeral loopback port. */
    static DaemonClient embedded(EngineOptions options) {
        Daemon d = Daemon.start(new DaemonOptions(options, "127.0.0.1", 0, 0));
        return new DaemonClient(d.url(), null, d, options);
    }

    /** A client of the daemon at {@code url}. */
    static DaemonClient at(String url, String token) {
        return new DaemonClient(url, token, null, null);
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
        return owned != null ? "engine '" + engine.name() + "' in this process" : "daemon at " + url;
    }

    @Override
    public void close() {
        if (owned != null) {
            try {
                owned.close();
            } catch (RuntimeException ignored) {
                // closed by down(destroy) already
            }
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
        HttpRequest.Builder b = request(path).timeout(Duration.ofMinutes(10)).header("Accept", "application/json");
        try {
            if (body != null) {
                b.header("Content-Type", "application/json");
                b.method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return answer(r.statusCode(), r.body());
        } catch (IOException | InterruptedException e) {
            throw unanswered(e);
        }
    }

    /**
     * A GET whose body is read as it arrives (a capture stream); a refusal is thrown as {@link Refused}.
     * The caller closes the body.
     */
    HttpResponse<java.io.InputStream> stream(String path) {
        try {
            HttpResponse<java.io.InputStream> r = http.send(request(path).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() >= 400) {
                try (java.io.InputStream in = r.body()) {
                    answer(r.statusCode(), in.readAllBytes()); // throws the refusal
                }
            }
            return r;
        } catch (IOException | InterruptedException e) {
            throw unanswered(e);
        }
    }

    /** A request to {@code path}, with the bearer token when the daemon wants one. */
    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
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
        return new IllegalStateException("the daemon at " + url + " did not answer: " + e.getMessage(), e);
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

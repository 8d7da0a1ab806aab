package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A small HTTP client for the REST tests: over a daemon's control socket (unix domain) or over TCP
 * with a bearer token. One Jetty client, shared by every instance, carries both.
 */
public final class Http {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = start();
    private final String base;
    private final Path socket;
    private final String token;

    private static HttpClient start() {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("test-http");
        threads.setDaemon(true);
        HttpClient c = new HttpClient();
        c.setExecutor(threads);
        c.setConnectTimeout(5_000);
        c.setFollowRedirects(false);
        c.setMaxConnectionsPerDestination(512);
        try {
            c.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test HTTP client", e);
        }
        return c;
    }

    private Http(String base, Path socket, String token) {
        this.base = base;
        this.socket = socket;
        this.token = token;
    }

    /** A client of the TCP listener at {@code base} (e.g. {@code http://127.0.0.1:8472}), without a token. */
    public Http(String base) {
        this(base, null, null);
    }

    /** A client of the TCP listener at {@code base} that sends {@code token}. */
    public Http(String base, String token) {
        this(base, null, token);
    }

    /** A client of the control socket at {@code socket}. */
    public static Http socket(Path socket) {
        return new Http("http://localhost", socket, null);
    }

    /** A client of {@code d}: over its control socket, else over TCP with the token from its state directory. */
    public static Http of(Daemon d, DaemonOptions o) {
        if (d.socket().isPresent()) {
            return socket(d.socket().get());
        }
        return new Http(d.url().orElseThrow(), token(o));
    }

    /** The bearer token in the state directory of {@code o}'s engine. */
    public static String token(DaemonOptions o) {
        try {
            return Files.readString(o.engine().stateDir().resolve(Daemon.TOKEN_FILE)).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A response. */
    public record Response(int status, String body, String contentType) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    /** A response whose body is read as it arrives; close it to end the request. */
    public record Streamed(int status, String contentType, java.util.function.Function<String, String> header,
                           InputStream body) implements AutoCloseable {
        /** The body's lines, as they arrive. */
        public java.util.stream.Stream<String> lines() {
            return new java.io.BufferedReader(new java.io.InputStreamReader(body, StandardCharsets.UTF_8)).lines();
        }

        @Override
        public void close() throws IOException {
            body.close();
        }
    }

    public Response get(String path) {
        return send("GET", path, null, null, null);
    }

    public Response send(String method, String path, String contentType, byte[] body, String accept) {
        return send(method, path, contentType, body, accept, false);
    }

    /** With {@code expectContinue}, the body is sent only once the server asked for it. */
    public Response send(String method, String path, String contentType, byte[] body, String accept,
                         boolean expectContinue) {
        Request r = request(method, path, accept).timeout(5, TimeUnit.MINUTES);
        if (expectContinue) {
            r.headers(h -> h.put("Expect", "100-continue"));
        }
        if (body != null) {
            r.body(new BytesRequestContent(contentType == null ? "application/octet-stream" : contentType, body));
        } else if (contentType != null) {
            r.headers(h -> h.put("Content-Type", contentType));
        }
        // a listener rather than send(): with Expect: 100-continue, a refusal in place of 100 ends the
        // request in a failure, and its response is still what the test wants
        java.util.concurrent.CompletableFuture<Response> done = new java.util.concurrent.CompletableFuture<>();
        r.send(new BufferingResponseListener(64 << 20) {
            @Override
            public void onComplete(Result result) {
                org.eclipse.jetty.client.Response resp = result.getResponse();
                if (resp != null && resp.getStatus() > 0) {
                    String ct = resp.getHeaders().get("Content-Type");
                    done.complete(new Response(resp.getStatus(), getContentAsString(), ct == null ? "" : ct));
                } else {
                    done.completeExceptionally(result.getFailure());
                }
            }
        });
        try {
            return done.get(6, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new UncheckedIOException(method + " " + path + " via " + where(), new IOException(e.getCause() == null
                    ? e : e.getCause()));
        }
    }

    /** A GET whose body is read as it arrives (an event stream, a capture). */
    public Streamed stream(String path, String accept) {
        InputStreamResponseListener l = new InputStreamResponseListener();
        request("GET", path, accept).send(l);
        try {
            org.eclipse.jetty.client.Response r = l.get(30, TimeUnit.SECONDS);
            return new Streamed(r.getStatus(), r.getHeaders().get("Content-Type"), r.getHeaders()::get, l.getInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new UncheckedIOException("GET " + path + " via " + where(), new IOException(e));
        }
    }

    public Response json(String method, String path, String json) {
        return send(method, path, "application/json", json == null ? null : json.getBytes(StandardCharsets.UTF_8), null);
    }

    public Response yaml(String method, String path, String yaml) {
        return send(method, path, "application/yaml", yaml.getBytes(StandardCharsets.UTF_8), null);
    }

    private Request request(String method, String path, String accept) {
        Request r = CLIENT.newRequest(base + path).method(method);
        if (socket != null) {
            r.transport(new Transport.TCPUnix(socket));
        }
        r.headers(h -> {
            h.remove("Accept-Encoding"); // the raw bytes, as the daemon sent them
            if (accept != null) {
                h.put("Accept", accept);
            }
            if (token != null) {
                h.put("Authorization", "Bearer " + token);
            }
        });
        return r;
    }

    private String where() {
        return socket != null ? "unix:" + socket : base;
    }
}

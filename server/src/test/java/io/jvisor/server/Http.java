package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A small HTTP client for the REST tests. */
public final class Http {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String token;

    public Http(String base) {
        this(base, null);
    }

    public Http(String base, String token) {
        this.base = base;
        this.token = token;
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

    public Response get(String path) {
        return send("GET", path, null, null, null);
    }

    public Response send(String method, String path, String contentType, byte[] body, String accept) {
        return send(method, path, contentType, body, accept, false);
    }

    /** With {@code expectContinue}, the body is sent only once the server asked for it. */
    public Response send(String method, String path, String contentType, byte[] body, String accept,
                         boolean expectContinue) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(5))
                    .expectContinue(expectContinue);
            if (contentType != null) {
                b.header("Content-Type", contentType);
            }
            if (accept != null) {
                b.header("Accept", accept);
            }
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Response json(String method, String path, String json) {
        return send(method, path, "application/json", json == null ? null : json.getBytes(StandardCharsets.UTF_8), null);
    }

    public Response yaml(String method, String path, String yaml) {
        return send(method, path, "application/yaml", yaml.getBytes(StandardCharsets.UTF_8), null);
    }

    public HttpClient client() {
        return client;
    }
}

package io.jvisor.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.javalin.http.Context;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestReader;

import java.io.IOException;
import java.util.Locale;
import java.util.Set;

/**
 * One request and its response as every route reads and writes them: a body in JSON or YAML by
 * Content-Type (within the size limit), the query parameters the daemon takes, and a response in JSON,
 * or YAML when Accept asks for it. A bad parameter or body becomes an {@link ApiException}.
 */
final class Exchange {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS).build());

    private static final Set<String> YAML_TYPES = Set.of("application/yaml", "application/x-yaml", "text/yaml",
            "text/x-yaml");
    /** How many table entries a listing returns when the request does not say. */
    static final int DEFAULT_LIMIT = 1000;

    private Exchange() {
    }

    /** The request's body as a tree, JSON or YAML by its Content-Type, at most {@code maxBytes} long. */
    static JsonNode body(Context ctx, long maxBytes) {
        String ct = ctx.contentType() == null ? "application/json"
                : ctx.contentType().split(";")[0].trim().toLowerCase(Locale.ROOT);
        boolean yaml = YAML_TYPES.contains(ct);
        if (!yaml && !ct.equals("application/json")) {
            throw new ApiException(415, "Content-Type", ct, "send application/json or application/yaml");
        }
        // the declared length refuses a large body before it is read (with Expect: 100-continue, before it is sent)
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBytes) {
            throw new ApiException(413, "(body)", declared + " bytes", "larger than the limit of " + maxBytes + " bytes");
        }
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length > maxBytes) {
            throw new ApiException(413, "(body)", bytes.length + " bytes", "larger than the limit of " + maxBytes
                    + " bytes");
        }
        if (bytes.length == 0) {
            throw new ApiException(400, "(body)", null, "empty; this request needs a body");
        }
        if (yaml) {
            JsonNode n = ManifestReader.parseTree(bytes);
            if (n == null || n.isMissingNode() || n.isNull()) {
                throw new ManifestException("(document)", null, "empty; this request needs a body");
            }
            return n;
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || n.isMissingNode()) {
                throw new ApiException(400, "(body)", null, "empty; this request needs a body");
            }
            return n;
        } catch (IOException e) {
            throw new ApiException(400, "(body)", null, "not valid JSON: " + firstLine(e.getMessage()));
        }
    }

    /** Whether the request asks for a dry run ({@code ?dryRun}, {@code ?dryRun=true}). */
    static boolean dryRun(Context ctx) {
        return dryRun(ctx.queryParam("dryRun"));
    }

    /** The {@code dryRun} parameter's value: absent or {@code false}, else empty or {@code true}. */
    static boolean dryRun(String value) {
        if (value == null || value.equals("false")) {
            return false;
        }
        if (value.equals("true") || value.isEmpty()) {
            return true;
        }
        throw new ApiException(400, "dryRun", value, "must be true or false");
    }

    /** The query parameter {@code name}, a whole number in 0..Integer.MAX_VALUE, or {@code dflt} when absent. */
    static long wholeNumber(Context ctx, String name, long dflt) {
        return wholeNumber(name, ctx.queryParam(name), dflt);
    }

    /** {@code value} of the parameter {@code name}: see {@link #wholeNumber(Context, String, long)}. */
    static long wholeNumber(String name, String value, long dflt) {
        if (value == null || value.isEmpty()) {
            return dflt;
        }
        try {
            long n = Long.parseLong(value);
            if (n < 0 || n > Integer.MAX_VALUE) {
                throw new ApiException(400, name, value, "out of range 0.." + Integer.MAX_VALUE);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ApiException(400, name, value, "not a whole number");
        }
    }

    /** The {@code limit} parameter, as given: {@link Tables} decides which limits it takes. */
    static int limit(Context ctx) {
        return limit(ctx.queryParam("limit"));
    }

    /** See {@link #limit(Context)}. */
    static int limit(String value) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new ApiException(400, "limit", value, "not a whole number");
        }
    }

    /** Sends {@code value} with {@code status}, as YAML when the request's Accept asks for YAML, else as JSON. */
    static void send(Context ctx, int status, Object value) throws IOException {
        ctx.status(status);
        if (wantsYaml(ctx.header("Accept"))) {
            ctx.contentType("application/yaml").result(YAML.writeValueAsBytes(value));
        } else {
            ctx.contentType("application/json").result(JSON.writeValueAsBytes(value));
        }
    }

    /** Whether an Accept header names a YAML media type. */
    static boolean wantsYaml(String accept) {
        return accept != null && YAML_TYPES.stream().anyMatch(accept::contains);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}

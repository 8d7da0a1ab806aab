package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.ContentTooLargeResponse;
import io.jvisor.engine.TopologyException;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestProblem;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How every failure of a request becomes the one refusal body, without root and without a server. */
class RefusalTest {
    @Test
    void anApiExceptionKeepsItsStatusAndProblem() {
        Refusal r = Refusal.of(new ApiException(421, "Host", "evil.example", "not a name of this daemon"));
        assertThat(r.status()).isEqualTo(421);
        assertThat(r.error()).isEqualTo("misdirected request");
        assertThat(r.problems()).containsExactly(new ManifestProblem("Host", "evil.example", "not a name of this daemon"));
    }

    @Test
    void manifestProblemsAreAnInvalidRequestWithEveryProblem() {
        List<ManifestProblem> two = List.of(new ManifestProblem("spec.instances[0].type", "warp", "no such type"),
                new ManifestProblem("metadata.name", null, "missing"));
        Refusal r = Refusal.of(new ManifestException(two));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.error()).isEqualTo("invalid request");
        assertThat(r.problems()).isEqualTo(two);
    }

    @Test
    void theEnginesChecksNameTheElementAtFault() {
        Refusal r = Refusal.of(new TopologyException("device 'nosuchdev1'", "no such device"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.problems()).containsExactly(new ManifestProblem("spec", "device 'nosuchdev1'", "no such device"));
    }

    @Test
    void theHttpLayersRefusalsKeepTheirStatus() {
        Refusal r = Refusal.of(new ContentTooLargeResponse("body too large"));
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.error()).isEqualTo("request too large");
        assertThat(r.problems()).extracting(ManifestProblem::field).containsExactly("(request)");
    }

    @Test
    void anUnexpectedFailureTellsTheClientNothingOfItself() throws Exception {
        IllegalStateException fault = new IllegalStateException("secret detail at /var/lib/jvisor/state");
        assertThat(Refusal.expected(fault)).isFalse();
        Refusal r = Refusal.of(fault);
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.error()).isEqualTo("internal error");
        String body = Exchange.JSON.writeValueAsString(r);
        assertThat(body).doesNotContain("secret").doesNotContain("IllegalStateException").contains(Refusal.INTERNAL);
    }

    @Test
    void onlyTheDaemonsOwnRefusalsAreExpected() {
        assertThat(Refusal.expected(new ApiException(404, "x", null, "y"))).isTrue();
        assertThat(Refusal.expected(new ManifestException("f", null, "r"))).isTrue();
        assertThat(Refusal.expected(new TopologyException("e", "r"))).isTrue();
        assertThat(Refusal.expected(new ContentTooLargeResponse("r"))).isTrue();
        assertThat(Refusal.expected(new NullPointerException())).isFalse();
    }

    @Test
    void unknownPathsAndMethodsNameWhatWasAsked() {
        Refusal path = Refusal.noSuchResource("/v1/teapots");
        assertThat(path.status()).isEqualTo(404);
        assertThat(path.problems()).containsExactly(new ManifestProblem("(path)", "/v1/teapots",
                "no such resource; see /openapi.json"));
        Refusal method = Refusal.methodNotAllowed("PATCH", "/v1/topology");
        assertThat(method.status()).isEqualTo(405);
        assertThat(method.error()).isEqualTo("method not allowed");
        assertThat(method.problems()).containsExactly(new ManifestProblem("(method)", "PATCH", "not allowed on /v1/topology"));
    }

    @Test
    void everyStatusHasATitle() {
        assertThat(Refusal.title(401)).isEqualTo("unauthorized");
        assertThat(Refusal.title(403)).isEqualTo("forbidden");
        assertThat(Refusal.title(409)).isEqualTo("conflict");
        assertThat(Refusal.title(415)).isEqualTo("unsupported media type");
        assertThat(Refusal.title(418)).isEqualTo("refused");
    }

    @Test
    void theBodyIsTheErrorSchemaOfTheOpenApiDocument() throws Exception {
        Refusal r = Refusal.of(new ApiException(404, "instance", "ghost", "no such instance"));
        JsonNode body = Exchange.JSON.readTree(Exchange.JSON.writeValueAsBytes(r));
        JsonNode schema;
        try (var in = Daemon.class.getResourceAsStream("openapi.json")) {
            schema = Exchange.JSON.readTree(in).path("components").path("schemas").path("Error");
        }
        assertThat(names(body)).containsExactly("status", "error", "problems");
        assertThat(names(body)).containsExactlyElementsOf(names(schema.path("properties")));
        assertThat(names(body.path("problems").get(0)))
                .containsExactlyElementsOf(names(schema.path("properties").path("problems").path("items").path("properties")));
        assertThat(body.path("problems").get(0).path("value").asText()).isEqualTo("ghost");
    }

    private static List<String> names(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}

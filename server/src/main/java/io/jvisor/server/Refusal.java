package io.jvisor.server;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.javalin.http.HttpResponseException;
import io.jvisor.engine.TopologyException;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestProblem;

import java.util.List;

/**
 * The body of every refused request, whichever route refused it: the HTTP status, a short title for it,
 * and the problems, each naming field, value and reason (the {@code Error} schema of the OpenAPI
 * document). {@link #of(Throwable)} is the one place that decides how a failure becomes a refusal;
 * nothing else writes an error response, and no refusal carries a stack trace.
 *
 * @param status the HTTP status, 4xx or 500
 * @param error what the status means, e.g. {@code invalid request}
 * @param problems what is wrong, at least one
 */
@JsonPropertyOrder({"status", "error", "problems"})
record Refusal(int status, String error, List<ManifestProblem> problems) {
    /** What a 500 says: the details go to the daemon's log, never to the client. */
    static final String INTERNAL = "internal error; the daemon's log has the details";

    Refusal {
        problems = List.copyOf(problems);
    }

    /** A refusal with {@code status}, titled by {@link #title(int)}. */
    static Refusal of(int status, List<ManifestProblem> problems) {
        return new Refusal(status, title(status), problems);
    }

    /**
     * The refusal for a failure in a route: an {@link ApiException} keeps its status; a manifest's or the
     * engine's checks give 400; a refusal of the HTTP layer (Javalin) keeps its status; anything else is
     * an internal error whose text stays out of the response.
     */
    static Refusal of(Throwable failure) {
        return switch (failure) {
            case ApiException e -> of(e.status(), e.problems());
            case ManifestException e -> of(400, e.problems());
            case TopologyException e -> of(400, Controller.engineProblem(e).problems());
            case HttpResponseException e -> of(e.getStatus(), List.of(new ManifestProblem("(request)", null,
                    e.getMessage())));
            default -> of(500, List.of(new ManifestProblem("(server)", null, INTERNAL)));
        };
    }

    /** Whether {@code failure} is a refusal the daemon meant, rather than a fault to log. */
    static boolean expected(Throwable failure) {
        return failure instanceof ApiException || failure instanceof ManifestException
                || failure instanceof TopologyException || failure instanceof HttpResponseException;
    }

    /** A 404 for a path no route serves. */
    static Refusal noSuchResource(String path) {
        return of(404, List.of(new ManifestProblem("(path)", path, "no such resource; see /openapi.json")));
    }

    /** A 405 for a method the route at {@code path} does not take. */
    static Refusal methodNotAllowed(String method, String path) {
        return of(405, List.of(new ManifestProblem("(method)", method, "not allowed on " + path)));
    }

    /** The title of {@code status}, as the {@code error} member says it. */
    static String title(int status) {
        return switch (status) {
            case 400 -> "invalid request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 409 -> "conflict";
            case 413 -> "request too large";
            case 415 -> "unsupported media type";
            case 421 -> "misdirected request";
            case 500 -> "internal error";
            default -> "refused";
        };
    }
}

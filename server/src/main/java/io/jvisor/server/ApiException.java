package io.jvisor.server;

import io.jvisor.server.manifest.ManifestProblem;

import java.util.List;

/**
 * A request the daemon refuses: an HTTP status and the problems, each naming field, value and reason.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final List<ManifestProblem> problems;

    /** A refusal with one problem. */
    public ApiException(int status, String field, String value, String reason) {
        super(new ManifestProblem(field, value, reason).toString(), null, false, false);
        this.status = status;
        this.problems = List.of(new ManifestProblem(field, value, reason));
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** What is wrong. */
    public List<ManifestProblem> problems() {
        return problems;
    }
}

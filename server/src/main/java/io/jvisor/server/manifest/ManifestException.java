package io.jvisor.server.manifest;

import java.util.List;

/**
 * A manifest or request is invalid: {@link #problems()} names each field, value and reason. Nothing
 * was changed.
 */
public final class ManifestException extends RuntimeException {
    private final List<ManifestProblem> problems;

    /** One or more problems (at least one). */
    public ManifestException(List<ManifestProblem> problems) {
        super(message(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ManifestException needs a problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** One problem. */
    public ManifestException(String field, String value, String reason) {
        this(List.of(new ManifestProblem(field, value, reason)));
    }

    /** The problems, first found first. */
    public List<ManifestProblem> problems() {
        return problems;
    }

    private static String message(List<ManifestProblem> problems) {
        StringBuilder sb = new StringBuilder();
        for (ManifestProblem p : problems) {
            if (!sb.isEmpty()) {
                sb.append('\n');
            }
            sb.append(p);
        }
        return sb.toString();
    }
}

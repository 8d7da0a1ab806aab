package io.jvisor.server.manifest;

/**
 * One thing wrong with a manifest or a request.
 *
 * @param field the path of the field at fault, e.g. {@code spec.instances[2].config.port.0}
 * @param value the offending value as written, or null when the field is missing
 * @param reason what is wrong with it
 */
public record ManifestProblem(String field, String value, String reason) {
    @Override
    public String toString() {
        return field + ": " + (value == null ? "" : quote(value) + ": ") + reason;
    }

    private static String quote(String v) {
        String s = v.length() > 120 ? v.substring(0, 117) + "..." : v;
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}

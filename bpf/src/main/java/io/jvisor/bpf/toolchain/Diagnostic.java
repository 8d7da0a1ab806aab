package io.jvisor.bpf.toolchain;

/**
 * One clang diagnostic.
 *
 * @param file the file as clang names it
 * @param line 1-based line, or 0 when the diagnostic has no location
 * @param column 1-based column, or 0
 * @param severity how bad it is
 * @param message clang's message
 * @param sourceLine the source line clang quoted, or empty
 */
public record Diagnostic(String file, int line, int column, Severity severity, String message, String sourceLine) {
    /** Diagnostic severities, as clang prints them. */
    public enum Severity {
        /** A fatal error: compilation stopped. */
        FATAL,
        /** An error. */
        ERROR,
        /** A warning. */
        WARNING,
        /** A note attached to the diagnostic before it. */
        NOTE;

        static Severity parse(String s) {
            return switch (s) {
                case "fatal error" -> FATAL;
                case "error" -> ERROR;
                case "warning" -> WARNING;
                default -> NOTE;
            };
        }
    }

    /** True for errors and fatal errors. */
    public boolean isError() {
        return severity == Severity.ERROR || severity == Severity.FATAL;
    }

    /** {@code fw.c:12:5: error: use of undeclared identifier 'x'}, then the quoted line. */
    @Override
    public String toString() {
        String head = (line > 0 ? file + ":" + line + ":" + column + ": " : file.isEmpty() ? "" : file + ": ")
                + severity.name().toLowerCase().replace("fatal", "fatal error") + ": " + message;
        return sourceLine.isEmpty() ? head : head + "\n    " + sourceLine.strip();
    }
}

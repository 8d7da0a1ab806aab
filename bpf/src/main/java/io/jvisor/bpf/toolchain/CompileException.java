package io.jvisor.bpf.toolchain;

import java.util.List;
import java.util.stream.Collectors;

/**
 * clang could not compile a C file to a BPF object. {@link #diagnostics()} holds the parsed
 * errors and warnings, each with file, line, column and the quoted source line; the message
 * lists the errors.
 */
public class CompileException extends Exception {
    private final List<Diagnostic> diagnostics;
    private final String output;

    /**
     * @param what what was being compiled
     * @param diagnostics the parsed diagnostics
     * @param output clang's whole diagnostic output
     */
    public CompileException(String what, List<Diagnostic> diagnostics, String output) {
        super(message(what, diagnostics, output));
        this.diagnostics = List.copyOf(diagnostics);
        this.output = output;
    }

    private static String message(String what, List<Diagnostic> diagnostics, String output) {
        List<Diagnostic> errors = diagnostics.stream().filter(Diagnostic::isError).toList();
        if (errors.isEmpty()) {
            return "compile " + what + ": " + (output.isBlank() ? "clang failed" : output.strip());
        }
        return "compile " + what + ": " + errors.size() + " error" + (errors.size() == 1 ? "" : "s") + "\n"
                + errors.stream().map(Diagnostic::toString).collect(Collectors.joining("\n"));
    }

    /** Every diagnostic, in clang's order. */
    public List<Diagnostic> diagnostics() {
        return diagnostics;
    }

    /** The errors only. */
    public List<Diagnostic> errors() {
        return diagnostics.stream().filter(Diagnostic::isError).toList();
    }

    /** clang's raw output. */
    public String output() {
        return output;
    }
}

package io.jvisor.bpf.asm;

/**
 * Assembly text that {@link Assembler} cannot turn into instructions. The message starts with the
 * line number and ends with the offending text.
 */
public final class AssemblyException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int line;
    private final String text;
    private final String reason;

    /**
     * An error at one line.
     *
     * @param line the 1-based line number
     * @param text the offending text (the line, or the part of it at fault)
     * @param reason what is wrong
     */
    public AssemblyException(int line, String text, String reason) {
        super("line " + line + ": " + reason + ": " + text.strip());
        this.line = line;
        this.text = text;
        this.reason = reason;
    }

    /** The 1-based line number. */
    public int line() {
        return line;
    }

    /** The offending text. */
    public String text() {
        return text;
    }

    /** What is wrong, without line and text. */
    public String reason() {
        return reason;
    }
}

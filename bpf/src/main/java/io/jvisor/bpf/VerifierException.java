package io.jvisor.bpf;

/**
 * The verifier refused a program. Carries the whole verifier log and the index of the instruction
 * the verifier stopped at (-1 when the log does not name one).
 */
public final class VerifierException extends BpfException {
    private final String log;
    private final int instruction;
    private final String verdict;
    private final String source;

    /**
     * @param operation the load being attempted
     * @param errno the errno of BPF_PROG_LOAD
     * @param log the verifier log
     * @param instruction the failing instruction index, or -1
     * @param message the verifier's own one-line verdict
     */
    public VerifierException(String operation, int errno, String log, int instruction, String message) {
        this(operation, errno, log, instruction, message, null);
    }

    /**
     * @param source where the failing instruction comes from, e.g. {@code "fw.c:123: if (ip->ihl > 5)"},
     *     or null when unknown
     */
    public VerifierException(String operation, int errno, String log, int instruction, String message, String source) {
        super(operation, errno, (source != null ? source + " -> "
                : instruction >= 0 ? "instruction " + instruction + ": " : "") + message);
        this.log = log;
        this.instruction = instruction;
        this.verdict = message;
        this.source = source;
    }

    /** The verifier's one-line verdict, e.g. {@code "R3 invalid mem access 'scalar'"}. */
    public String verdict() {
        return verdict;
    }

    /** The source location and text of the failing instruction, or null when unknown. */
    public String source() {
        return source;
    }

    /** This error with the failing instruction's source location (from BTF line info). */
    public VerifierException withSource(String sourceLocation) {
        VerifierException e = new VerifierException(operation(), errno(), log, instruction, verdict, sourceLocation);
        e.setStackTrace(getStackTrace());
        return e;
    }

    /** The whole verifier log. */
    public String log() {
        return log;
    }

    /** The index of the instruction the verifier rejected, or -1. */
    public int instruction() {
        return instruction;
    }
}

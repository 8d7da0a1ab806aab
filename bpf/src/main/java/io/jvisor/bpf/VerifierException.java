package io.jvisor.bpf;

/**
 * The verifier refused a program. Carries the whole verifier log and the index of the instruction
 * the verifier stopped at (-1 when the log does not name one).
 */
public final class VerifierException extends BpfException {
    private final String log;
    private final int instruction;

    /**
     * @param operation the load being attempted
     * @param errno the errno of BPF_PROG_LOAD
     * @param log the verifier log
     * @param instruction the failing instruction index, or -1
     * @param message the verifier's own one-line verdict
     */
    public VerifierException(String operation, int errno, String log, int instruction, String message) {
        super(operation, errno, (instruction >= 0 ? "instruction " + instruction + ": " : "") + message);
        this.log = log;
        this.instruction = instruction;
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

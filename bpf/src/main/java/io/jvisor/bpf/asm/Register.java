package io.jvisor.bpf.asm;

/**
 * The eBPF registers: R0 (return value), R1-R5 (arguments), R6-R9 (callee-saved), R10 (frame
 * pointer). A register is also the {@link Operand} of the register ({@code X}) form of ALU, jump
 * and store instructions.
 */
public enum Register implements Operand {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    private static final Register[] ALL = values();

    /** The register number 0..10. */
    public int number() {
        return ordinal();
    }

    /** The register with this number; numbers outside 0..10 are refused with an IllegalArgumentException. */
    public static Register of(int n) {
        if (n < 0 || n >= ALL.length) {
            throw new IllegalArgumentException("no register r" + n + " (eBPF has r0..r10)");
        }
        return ALL[n];
    }
}

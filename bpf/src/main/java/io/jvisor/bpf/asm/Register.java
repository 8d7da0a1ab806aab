package io.jvisor.bpf.asm;

/** The eBPF registers: R0 (return value), R1-R5 (arguments), R6-R9 (callee-saved), R10 (frame pointer). */
public enum Register {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    /** The register number 0..10. */
    public int number() {
        return ordinal();
    }

    /** The register with this number. */
    public static Register of(int n) {
        return values()[n];
    }
}

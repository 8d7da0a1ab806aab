package io.jvisor.bpf.asm;

/**
 * A 32-bit immediate operand. The ISA sign-extends it to 64 bits for 64-bit operations.
 *
 * @param value the immediate
 */
public record Imm(int value) implements Operand {
    /** The immediate {@code value}. */
    public static Imm of(int value) {
        return new Imm(value);
    }
}

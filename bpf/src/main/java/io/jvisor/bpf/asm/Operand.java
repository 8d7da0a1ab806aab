package io.jvisor.bpf.asm;

/**
 * The source operand of an ALU, jump or store instruction: a {@link Register} (the {@code X}
 * source, opcode bit 0x08) or an immediate {@link Imm} (the {@code K} source).
 */
public sealed interface Operand permits Register, Imm {}

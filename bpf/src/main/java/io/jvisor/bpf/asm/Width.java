package io.jvisor.bpf.asm;

/**
 * The operation width of an ALU or conditional jump instruction: the instruction class
 * {@code ALU}/{@code JMP32} works on the low 32 bits (and zero-extends ALU results), {@code ALU64}/
 * {@code JMP} on all 64. The llvm syntax shows it in the register names: {@code w1} versus {@code r1}.
 */
public enum Width {
    /** 32-bit: classes ALU and JMP32; registers print as {@code wN}. */
    W32,
    /** 64-bit: classes ALU64 and JMP; registers print as {@code rN}. */
    W64
}

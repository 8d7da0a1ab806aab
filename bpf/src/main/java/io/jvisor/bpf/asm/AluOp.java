package io.jvisor.bpf.asm;

/**
 * The two-operand ALU operations ({@code dst op= src}). The signed division and modulo of ISA v4 are
 * separate constants: they share the opcode of {@link #DIV} and {@link #MOD} and set the offset
 * field to 1. Negation, byte swaps and sign-extending moves have their own records in {@link Insn}.
 */
public enum AluOp {
    /** {@code dst += src}. */
    ADD(Opcodes.ADD, 0, "+="),
    /** {@code dst -= src}. */
    SUB(Opcodes.SUB, 0, "-="),
    /** {@code dst *= src}. */
    MUL(Opcodes.MUL, 0, "*="),
    /** Unsigned {@code dst /= src}. */
    DIV(Opcodes.DIV, 0, "/="),
    /** Signed {@code dst s/= src} (ISA v4). */
    SDIV(Opcodes.DIV, 1, "s/="),
    /** {@code dst |= src}. */
    OR(Opcodes.OR, 0, "|="),
    /** {@code dst &= src}. */
    AND(Opcodes.AND, 0, "&="),
    /** {@code dst <<= src}. */
    LSH(Opcodes.LSH, 0, "<<="),
    /** Logical {@code dst >>= src}. */
    RSH(Opcodes.RSH, 0, ">>="),
    /** Unsigned {@code dst %= src}. */
    MOD(Opcodes.MOD, 0, "%="),
    /** Signed {@code dst s%= src} (ISA v4). */
    SMOD(Opcodes.MOD, 1, "s%="),
    /** {@code dst ^= src}. */
    XOR(Opcodes.XOR, 0, "^="),
    /** {@code dst = src}. */
    MOV(Opcodes.MOV, 0, "="),
    /** Arithmetic {@code dst s>>= src}. */
    ARSH(Opcodes.ARSH, 0, "s>>=");

    private final int code;
    private final int offset;
    private final String operator;

    AluOp(int code, int offset, String operator) {
        this.code = code;
        this.offset = offset;
        this.operator = operator;
    }

    /** The operation bits of the opcode. */
    public int code() {
        return code;
    }

    /** The offset field that selects this operation (1 for the signed variants, else 0). */
    public int offset() {
        return offset;
    }

    /** The llvm assignment operator, e.g. {@code +=}. */
    public String operator() {
        return operator;
    }

    /** The operation with these opcode bits and offset field, or null. */
    public static AluOp of(int code, int offset) {
        for (AluOp op : values()) {
            if (op.code == code && op.offset == offset) {
                return op;
            }
        }
        return null;
    }
}

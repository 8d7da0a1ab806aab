package io.jvisor.bpf.asm;

/** The conditions of a conditional jump ({@code if dst op src goto +off}). */
public enum JumpOp {
    /** {@code ==}. */
    JEQ(Opcodes.JEQ, "=="),
    /** Unsigned {@code >}. */
    JGT(Opcodes.JGT, ">"),
    /** Unsigned {@code >=}. */
    JGE(Opcodes.JGE, ">="),
    /** {@code dst & src} is not zero. */
    JSET(Opcodes.JSET, "&"),
    /** {@code !=}. */
    JNE(Opcodes.JNE, "!="),
    /** Signed {@code >}. */
    JSGT(Opcodes.JSGT, "s>"),
    /** Signed {@code >=}. */
    JSGE(Opcodes.JSGE, "s>="),
    /** Unsigned {@code <}. */
    JLT(Opcodes.JLT, "<"),
    /** Unsigned {@code <=}. */
    JLE(Opcodes.JLE, "<="),
    /** Signed {@code <}. */
    JSLT(Opcodes.JSLT, "s<"),
    /** Signed {@code <=}. */
    JSLE(Opcodes.JSLE, "s<=");

    private final int code;
    private final String operator;

    JumpOp(int code, String operator) {
        this.code = code;
        this.operator = operator;
    }

    /** The operation bits of the opcode. */
    public int code() {
        return code;
    }

    /** The llvm comparison operator, e.g. {@code s>=}. */
    public String operator() {
        return operator;
    }

    /** The condition with these opcode bits, or null (JA, CALL, EXIT and unassigned codes). */
    public static JumpOp of(int code) {
        for (JumpOp op : values()) {
            if (op.code == code) {
                return op;
            }
        }
        return null;
    }
}

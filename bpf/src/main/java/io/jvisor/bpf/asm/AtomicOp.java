package io.jvisor.bpf.asm;

/**
 * The read-modify-write operations of {@code BPF_ATOMIC} (the immediate of the instruction). The
 * {@code FETCH_} variants also load the old value into the source register; {@link #XCHG} and
 * {@link #CMPXCHG} always fetch ({@code CMPXCHG} compares with and loads into R0).
 */
public enum AtomicOp {
    /** {@code lock *(size *)(dst + off) += src}. */
    ADD(Opcodes.ADD, "+=", "add"),
    /** {@code lock *(size *)(dst + off) |= src}. */
    OR(Opcodes.OR, "|=", "or"),
    /** {@code lock *(size *)(dst + off) &= src}. */
    AND(Opcodes.AND, "&=", "and"),
    /** {@code lock *(size *)(dst + off) ^= src}. */
    XOR(Opcodes.XOR, "^=", "xor"),
    /** {@code src = atomic_fetch_add((size *)(dst + off), src)}. */
    FETCH_ADD(Opcodes.ADD | Opcodes.FETCH, "+=", "add"),
    /** {@code src = atomic_fetch_or((size *)(dst + off), src)}. */
    FETCH_OR(Opcodes.OR | Opcodes.FETCH, "|=", "or"),
    /** {@code src = atomic_fetch_and((size *)(dst + off), src)}. */
    FETCH_AND(Opcodes.AND | Opcodes.FETCH, "&=", "and"),
    /** {@code src = atomic_fetch_xor((size *)(dst + off), src)}. */
    FETCH_XOR(Opcodes.XOR | Opcodes.FETCH, "^=", "xor"),
    /** {@code src = xchg(dst + off, src)}. */
    XCHG(Opcodes.XCHG, null, "xchg"),
    /** {@code r0 = cmpxchg(dst + off, r0, src)}. */
    CMPXCHG(Opcodes.CMPXCHG, null, "cmpxchg");

    private final int code;
    private final String operator;
    private final String mnemonic;

    AtomicOp(int code, String operator, String mnemonic) {
        this.code = code;
        this.operator = operator;
        this.mnemonic = mnemonic;
    }

    /** The immediate that selects this operation. */
    public int code() {
        return code;
    }

    /** True when the old value is loaded back (the FETCH bit). */
    public boolean fetch() {
        return (code & Opcodes.FETCH) != 0;
    }

    /** The llvm operator of the arithmetic operations ({@code +=}), null for xchg and cmpxchg. */
    public String operator() {
        return operator;
    }

    /** The operation's name without the fetch flag: add, or, and, xor, xchg or cmpxchg. */
    public String mnemonic() {
        return mnemonic;
    }

    /** The operation with this immediate, or null. */
    public static AtomicOp of(int imm) {
        for (AtomicOp op : values()) {
            if (op.code == imm) {
                return op;
            }
        }
        return null;
    }

    /** The operation called {@code mnemonic} (add, or, and, xor, xchg, cmpxchg), with or without fetch. */
    public static AtomicOp of(String mnemonic, boolean fetch) {
        for (AtomicOp op : values()) {
            if (op.mnemonic.equals(mnemonic) && op.fetch() == fetch) {
                return op;
            }
        }
        return null;
    }
}

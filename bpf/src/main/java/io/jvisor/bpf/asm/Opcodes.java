package io.jvisor.bpf.asm;

/** Opcode parts of the eBPF instruction set (Documentation/bpf/standardization/instruction-set.rst). */
public final class Opcodes {
    private Opcodes() {}

    // instruction classes
    public static final int LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06,
            ALU64 = 0x07;
    // sizes
    public static final int W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
    // modes
    public static final int IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, MEMSX = 0x80, ATOMIC = 0xc0;
    // source
    public static final int K = 0x00, X = 0x08;
    // ALU operations
    public static final int ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60,
            RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0, MOV = 0xb0, ARSH = 0xc0, END = 0xd0;
    // jump operations
    public static final int JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, JSGT = 0x60,
            JSGE = 0x70, CALL = 0x80, EXIT = 0x90, JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0, JCOND = 0xe0;
    // atomic operations (imm field)
    public static final int FETCH = 0x01, XCHG = 0xe0 | FETCH, CMPXCHG = 0xf0 | FETCH;
    /** Atomic immediates of load-acquire and store-release (Linux 6.15). */
    public static final int LOAD_ACQ = 0x100, STORE_REL = 0x110;

    /** The 64-bit immediate load, two slots. */
    public static final int LD_IMM64 = LD | DW | IMM;

    /** lddw src value: the immediate is a map fd. */
    public static final int PSEUDO_MAP_FD = 1;
    /** lddw src value: the immediate is a map fd, plus a value offset in the second half. */
    public static final int PSEUDO_MAP_VALUE = 2;
    /** lddw src value: the immediate is the BTF id of a kernel variable. */
    public static final int PSEUDO_BTF_ID = 3;
    /** lddw src value: the immediate is a relative function address. */
    public static final int PSEUDO_FUNC = 4;
    /** lddw src value: the immediate is an index into the fd array. */
    public static final int PSEUDO_MAP_IDX = 5;
    /** lddw src value: an fd-array index, plus a value offset in the second half. */
    public static final int PSEUDO_MAP_IDX_VALUE = 6;
    /** call src value: a bpf-to-bpf call, imm is the relative target. */
    public static final int PSEUDO_CALL = 1;
    /** call src value: a kernel function by BTF id. */
    public static final int PSEUDO_KFUNC_CALL = 2;

    /** The class bits of an opcode. */
    public static int classOf(int opcode) {
        return opcode & 0x07;
    }
}

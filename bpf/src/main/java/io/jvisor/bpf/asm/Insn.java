package io.jvisor.bpf.asm;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.jvisor.bpf.asm.Opcodes.*;

/**
 * One eBPF instruction as a value: a record per kind of instruction, covering the whole ISA of
 * RFC 9669 and its later additions (ISA v4: sign-extending loads and moves, signed division,
 * byte swaps, {@code gotol}; {@code may_goto}; load-acquire and store-release; {@code callx}).
 * Use pattern matching to read one, the records' constructors or {@link Asm} to make one,
 * {@link #instruction()} and {@link #decode(Instruction)} to go to and from the raw
 * {@link Instruction}, and {@link Disassembler}/{@link Assembler} for text.
 *
 * <p>Each record checks its fields, so a record is always a valid instruction. Decoding is total
 * and strict: a raw instruction gives a record, or an {@link InvalidInstructionException} that
 * names the opcode and the field at fault. Fields that the ISA reserves must be zero (llvm-objdump
 * ignores some of them; the kernel rejects them), so {@code decode(i).instruction().equals(i)} holds
 * for every instruction that decodes.
 *
 * <p>Jump and call targets are relative, in instruction slots, from the instruction after the jump;
 * {@link Asm} and {@link Assembler} compute them from labels.
 */
public sealed interface Insn {

    /** The raw instruction (one {@link Instruction}; lddw is one Instruction of two slots). */
    Instruction instruction();

    /** The slots this instruction occupies: 2 for {@link LoadImm64}, else 1. */
    default int slots() {
        return 1;
    }

    /**
     * {@code dst op= src}: an ALU operation with a register or immediate source.
     *
     * @param width 32-bit (class ALU, {@code wN}) or 64-bit (ALU64, {@code rN})
     * @param op the operation
     * @param dst the destination (and first operand)
     * @param src a register or an immediate
     */
    record Alu(Width width, AluOp op, Register dst, Operand src) implements Insn {
        public Alu {
            requireAll(width, op, dst, src);
        }

        @Override
        public Instruction instruction() {
            int cls = width == Width.W64 ? ALU64 : ALU;
            return switch (src) {
                case Register r -> new Instruction(cls | op.code() | X, dst, r, op.offset(), 0);
                case Imm(int k) -> new Instruction(cls | op.code() | K, dst, Register.R0, op.offset(), k);
            };
        }
    }

    /**
     * {@code dst = -dst}.
     *
     * @param width 32 or 64 bits
     * @param dst the register negated in place
     */
    record Neg(Width width, Register dst) implements Insn {
        public Neg {
            requireAll(width, dst);
        }

        @Override
        public Instruction instruction() {
            return new Instruction((width == Width.W64 ? ALU64 : ALU) | NEG | K, dst, Register.R0, 0, 0);
        }
    }

    /**
     * {@code dst = (s8/s16/s32) src}: a move that sign-extends the low {@code from} part of src
     * (ISA v4, BPF_MOVSX). The 32-bit form allows bytes and half-words only.
     *
     * @param width 32 or 64 bits
     * @param from the part of src that is sign-extended: B, H, or (64-bit only) W
     * @param dst the destination
     * @param src the source
     */
    record MovSx(Width width, Size from, Register dst, Register src) implements Insn {
        public MovSx {
            requireAll(width, from, dst, src);
            if (from == Size.DW || (width == Width.W32 && from == Size.W)) {
                throw new IllegalArgumentException("movsx cannot sign-extend " + from.bits() + " bits into "
                        + (width == Width.W64 ? 64 : 32));
            }
        }

        @Override
        public Instruction instruction() {
            return new Instruction((width == Width.W64 ? ALU64 : ALU) | MOV | X, dst, src, from.bits(), 0);
        }
    }

    /**
     * {@code dst = le16/be32/bswap64 dst}: a byte-order conversion. {@link Order#LE} and
     * {@link Order#BE} convert from host order to that order (a swap or a no-op, depending on the
     * host, truncating to the width); {@link Order#BSWAP} always swaps (ISA v4).
     *
     * @param order the conversion
     * @param bits 16, 32 or 64
     * @param dst the register converted in place
     */
    record ByteSwap(Order order, int bits, Register dst) implements Insn {
        /** The kinds of byte-order conversion. */
        public enum Order {
            /** To little-endian (class ALU, source K). */
            LE,
            /** To big-endian (class ALU, source X). */
            BE,
            /** Unconditional swap (class ALU64, source K; ISA v4). */
            BSWAP
        }

        public ByteSwap {
            requireAll(order, dst);
            if (bits != 16 && bits != 32 && bits != 64) {
                throw new IllegalArgumentException("byte swap width must be 16, 32 or 64, not " + bits);
            }
        }

        @Override
        public Instruction instruction() {
            int opcode = switch (order) {
                case LE -> ALU | END | K;
                case BE -> ALU | END | X;
                case BSWAP -> ALU64 | END | K;
            };
            return new Instruction(opcode, dst, Register.R0, 0, bits);
        }
    }

    /**
     * {@code if dst op src goto +offset}.
     *
     * @param width 32-bit comparison (class JMP32, {@code wN}) or 64-bit (JMP)
     * @param op the condition
     * @param dst the left-hand register
     * @param src a register or an immediate
     * @param offset the 16-bit relative target, in slots
     */
    record Jump(Width width, JumpOp op, Register dst, Operand src, int offset) implements Insn {
        public Jump {
            requireAll(width, op, dst, src);
            requireShort("jump offset", offset);
        }

        @Override
        public Instruction instruction() {
            int cls = width == Width.W64 ? JMP : JMP32;
            return switch (src) {
                case Register r -> new Instruction(cls | op.code() | X, dst, r, offset, 0);
                case Imm(int k) -> new Instruction(cls | op.code() | K, dst, Register.R0, offset, k);
            };
        }
    }

    /**
     * {@code goto +offset}: the unconditional jump with a 16-bit offset (JMP JA).
     *
     * @param offset the relative target, in slots
     */
    record Goto(int offset) implements Insn {
        public Goto {
            requireShort("goto offset", offset);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(JMP | JA | K, Register.R0, Register.R0, offset, 0);
        }
    }

    /**
     * {@code gotol +offset}: the unconditional jump with a 32-bit offset in the immediate (JMP32 JA,
     * ISA v4).
     *
     * @param offset the relative target, in slots
     */
    record GotoLong(int offset) implements Insn {
        @Override
        public Instruction instruction() {
            return new Instruction(JMP32 | JA | K, Register.R0, Register.R0, 0, offset);
        }
    }

    /**
     * {@code may_goto +offset}: falls through until the verifier-inserted loop budget runs out, then
     * jumps (JMP JCOND with source 0; Linux 6.9).
     *
     * @param offset the relative target, in slots
     */
    record MayGoto(int offset) implements Insn {
        public MayGoto {
            requireShort("may_goto offset", offset);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(JMP | JCOND | K, Register.R0, Register.R0, offset, 0);
        }
    }

    /**
     * A call: a helper by number, a bpf-to-bpf call to a relative slot, or a kernel function by
     * BTF id. {@code reference} names the callee to resolve at load time (a function symbol for
     * local calls, a kernel function for kfuncs).
     *
     * @param kind helper, local or kfunc (the source register field)
     * @param imm helper id, relative target in slots, or BTF id
     * @param offset for kfuncs, the index of the callee's module BTF in the fd array; else 0
     * @param reference a symbol to resolve at load time, or null
     */
    record Call(Kind kind, int imm, int offset, String reference) implements Insn {
        /** What the immediate of a call names (the source register field). */
        public enum Kind {
            /** A helper function by number (src 0). */
            HELPER,
            /** A bpf-to-bpf call; imm is the relative target (src 1, BPF_PSEUDO_CALL). */
            LOCAL,
            /** A kernel function by BTF id (src 2, BPF_PSEUDO_KFUNC_CALL). */
            KFUNC
        }

        public Call {
            requireAll(kind);
            requireShort("call offset", offset);
            if (offset != 0 && kind != Kind.KFUNC) {
                throw new IllegalArgumentException("only kfunc calls have an offset, not " + kind + " calls");
            }
        }

        /** A call of helper number {@code id}. */
        public static Call helper(int id) {
            return new Call(Kind.HELPER, id, 0, null);
        }

        /** A call of {@code helper}. */
        public static Call helper(Helper helper) {
            return helper(helper.id());
        }

        /** A bpf-to-bpf call {@code offset} slots after the next instruction. */
        public static Call local(int offset) {
            return new Call(Kind.LOCAL, offset, 0, null);
        }

        /** A bpf-to-bpf call of the function {@code symbol}, resolved at load time. */
        public static Call local(String symbol) {
            return new Call(Kind.LOCAL, -1, 0, symbol);
        }

        /** A call of the kernel function with BTF id {@code btfId} in vmlinux. */
        public static Call kfunc(int btfId) {
            return new Call(Kind.KFUNC, btfId, 0, null);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(JMP | CALL | K, Register.R0, Register.of(kind.ordinal()), (short) offset, imm,
                    reference);
        }
    }

    /**
     * {@code callx dst}: an indirect call through a register (JMP CALL with source X; llvm emits
     * it, Linux does not accept it yet).
     *
     * @param target the register holding the callee
     */
    record CallX(Register target) implements Insn {
        public CallX {
            requireAll(target);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(JMP | CALL | X, target, Register.R0, 0, 0);
        }
    }

    /** {@code exit}: return R0 to the caller. */
    record Exit() implements Insn {
        @Override
        public Instruction instruction() {
            return new Instruction(JMP | EXIT | K, Register.R0, Register.R0, 0, 0);
        }
    }

    /**
     * {@code dst = *(size *)(src + offset)}, zero-extending (LDX MEM).
     *
     * @param size the access size
     * @param dst the destination
     * @param src the base address
     * @param offset the signed 16-bit displacement
     */
    record Load(Size size, Register dst, Register src, int offset) implements Insn {
        public Load {
            requireAll(size, dst, src);
            requireShort("load offset", offset);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(LDX | size.code() | MEM, dst, src, offset, 0);
        }
    }

    /**
     * {@code dst = *(s8/s16/s32 *)(src + offset)}, sign-extending (LDX MEMSX, ISA v4).
     *
     * @param size B, H or W
     * @param dst the destination
     * @param src the base address
     * @param offset the signed 16-bit displacement
     */
    record LoadSx(Size size, Register dst, Register src, int offset) implements Insn {
        public LoadSx {
            requireAll(size, dst, src);
            requireShort("load offset", offset);
            if (size == Size.DW) {
                throw new IllegalArgumentException("sign-extending loads are 1, 2 or 4 bytes wide, not 8");
            }
        }

        @Override
        public Instruction instruction() {
            return new Instruction(LDX | size.code() | MEMSX, dst, src, offset, 0);
        }
    }

    /**
     * {@code *(size *)(dst + offset) = src}: a store of a register (STX MEM) or of an immediate
     * (ST MEM).
     *
     * @param size the access size
     * @param dst the base address
     * @param offset the signed 16-bit displacement
     * @param src the register or immediate stored
     */
    record Store(Size size, Register dst, int offset, Operand src) implements Insn {
        public Store {
            requireAll(size, dst, src);
            requireShort("store offset", offset);
        }

        @Override
        public Instruction instruction() {
            return switch (src) {
                case Register r -> new Instruction(STX | size.code() | MEM, dst, r, offset, 0);
                case Imm(int k) -> new Instruction(ST | size.code() | MEM, dst, Register.R0, offset, k);
            };
        }
    }

    /**
     * An atomic read-modify-write of {@code *(size *)(dst + offset)} with {@code src} (STX ATOMIC).
     *
     * @param size W or DW
     * @param op the operation (the immediate)
     * @param dst the base address
     * @param offset the signed 16-bit displacement
     * @param src the operand; the fetch variants load the old value into it (cmpxchg into R0)
     */
    record Atomic(Size size, AtomicOp op, Register dst, int offset, Register src) implements Insn {
        public Atomic {
            requireAll(size, op, dst, src);
            requireShort("atomic offset", offset);
            if (size != Size.W && size != Size.DW) {
                throw new IllegalArgumentException("atomic operations are 4 or 8 bytes wide, not " + size.bytes());
            }
        }

        @Override
        public Instruction instruction() {
            return new Instruction(STX | size.code() | ATOMIC, dst, src, offset, op.code());
        }
    }

    /**
     * {@code dst = load_acquire((size *)(src + offset))} (STX ATOMIC with BPF_LOAD_ACQ; Linux 6.15).
     *
     * @param size the access size
     * @param dst the destination
     * @param src the base address
     * @param offset the signed 16-bit displacement
     */
    record LoadAcquire(Size size, Register dst, Register src, int offset) implements Insn {
        public LoadAcquire {
            requireAll(size, dst, src);
            requireShort("load-acquire offset", offset);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(STX | size.code() | ATOMIC, dst, src, offset, LOAD_ACQ);
        }
    }

    /**
     * {@code store_release((size *)(dst + offset), src)} (STX ATOMIC with BPF_STORE_REL; Linux 6.15).
     *
     * @param size the access size
     * @param dst the base address
     * @param offset the signed 16-bit displacement
     * @param src the register stored
     */
    record StoreRelease(Size size, Register dst, int offset, Register src) implements Insn {
        public StoreRelease {
            requireAll(size, dst, src);
            requireShort("store-release offset", offset);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(STX | size.code() | ATOMIC, dst, src, offset, STORE_REL);
        }
    }

    /**
     * {@code dst = imm ll}: the two-slot 64-bit immediate load (lddw), whose source field says what
     * the immediate is (RFC 9669 section 5.4). For {@link Kind#MAP_VALUE} and
     * {@link Kind#MAP_IDX_VALUE} the low 32 bits are the map and the high 32 bits the offset into
     * its value. {@code reference} names a map or function to resolve at load time.
     *
     * @param dst the destination
     * @param kind what the immediate means
     * @param imm the 64-bit immediate (the two 32-bit halves)
     * @param reference a symbol to resolve at load time, or null
     */
    record LoadImm64(Register dst, Kind kind, long imm, String reference) implements Insn {
        /** What the immediate of a lddw is (the source register field). */
        public enum Kind {
            /** A plain 64-bit constant (src 0). */
            VALUE,
            /** A map by file descriptor (src 1, BPF_PSEUDO_MAP_FD). */
            MAP_FD,
            /** The address of a map's value by fd, plus an offset (src 2, BPF_PSEUDO_MAP_VALUE). */
            MAP_VALUE,
            /** The address of a kernel variable by BTF id (src 3, BPF_PSEUDO_BTF_ID). */
            BTF_ID,
            /** The address of a function, relative in slots (src 4, BPF_PSEUDO_FUNC). */
            FUNC,
            /** A map by index into the fd array (src 5, BPF_PSEUDO_MAP_IDX). */
            MAP_IDX,
            /** A map's value by index into the fd array, plus an offset (src 6, BPF_PSEUDO_MAP_IDX_VALUE). */
            MAP_IDX_VALUE
        }

        public LoadImm64 {
            requireAll(dst, kind);
        }

        /** {@code dst = value ll}. */
        public static LoadImm64 of(Register dst, long value) {
            return new LoadImm64(dst, Kind.VALUE, value, null);
        }

        /** dst = the map with file descriptor {@code fd}. */
        public static LoadImm64 mapFd(Register dst, int fd) {
            return new LoadImm64(dst, Kind.MAP_FD, fd & 0xffffffffL, null);
        }

        /** dst = the address of byte {@code offset} of the value of the map with file descriptor {@code fd}. */
        public static LoadImm64 mapValue(Register dst, int fd, int offset) {
            return new LoadImm64(dst, Kind.MAP_VALUE, (fd & 0xffffffffL) | ((long) offset << 32), null);
        }

        /** dst = the map named {@code map}, resolved at load time. */
        public static LoadImm64 map(Register dst, String map) {
            return new LoadImm64(dst, Kind.MAP_FD, 0, map);
        }

        /** dst = the address of byte {@code offset} of the value of the map named {@code map}. */
        public static LoadImm64 mapValue(Register dst, String map, int offset) {
            return new LoadImm64(dst, Kind.MAP_VALUE, (long) offset << 32, map);
        }

        /** The low 32 bits of the immediate (the map fd or index for map kinds). */
        public int low() {
            return (int) imm;
        }

        /** The high 32 bits of the immediate (the value offset for map value kinds). */
        public int high() {
            return (int) (imm >>> 32);
        }

        @Override
        public int slots() {
            return 2;
        }

        @Override
        public Instruction instruction() {
            return new Instruction(LD_IMM64, dst, Register.of(kind.ordinal()), (short) 0, imm, reference);
        }
    }

    /**
     * {@code r0 = *(size *)skb[offset]}: the legacy absolute packet load (LD ABS) of socket
     * filters; the result is converted to host order.
     *
     * @param size B, H or W
     * @param offset the packet offset
     */
    record LoadAbs(Size size, int offset) implements Insn {
        public LoadAbs {
            requirePacketSize(size);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(LD | size.code() | ABS, Register.R0, Register.R0, 0, offset);
        }
    }

    /**
     * {@code r0 = *(size *)skb[src + offset]}: the legacy indirect packet load (LD IND).
     *
     * @param size B, H or W
     * @param src the register added to the offset
     * @param offset the constant part of the packet offset
     */
    record LoadInd(Size size, Register src, int offset) implements Insn {
        public LoadInd {
            requirePacketSize(size);
            requireAll(src);
        }

        @Override
        public Instruction instruction() {
            return new Instruction(LD | size.code() | IND, Register.R0, src, 0, offset);
        }
    }

    /**
     * Decodes a raw instruction into its record.
     *
     * @throws InvalidInstructionException if the opcode is not an instruction, or a field is out of
     *     range or reserved but not zero
     */
    static Insn decode(Instruction raw) {
        return InsnDecoder.decode(raw);
    }

    /** Decodes a program of raw instructions. */
    static List<Insn> decodeAll(List<Instruction> raw) {
        List<Insn> out = new ArrayList<>(raw.size());
        int slot = 0;
        for (Instruction i : raw) {
            try {
                out.add(decode(i));
            } catch (InvalidInstructionException e) {
                throw e.atSlot(slot);
            }
            slot += i.slots();
        }
        return List.copyOf(out);
    }

    /**
     * Decodes a program from its bytes (a little-endian {@code struct bpf_insn} array).
     *
     * @throws InvalidInstructionException naming the slot of the first invalid instruction, also
     *     when the bytes end inside an instruction
     */
    static List<Insn> decode(byte[] code) {
        return InsnDecoder.decodeBytes(code);
    }

    /** The raw instructions of a program. */
    static List<Instruction> instructions(List<? extends Insn> program) {
        List<Instruction> out = new ArrayList<>(program.size());
        for (Insn i : program) {
            out.add(i.instruction());
        }
        return out;
    }

    /** Encodes a program to bytes (a little-endian {@code struct bpf_insn} array); references are dropped. */
    static byte[] encode(List<? extends Insn> program) {
        List<Instruction> raw = instructions(program);
        byte[] out = new byte[Instruction.slots(raw) * Instruction.SLOT];
        Instruction.encodeAll(raw, MemorySegment.ofArray(out));
        return out;
    }

    private static void requireAll(Object... fields) {
        for (Object f : fields) {
            if (f == null) {
                throw new NullPointerException("instruction field is null");
            }
        }
    }

    private static void requireShort(String what, int value) {
        if (value < Short.MIN_VALUE || value > Short.MAX_VALUE) {
            throw new IllegalArgumentException(what + " " + value + " does not fit 16 bits");
        }
    }

    private static void requirePacketSize(Size size) {
        if (size == null) {
            throw new NullPointerException("instruction field is null");
        }
        if (size == Size.DW) {
            throw new IllegalArgumentException("legacy packet loads are 1, 2 or 4 bytes wide, not 8");
        }
    }
}

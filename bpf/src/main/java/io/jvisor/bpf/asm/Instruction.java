package io.jvisor.bpf.asm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * One eBPF instruction as the kernel sees it: {@code struct bpf_insn} (opcode, dst and src
 * registers, 16-bit offset, 32-bit immediate). The 64-bit immediate load ({@code lddw}) is one
 * Instruction that occupies two slots; {@link #imm()} then holds all 64 bits.
 *
 * <p>{@code reference} carries a symbol (a map name, or a function name for calls) that a loader
 * resolves at load time; it is null for ordinary instructions.
 *
 * @param opcode the 8-bit opcode
 * @param dst the destination register
 * @param src the source register (or pseudo value for lddw and calls)
 * @param offset the signed 16-bit offset
 * @param imm the immediate (64 bits for lddw, otherwise a signed 32-bit value)
 * @param reference a symbol to resolve at load time, or null
 */
public record Instruction(int opcode, Register dst, Register src, short offset, long imm, String reference) {
    /** Size in bytes of one instruction slot. */
    public static final int SLOT = 8;

    public Instruction {
        if (opcode < 0 || opcode > 0xff) {
            throw new IllegalArgumentException("opcode out of range: " + opcode);
        }
    }

    /** An instruction without reference. */
    public Instruction(int opcode, Register dst, Register src, int offset, long imm) {
        this(opcode, dst, src, (short) offset, imm, null);
    }

    /** True for the two-slot 64-bit immediate load. */
    public boolean isWide() {
        return opcode == Opcodes.LD_IMM64;
    }

    /** Slots occupied: 2 for lddw, else 1. */
    public int slots() {
        return isWide() ? 2 : 1;
    }

    /** This instruction with another immediate. */
    public Instruction withImm(long newImm) {
        return new Instruction(opcode, dst, src, offset, newImm, reference);
    }

    /** This instruction with another offset. */
    public Instruction withOffset(int newOffset) {
        return new Instruction(opcode, dst, src, (short) newOffset, imm, reference);
    }

    /** This instruction with another source register (pseudo value). */
    public Instruction withSrc(Register newSrc) {
        return new Instruction(opcode, dst, newSrc, offset, imm, reference);
    }

    /** This instruction tagged with a symbol to resolve at load time. */
    public Instruction withReference(String ref) {
        return new Instruction(opcode, dst, src, offset, imm, ref);
    }

    /** Writes this instruction's slots at {@code offset}; returns the bytes written. */
    public int encode(MemorySegment out, long at) {
        var s16 = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        var s32 = JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        out.set(JAVA_BYTE, at, (byte) opcode);
        out.set(JAVA_BYTE, at + 1, (byte) ((src.number() << 4) | dst.number()));
        out.set(s16, at + 2, offset);
        out.set(s32, at + 4, (int) imm);
        if (isWide()) {
            out.set(JAVA_BYTE, at + 8, (byte) 0);
            out.set(JAVA_BYTE, at + 9, (byte) 0);
            out.set(s16, at + 10, (short) 0);
            out.set(s32, at + 12, (int) (imm >>> 32));
            return 16;
        }
        return 8;
    }

    /** Total slots of a program. */
    public static int slots(List<Instruction> insns) {
        int n = 0;
        for (Instruction i : insns) {
            n += i.slots();
        }
        return n;
    }

    /** Encodes a whole program into {@code out} (at least {@code 8 * slots} bytes). */
    public static void encodeAll(List<Instruction> insns, MemorySegment out) {
        long at = 0;
        for (Instruction i : insns) {
            at += i.encode(out, at);
        }
    }

    /** Decodes a program from raw bytes (little-endian struct bpf_insn array). */
    public static List<Instruction> decodeAll(MemorySegment in) {
        var s16 = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        var s32 = JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        java.util.ArrayList<Instruction> out = new java.util.ArrayList<>();
        long at = 0;
        while (at + SLOT <= in.byteSize()) {
            int op = Byte.toUnsignedInt(in.get(JAVA_BYTE, at));
            int regs = Byte.toUnsignedInt(in.get(JAVA_BYTE, at + 1));
            short off = in.get(s16, at + 2);
            long imm = in.get(s32, at + 4);
            if (op == Opcodes.LD_IMM64 && at + 2 * SLOT <= in.byteSize()) {
                long hi = in.get(s32, at + 12);
                imm = (imm & 0xffffffffL) | (hi << 32);
                at += 2 * SLOT;
            } else {
                at += SLOT;
            }
            out.add(new Instruction(op, Register.of(regs & 0xf), Register.of(regs >>> 4), off, imm, null));
        }
        return out;
    }
}

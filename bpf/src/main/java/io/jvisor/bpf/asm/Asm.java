package io.jvisor.bpf.asm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.jvisor.bpf.asm.Opcodes.*;

/**
 * A builder for eBPF programs with symbolic jump labels and symbolic map references. Each method
 * appends one instruction; {@link #build()} resolves labels into slot offsets. It covers the whole
 * ISA: the typed methods take the enums of this package ({@link AluOp}, {@link JumpOp},
 * {@link Size}, {@link AtomicOp}), and {@link #insn(Insn)} appends any instruction record.
 *
 * <pre>{@code
 * List<Instruction> prog = new Asm()
 *     .mov64(R0, 2)          // XDP_PASS
 *     .exit()
 *     .build();
 * }</pre>
 */
public final class Asm {
    /** Where a label's relative slot count goes. */
    private enum Fixup { NONE, OFFSET, IMM }

    private record Pending(Instruction insn, String label, Fixup fixup) {}

    private final List<Pending> insns = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    private Asm add(Instruction i) {
        insns.add(new Pending(i, null, Fixup.NONE));
        return this;
    }

    private Asm jump(Instruction i, String label) {
        return fixup(i, label, Fixup.OFFSET);
    }

    private Asm fixup(Instruction i, String label, Fixup fixup) {
        if (label == null) {
            throw new NullPointerException("label");
        }
        insns.add(new Pending(i, label, fixup));
        return this;
    }

    /** Defines {@code name} at the next instruction. */
    public Asm label(String name) {
        if (labels.put(name, insns.size()) != null) {
            throw new IllegalArgumentException("label defined twice: " + name);
        }
        return this;
    }

    /** Appends a raw instruction (it is not checked: tests use this to make invalid programs). */
    public Asm raw(Instruction i) {
        return add(i);
    }

    /** Appends an instruction record. */
    public Asm insn(Insn i) {
        return add(i.instruction());
    }

    // ---- ALU ----

    /** dst = imm (64-bit). */
    public Asm mov64(Register dst, int imm) {
        return add(new Instruction(ALU64 | MOV | K, dst, Register.R0, 0, imm));
    }

    /** dst = src (64-bit). */
    public Asm mov64(Register dst, Register src) {
        return add(new Instruction(ALU64 | MOV | X, dst, src, 0, 0));
    }

    /** dst = imm (32-bit, zero-extended). */
    public Asm mov32(Register dst, int imm) {
        return add(new Instruction(ALU | MOV | K, dst, Register.R0, 0, imm));
    }

    /** dst = src (32-bit, zero-extended). */
    public Asm mov32(Register dst, Register src) {
        return insn(new Insn.Alu(Width.W32, AluOp.MOV, dst, src));
    }

    /** dst op= imm (64-bit), op being one of the ALU operation constants. */
    public Asm alu64(int op, Register dst, int imm) {
        return add(new Instruction(ALU64 | op | K, dst, Register.R0, 0, imm));
    }

    /** dst op= src (64-bit). */
    public Asm alu64(int op, Register dst, Register src) {
        return add(new Instruction(ALU64 | op | X, dst, src, 0, 0));
    }

    /** dst op= imm (64-bit). */
    public Asm alu64(AluOp op, Register dst, int imm) {
        return insn(new Insn.Alu(Width.W64, op, dst, new Imm(imm)));
    }

    /** dst op= src (64-bit). */
    public Asm alu64(AluOp op, Register dst, Register src) {
        return insn(new Insn.Alu(Width.W64, op, dst, src));
    }

    /** dst op= imm (32-bit, zero-extended). */
    public Asm alu32(AluOp op, Register dst, int imm) {
        return insn(new Insn.Alu(Width.W32, op, dst, new Imm(imm)));
    }

    /** dst op= src (32-bit, zero-extended). */
    public Asm alu32(AluOp op, Register dst, Register src) {
        return insn(new Insn.Alu(Width.W32, op, dst, src));
    }

    /** dst += imm. */
    public Asm add64(Register dst, int imm) {
        return alu64(ADD, dst, imm);
    }

    /** dst += src. */
    public Asm add64(Register dst, Register src) {
        return alu64(ADD, dst, src);
    }

    /** dst = -dst (64-bit). */
    public Asm neg64(Register dst) {
        return insn(new Insn.Neg(Width.W64, dst));
    }

    /** dst = -dst (32-bit). */
    public Asm neg32(Register dst) {
        return insn(new Insn.Neg(Width.W32, dst));
    }

    /** dst = (s8/s16/s32) src: sign-extends the low {@code from} part of src (ISA v4). */
    public Asm movSx(Width width, Size from, Register dst, Register src) {
        return insn(new Insn.MovSx(width, from, dst, src));
    }

    /** dst = htole{bits}(dst). */
    public Asm toLe(int bits, Register dst) {
        return insn(new Insn.ByteSwap(Insn.ByteSwap.Order.LE, bits, dst));
    }

    /** dst = htobe{bits}(dst). */
    public Asm toBe(int bits, Register dst) {
        return insn(new Insn.ByteSwap(Insn.ByteSwap.Order.BE, bits, dst));
    }

    /** dst = bswap{bits}(dst), regardless of host order (ISA v4). */
    public Asm bswap(int bits, Register dst) {
        return insn(new Insn.ByteSwap(Insn.ByteSwap.Order.BSWAP, bits, dst));
    }

    // ---- 64-bit immediates ----

    /** dst = 64-bit immediate (lddw). */
    public Asm ldImm64(Register dst, long imm) {
        return add(new Instruction(LD_IMM64, dst, Register.R0, 0, imm));
    }

    /** dst = the map with this fd (lddw with BPF_PSEUDO_MAP_FD). */
    public Asm ldMapFd(Register dst, int mapFd) {
        return add(new Instruction(LD_IMM64, dst, Register.of(PSEUDO_MAP_FD), 0, mapFd));
    }

    /** dst = the map named {@code mapName}, resolved at load time. */
    public Asm ldMap(Register dst, String mapName) {
        return add(new Instruction(LD_IMM64, dst, Register.of(PSEUDO_MAP_FD), (short) 0, 0, mapName));
    }

    /** dst = address of byte {@code offset} of the value of the map with this fd (BPF_PSEUDO_MAP_VALUE). */
    public Asm ldMapValue(Register dst, int mapFd, int offset) {
        return insn(Insn.LoadImm64.mapValue(dst, mapFd, offset));
    }

    /** dst = address of byte {@code offset} of the value of the map named {@code mapName}, resolved at load time. */
    public Asm ldMapValue(Register dst, String mapName, int offset) {
        return insn(Insn.LoadImm64.mapValue(dst, mapName, offset));
    }

    /** dst = the address of the function at {@code label} (lddw with BPF_PSEUDO_FUNC, for callbacks). */
    public Asm ldFunc(Register dst, String label) {
        return fixup(new Instruction(LD_IMM64, dst, Register.of(PSEUDO_FUNC), 0, 0), label, Fixup.IMM);
    }

    // ---- loads and stores ----

    /** dst = *(size *)(src + off); size is W, H, B or DW. */
    public Asm ldx(int size, Register dst, Register src, int off) {
        return add(new Instruction(LDX | size | MEM, dst, src, off, 0));
    }

    /** dst = *(size *)(src + off), zero-extended. */
    public Asm load(Size size, Register dst, Register src, int off) {
        return insn(new Insn.Load(size, dst, src, off));
    }

    /** dst = *(s8/s16/s32 *)(src + off), sign-extended (ISA v4). */
    public Asm loadSx(Size size, Register dst, Register src, int off) {
        return insn(new Insn.LoadSx(size, dst, src, off));
    }

    /** *(size *)(dst + off) = src. */
    public Asm stx(int size, Register dst, int off, Register src) {
        return add(new Instruction(STX | size | MEM, dst, src, off, 0));
    }

    /** *(size *)(dst + off) = imm. */
    public Asm st(int size, Register dst, int off, int imm) {
        return add(new Instruction(ST | size | MEM, dst, Register.R0, off, imm));
    }

    /** *(size *)(dst + off) = src. */
    public Asm store(Size size, Register dst, int off, Register src) {
        return insn(new Insn.Store(size, dst, off, src));
    }

    /** *(size *)(dst + off) = imm. */
    public Asm store(Size size, Register dst, int off, int imm) {
        return insn(new Insn.Store(size, dst, off, new Imm(imm)));
    }

    /** Atomic *(size *)(dst + off) += src (size W or DW). */
    public Asm atomicAdd(int size, Register dst, int off, Register src) {
        return add(new Instruction(STX | size | ATOMIC, dst, src, off, ADD));
    }

    /** An atomic operation on *(size *)(dst + off) with src (size W or DW). */
    public Asm atomic(Size size, AtomicOp op, Register dst, int off, Register src) {
        return insn(new Insn.Atomic(size, op, dst, off, src));
    }

    /** dst = load_acquire((size *)(src + off)). */
    public Asm loadAcquire(Size size, Register dst, Register src, int off) {
        return insn(new Insn.LoadAcquire(size, dst, src, off));
    }

    /** store_release((size *)(dst + off), src). */
    public Asm storeRelease(Size size, Register dst, int off, Register src) {
        return insn(new Insn.StoreRelease(size, dst, off, src));
    }

    /** r0 = *(size *)skb[off]: the legacy absolute packet load. */
    public Asm ldAbs(Size size, int off) {
        return insn(new Insn.LoadAbs(size, off));
    }

    /** r0 = *(size *)skb[src + off]: the legacy indirect packet load. */
    public Asm ldInd(Size size, Register src, int off) {
        return insn(new Insn.LoadInd(size, src, off));
    }

    // ---- jumps and calls ----

    /** if (dst op imm) goto label; op is a jump operation constant such as JEQ. */
    public Asm jmp(int op, Register dst, int imm, String label) {
        return jump(new Instruction(JMP | op | K, dst, Register.R0, 0, imm), label);
    }

    /** if (dst op src) goto label. */
    public Asm jmp(int op, Register dst, Register src, String label) {
        return jump(new Instruction(JMP | op | X, dst, src, 0, 0), label);
    }

    /** if (dst op imm) goto label, comparing 64 bits. */
    public Asm jmp(JumpOp op, Register dst, int imm, String label) {
        return jump(new Insn.Jump(Width.W64, op, dst, new Imm(imm), 0).instruction(), label);
    }

    /** if (dst op src) goto label, comparing 64 bits. */
    public Asm jmp(JumpOp op, Register dst, Register src, String label) {
        return jump(new Insn.Jump(Width.W64, op, dst, src, 0).instruction(), label);
    }

    /** if (dst op imm) goto label, comparing the low 32 bits. */
    public Asm jmp32(JumpOp op, Register dst, int imm, String label) {
        return jump(new Insn.Jump(Width.W32, op, dst, new Imm(imm), 0).instruction(), label);
    }

    /** if (dst op src) goto label, comparing the low 32 bits. */
    public Asm jmp32(JumpOp op, Register dst, Register src, String label) {
        return jump(new Insn.Jump(Width.W32, op, dst, src, 0).instruction(), label);
    }

    /** goto label. */
    public Asm ja(String label) {
        return jump(new Instruction(JMP | JA, Register.R0, Register.R0, 0, 0), label);
    }

    /** gotol label: the unconditional jump with a 32-bit offset (ISA v4). */
    public Asm gotol(String label) {
        return fixup(new Insn.GotoLong(0).instruction(), label, Fixup.IMM);
    }

    /** may_goto label. */
    public Asm mayGoto(String label) {
        return jump(new Insn.MayGoto(0).instruction(), label);
    }

    /** Calls helper number {@code helper}. */
    public Asm call(int helper) {
        return add(new Instruction(JMP | CALL, Register.R0, Register.R0, 0, helper));
    }

    /** Calls a helper. */
    public Asm call(Helper helper) {
        return call(helper.id());
    }

    /** Calls the bpf-to-bpf function at {@code label}. */
    public Asm callLocal(String label) {
        return fixup(Insn.Call.local(0).instruction(), label, Fixup.IMM);
    }

    /** Calls the kernel function with BTF id {@code btfId}. */
    public Asm kfunc(int btfId) {
        return insn(Insn.Call.kfunc(btfId));
    }

    /** callx target: an indirect call through a register. */
    public Asm callx(Register target) {
        return insn(new Insn.CallX(target));
    }

    /** return R0. */
    public Asm exit() {
        return add(new Instruction(JMP | EXIT, Register.R0, Register.R0, 0, 0));
    }

    /** The instructions, with jump offsets resolved. */
    public List<Instruction> build() {
        int[] slotOf = new int[insns.size() + 1];
        int slot = 0;
        for (int i = 0; i < insns.size(); i++) {
            slotOf[i] = slot;
            slot += insns.get(i).insn().slots();
        }
        slotOf[insns.size()] = slot;
        List<Instruction> out = new ArrayList<>(insns.size());
        for (int i = 0; i < insns.size(); i++) {
            Pending p = insns.get(i);
            if (p.label() == null) {
                out.add(p.insn());
                continue;
            }
            Integer target = labels.get(p.label());
            if (target == null) {
                throw new IllegalArgumentException("undefined label: " + p.label());
            }
            int rel = slotOf[target] - (slotOf[i] + 1);
            if (p.fixup() == Fixup.IMM) {
                out.add(p.insn().withImm(p.insn().isWide() ? rel & 0xffffffffL : rel));
                continue;
            }
            if (rel < Short.MIN_VALUE || rel > Short.MAX_VALUE) {
                throw new IllegalArgumentException("jump to " + p.label() + " is too far: " + rel + " slots");
            }
            out.add(p.insn().withOffset(rel));
        }
        return out;
    }

    /**
     * The instructions as records, with jump offsets resolved.
     *
     * @throws InvalidInstructionException if a {@link #raw} instruction is not valid
     */
    public List<Insn> buildInsns() {
        return Insn.decodeAll(build());
    }
}

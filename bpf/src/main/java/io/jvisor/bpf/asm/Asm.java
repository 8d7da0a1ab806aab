package io.jvisor.bpf.asm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.jvisor.bpf.asm.Opcodes.*;

/**
 * A small builder for eBPF programs with symbolic jump labels. Each method appends one
 * instruction; {@link #build()} resolves labels into slot offsets.
 *
 * <pre>{@code
 * List<Instruction> prog = new Asm()
 *     .mov64(R0, 2)          // XDP_PASS
 *     .exit()
 *     .build();
 * }</pre>
 */
public final class Asm {
    private record Pending(Instruction insn, String label) {}

    private final List<Pending> insns = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    private Asm add(Instruction i) {
        insns.add(new Pending(i, null));
        return this;
    }

    private Asm jump(Instruction i, String label) {
        insns.add(new Pending(i, label));
        return this;
    }

    /** Defines {@code name} at the next instruction. */
    public Asm label(String name) {
        if (labels.put(name, insns.size()) != null) {
            throw new IllegalArgumentException("label defined twice: " + name);
        }
        return this;
    }

    /** Appends a raw instruction. */
    public Asm raw(Instruction i) {
        return add(i);
    }

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

    /** dst op= imm (64-bit), op being one of the ALU operation constants. */
    public Asm alu64(int op, Register dst, int imm) {
        return add(new Instruction(ALU64 | op | K, dst, Register.R0, 0, imm));
    }

    /** dst op= src (64-bit). */
    public Asm alu64(int op, Register dst, Register src) {
        return add(new Instruction(ALU64 | op | X, dst, src, 0, 0));
    }

    /** dst += imm. */
    public Asm add64(Register dst, int imm) {
        return alu64(ADD, dst, imm);
    }

    /** dst += src. */
    public Asm add64(Register dst, Register src) {
        return alu64(ADD, dst, src);
    }

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

    /** dst = *(size *)(src + off); size is W, H, B or DW. */
    public Asm ldx(int size, Register dst, Register src, int off) {
        return add(new Instruction(LDX | size | MEM, dst, src, off, 0));
    }

    /** *(size *)(dst + off) = src. */
    public Asm stx(int size, Register dst, int off, Register src) {
        return add(new Instruction(STX | size | MEM, dst, src, off, 0));
    }

    /** *(size *)(dst + off) = imm. */
    public Asm st(int size, Register dst, int off, int imm) {
        return add(new Instruction(ST | size | MEM, dst, Register.R0, off, imm));
    }

    /** Atomic *(size *)(dst + off) += src (size W or DW). */
    public Asm atomicAdd(int size, Register dst, int off, Register src) {
        return add(new Instruction(STX | size | ATOMIC, dst, src, off, ADD));
    }

    /** if (dst op imm) goto label; op is a jump operation constant such as JEQ. */
    public Asm jmp(int op, Register dst, int imm, String label) {
        return jump(new Instruction(JMP | op | K, dst, Register.R0, 0, imm), label);
    }

    /** if (dst op src) goto label. */
    public Asm jmp(int op, Register dst, Register src, String label) {
        return jump(new Instruction(JMP | op | X, dst, src, 0, 0), label);
    }

    /** goto label. */
    public Asm ja(String label) {
        return jump(new Instruction(JMP | JA, Register.R0, Register.R0, 0, 0), label);
    }

    /** Calls helper number {@code helper}. */
    public Asm call(int helper) {
        return add(new Instruction(JMP | CALL, Register.R0, Register.R0, 0, helper));
    }

    /** Calls a helper. */
    public Asm call(Helper helper) {
        return call(helper.id());
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
            if (rel < Short.MIN_VALUE || rel > Short.MAX_VALUE) {
                throw new IllegalArgumentException("jump to " + p.label() + " is too far: " + rel + " slots");
            }
            out.add(p.insn().withOffset(rel));
        }
        return out;
    }
}

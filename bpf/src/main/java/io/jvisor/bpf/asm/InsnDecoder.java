package io.jvisor.bpf.asm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.jvisor.bpf.asm.Opcodes.*;

/** Raw instruction to {@link Insn}: the strict, total decoder behind {@link Insn#decode(Instruction)}. */
final class InsnDecoder {
    private InsnDecoder() {}

    /** Thrown inside the decoder; carries only the reason, the caller adds opcode and slot. */
    private static final class Bad extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Bad(String reason) {
            super(reason, null, false, false);
        }
    }

    static Insn decode(Instruction raw) {
        try {
            return decodeOrThrow(raw);
        } catch (Bad b) {
            throw new InvalidInstructionException(raw.opcode(), -1, b.getMessage());
        }
    }

    /** Decodes the instruction that starts at byte {@code at} of {@code code}. */
    static Insn decodeAt(byte[] code, int at) {
        int slot = at / Instruction.SLOT;
        int op = at < code.length ? Byte.toUnsignedInt(code[at]) : 0;
        if (at + Instruction.SLOT > code.length) {
            throw new InvalidInstructionException(op, slot, "the code ends inside the instruction ("
                    + (code.length - at) + " of 8 bytes)");
        }
        int regs = Byte.toUnsignedInt(code[at + 1]);
        int dst = regs & 0xf;
        int src = regs >>> 4;
        if (dst > 10 || src > 10) {
            throw new InvalidInstructionException(op, slot, "register r" + (dst > 10 ? dst : src)
                    + " does not exist (r0..r10)");
        }
        short off = (short) le16(code, at + 2);
        long imm = le32(code, at + 4);
        if (op == LD_IMM64) {
            if (at + 2 * Instruction.SLOT > code.length) {
                throw new InvalidInstructionException(op, slot, "lddw needs two slots, the code ends after one");
            }
            if (code[at + 8] != 0 || code[at + 9] != 0 || le16(code, at + 10) != 0) {
                throw new InvalidInstructionException(op, slot,
                        "the second slot of lddw must have zero opcode, registers and offset");
            }
            imm = (imm & 0xffffffffL) | ((long) le32(code, at + 12) << 32);
        }
        Instruction raw = new Instruction(op, Register.of(dst), Register.of(src), off, imm, null);
        try {
            return decodeOrThrow(raw);
        } catch (Bad b) {
            throw new InvalidInstructionException(op, slot, b.getMessage());
        }
    }

    static List<Insn> decodeBytes(byte[] code) {
        List<Insn> out = new ArrayList<>(code.length / Instruction.SLOT);
        int at = 0;
        while (at < code.length) {
            Insn insn = decodeAt(code, at);
            out.add(insn);
            at += insn.slots() * Instruction.SLOT;
        }
        return List.copyOf(out);
    }

    private static int le16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    private static int le32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

    private static Insn decodeOrThrow(Instruction raw) {
        int op = raw.opcode();
        long imm64 = raw.imm();
        if (op != LD_IMM64 && (imm64 < Integer.MIN_VALUE || imm64 > Integer.MAX_VALUE)) {
            throw new Bad("immediate " + imm64 + " does not fit 32 bits");
        }
        Insn insn = switch (classOf(op)) {
            case ALU, ALU64 -> alu(raw);
            case JMP, JMP32 -> jump(raw);
            case LD -> ld(raw);
            case LDX -> ldx(raw);
            case ST -> st(raw);
            default -> stx(raw);
        };
        if (raw.reference() != null && !(insn instanceof Insn.LoadImm64 || insn instanceof Insn.Call)) {
            throw new Bad("only lddw and call instructions carry a symbol reference, not '" + raw.reference() + "'");
        }
        return insn;
    }

    private static Insn alu(Instruction raw) {
        int op = raw.opcode();
        Width width = classOf(op) == ALU64 ? Width.W64 : Width.W32;
        int code = op & 0xf0;
        boolean x = (op & X) != 0;
        int imm = (int) raw.imm();
        int off = raw.offset();
        switch (code) {
            case NEG -> {
                requireK(x, "neg");
                requireR0(raw.src(), "source register", "neg");
                requireZero(imm, "immediate", "neg");
                requireZero(off, "offset", "neg");
                return new Insn.Neg(width, raw.dst());
            }
            case END -> {
                requireR0(raw.src(), "source register", "a byte swap");
                requireZero(off, "offset", "a byte swap");
                if (imm != 16 && imm != 32 && imm != 64) {
                    throw new Bad("byte swap width must be 16, 32 or 64, not " + imm);
                }
                if (width == Width.W64 && x) {
                    throw new Bad("BPF_END with source X is reserved in class ALU64");
                }
                Insn.ByteSwap.Order order = width == Width.W64 ? Insn.ByteSwap.Order.BSWAP
                        : x ? Insn.ByteSwap.Order.BE : Insn.ByteSwap.Order.LE;
                return new Insn.ByteSwap(order, imm, raw.dst());
            }
            default -> {
                if (code == MOV && x && off != 0) {
                    if (off != 8 && off != 16 && !(off == 32 && width == Width.W64)) {
                        throw new Bad("movsx sign-extends 8, 16" + (width == Width.W64 ? " or 32" : "")
                                + " bits, not " + off);
                    }
                    requireZero(imm, "immediate", "movsx");
                    return new Insn.MovSx(width, Size.ofBytes(off / 8), raw.dst(), raw.src());
                }
                AluOp aop = AluOp.of(code, off);
                if (aop == null) {
                    AluOp plain = AluOp.of(code, 0);
                    if (plain == null) {
                        throw new Bad(String.format(Locale.ROOT, "no ALU operation 0x%02x", code));
                    }
                    throw new Bad("offset " + off + " is reserved (must be 0) for " + name(plain));
                }
                if (x) {
                    requireZero(imm, "immediate", name(aop) + " with a register source");
                    return new Insn.Alu(width, aop, raw.dst(), raw.src());
                }
                requireR0(raw.src(), "source register", name(aop) + " with an immediate");
                return new Insn.Alu(width, aop, raw.dst(), new Imm(imm));
            }
        }
    }

    private static Insn jump(Instruction raw) {
        int op = raw.opcode();
        boolean jmp64 = classOf(op) == JMP;
        int code = op & 0xf0;
        boolean x = (op & X) != 0;
        int imm = (int) raw.imm();
        int off = raw.offset();
        switch (code) {
            case JA -> {
                String what = jmp64 ? "goto" : "gotol";
                requireK(x, what);
                requireR0(raw.dst(), "destination register", what);
                requireR0(raw.src(), "source register", what);
                if (jmp64) {
                    requireZero(imm, "immediate", what);
                    return new Insn.Goto(off);
                }
                requireZero(off, "offset", what);
                return new Insn.GotoLong(imm);
            }
            case CALL -> {
                requireJmp64(jmp64, "call");
                if (x) {
                    requireR0(raw.src(), "source register", "callx");
                    requireZero(off, "offset", "callx");
                    requireZero(imm, "immediate", "callx");
                    return new Insn.CallX(raw.dst());
                }
                requireR0(raw.dst(), "destination register", "call");
                int kind = raw.src().number();
                if (kind > 2) {
                    throw new Bad("call source " + kind + " is not a call kind (0 helper, 1 local, 2 kfunc)");
                }
                if (kind != 2) {
                    requireZero(off, "offset", "a helper or local call");
                }
                return new Insn.Call(Insn.Call.Kind.values()[kind], imm, off, raw.reference());
            }
            case EXIT -> {
                requireJmp64(jmp64, "exit");
                requireK(x, "exit");
                requireR0(raw.dst(), "destination register", "exit");
                requireR0(raw.src(), "source register", "exit");
                requireZero(off, "offset", "exit");
                requireZero(imm, "immediate", "exit");
                return new Insn.Exit();
            }
            case JCOND -> {
                requireJmp64(jmp64, "may_goto");
                requireK(x, "may_goto");
                requireR0(raw.dst(), "destination register", "may_goto");
                if (raw.src() != Register.R0) {
                    throw new Bad("JCOND source " + raw.src().number() + " is not a condition (0 may_goto)");
                }
                requireZero(imm, "immediate", "may_goto");
                return new Insn.MayGoto(off);
            }
            default -> {
                JumpOp jop = JumpOp.of(code);
                if (jop == null) {
                    throw new Bad(String.format(Locale.ROOT, "no jump operation 0x%02x", code));
                }
                Width width = jmp64 ? Width.W64 : Width.W32;
                if (x) {
                    requireZero(imm, "immediate", "a jump with a register source");
                    return new Insn.Jump(width, jop, raw.dst(), raw.src(), off);
                }
                requireR0(raw.src(), "source register", "a jump with an immediate");
                return new Insn.Jump(width, jop, raw.dst(), new Imm(imm), off);
            }
        }
    }

    private static Insn ld(Instruction raw) {
        int op = raw.opcode();
        Size size = Size.ofOpcode(op);
        int mode = op & 0xe0;
        int imm = (int) raw.imm();
        switch (mode) {
            case IMM -> {
                if (size != Size.DW) {
                    throw new Bad("LD IMM exists only as the 8-byte lddw (opcode 0x18)");
                }
                requireZero(raw.offset(), "offset", "lddw");
                int kind = raw.src().number();
                if (kind >= Insn.LoadImm64.Kind.values().length) {
                    throw new Bad("lddw source " + kind + " is not a pseudo kind (0..6)");
                }
                return new Insn.LoadImm64(raw.dst(), Insn.LoadImm64.Kind.values()[kind], raw.imm(), raw.reference());
            }
            case ABS, IND -> {
                String what = mode == ABS ? "an absolute packet load" : "an indirect packet load";
                if (size == Size.DW) {
                    throw new Bad("legacy packet loads are 1, 2 or 4 bytes wide, not 8");
                }
                requireR0(raw.dst(), "destination register", what);
                requireZero(raw.offset(), "offset", what);
                if (mode == ABS) {
                    requireR0(raw.src(), "source register", what);
                    return new Insn.LoadAbs(size, imm);
                }
                return new Insn.LoadInd(size, raw.src(), imm);
            }
            default -> throw new Bad(String.format(Locale.ROOT, "mode 0x%02x is not defined for class LD", mode));
        }
    }

    private static Insn ldx(Instruction raw) {
        int op = raw.opcode();
        Size size = Size.ofOpcode(op);
        int mode = op & 0xe0;
        if (mode == MEM) {
            requireZero((int) raw.imm(), "immediate", "a load");
            return new Insn.Load(size, raw.dst(), raw.src(), raw.offset());
        }
        if (mode == MEMSX) {
            if (size == Size.DW) {
                throw new Bad("sign-extending loads are 1, 2 or 4 bytes wide, not 8");
            }
            requireZero((int) raw.imm(), "immediate", "a sign-extending load");
            return new Insn.LoadSx(size, raw.dst(), raw.src(), raw.offset());
        }
        throw new Bad(String.format(Locale.ROOT, "mode 0x%02x is not defined for class LDX", mode));
    }

    private static Insn st(Instruction raw) {
        int op = raw.opcode();
        if ((op & 0xe0) != MEM) {
            throw new Bad(String.format(Locale.ROOT, "mode 0x%02x is not defined for class ST", op & 0xe0));
        }
        requireR0(raw.src(), "source register", "a store of an immediate");
        return new Insn.Store(Size.ofOpcode(op), raw.dst(), raw.offset(), new Imm((int) raw.imm()));
    }

    private static Insn stx(Instruction raw) {
        int op = raw.opcode();
        Size size = Size.ofOpcode(op);
        int mode = op & 0xe0;
        int imm = (int) raw.imm();
        if (mode == MEM) {
            requireZero(imm, "immediate", "a store of a register");
            return new Insn.Store(size, raw.dst(), raw.offset(), raw.src());
        }
        if (mode != ATOMIC) {
            throw new Bad(String.format(Locale.ROOT, "mode 0x%02x is not defined for class STX", mode));
        }
        if (imm == LOAD_ACQ) {
            return new Insn.LoadAcquire(size, raw.dst(), raw.src(), raw.offset());
        }
        if (imm == STORE_REL) {
            return new Insn.StoreRelease(size, raw.dst(), raw.offset(), raw.src());
        }
        AtomicOp aop = AtomicOp.of(imm);
        if (aop == null) {
            throw new Bad(String.format(Locale.ROOT, "atomic operation 0x%x is not defined", imm));
        }
        if (size != Size.W && size != Size.DW) {
            throw new Bad("atomic operations are 4 or 8 bytes wide, not " + size.bytes());
        }
        return new Insn.Atomic(size, aop, raw.dst(), raw.offset(), raw.src());
    }

    private static String name(AluOp op) {
        return op.name().toLowerCase(Locale.ROOT);
    }

    private static void requireZero(int value, String field, String what) {
        if (value != 0) {
            throw new Bad(field + " " + value + " is reserved (must be 0) for " + what);
        }
    }

    private static void requireR0(Register r, String field, String what) {
        if (r != Register.R0) {
            throw new Bad(field + " r" + r.number() + " is reserved (must be 0) for " + what);
        }
    }

    private static void requireK(boolean x, String what) {
        if (x) {
            throw new Bad(what + " has no register-source (X) form");
        }
    }

    private static void requireJmp64(boolean jmp64, String what) {
        if (!jmp64) {
            throw new Bad(what + " is not defined in class JMP32");
        }
    }
}

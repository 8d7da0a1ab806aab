package io.jvisor.bpf.asm;

import io.jvisor.bpf.asm.Labels.Pending;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one instruction in the bpf_conformance {@code -- asm} dialect: a mnemonic and operands
 * ({@code mov %r0, 1}, {@code ldxw %r1, [%r2+4]}, {@code jeq32 %r1, 0, label}, {@code movsx1632 %r0, %r1},
 * {@code lock fetch add [%r10-8], %r1}).
 */
final class ConformanceSyntax {
    private static final Pattern MOVSX = Pattern.compile("movsx(8|16|32)(32|64)");

    private final AsmLine line;

    private ConformanceSyntax(AsmLine line) {
        this.line = line;
    }

    /** The instruction a mnemonic and its operands name, the cursor on the mnemonic. */
    static Pending instruction(AsmLine line) {
        return new ConformanceSyntax(line).instruction();
    }

    /** An atomic instruction, the cursor after {@code lock}: {@code [fetch] OP[32|64] [addr], src}. */
    static Pending atomic(AsmLine line) {
        return new ConformanceSyntax(line).atomic();
    }


    private Pending instruction() {
        String mnemonic = line.next();
        if (!Tokens.isIdentifier(mnemonic)) {
            throw line.error("expected an instruction");
        }
        Matcher m = MOVSX.matcher(mnemonic);
        if (m.matches()) {
            Width w = m.group(2).equals("32") ? Width.W32 : Width.W64;
            Size from = Size.ofBytes(Integer.parseInt(m.group(1)) / 8);
            Register dst = line.register().reg();
            line.expect(",");
            Register src = line.register().reg();
            return line.done(line.checked(() -> new Insn.MovSx(w, from, dst, src)));
        }
        m = AsmLine.SWAP.matcher(mnemonic);
        if (m.matches()) {
            return line.done(line.byteSwap(m.group(1), Integer.parseInt(m.group(2)), line.register().reg()));
        }
        if (mnemonic.startsWith("ldx") || mnemonic.startsWith("stx") || mnemonic.startsWith("st")) {
            Size size = memSize(mnemonic);
            if (size != null) {
                return memory(mnemonic, size);
            }
        }
        Width w = Width.W64;
        String base = mnemonic;
        if (mnemonic.endsWith("32")) {
            w = Width.W32;
            base = mnemonic.substring(0, mnemonic.length() - 2);
        } else if (mnemonic.endsWith("64")) {
            base = mnemonic.substring(0, mnemonic.length() - 2);
        }
        if (base.equals("neg")) {
            return line.done(new Insn.Neg(w, line.register().reg()));
        }
        AluOp alu = aluByName(base);
        if (alu != null) {
            Register dst = line.register().reg();
            line.expect(",");
            return line.done(new Insn.Alu(w, alu, dst, line.operand(null)));
        }
        JumpOp jop = jumpByName(base);
        if (jop != null) {
            Register dst = line.register().reg();
            line.expect(",");
            Operand src = line.operand(null);
            line.expect(",");
            Width width = w;
            return line.jumpTo(line.target(), off -> new Insn.Jump(width, jop, dst, src, off));
        }
        throw line.error("unknown instruction '" + mnemonic + "'");
    }

    private Pending memory(String mnemonic, Size size) {
        if (mnemonic.startsWith("ldx")) {
            Register dst = line.register().reg();
            line.expect(",");
            AsmLine.Address a = line.bracketAddress();
            boolean signed = mnemonic.startsWith("ldxs");
            return line.done(line.checked(() -> signed ? new Insn.LoadSx(size, dst, a.base(), a.offset())
                    : new Insn.Load(size, dst, a.base(), a.offset())));
        }
        AsmLine.Address a = line.bracketAddress();
        line.expect(",");
        if (mnemonic.startsWith("stx")) {
            return line.done(new Insn.Store(size, a.base(), a.offset(), line.register().reg()));
        }
        return line.done(new Insn.Store(size, a.base(), a.offset(), new Imm(line.imm32(line.signedNumber()))));
    }

    private static Size memSize(String mnemonic) {
        String rest = mnemonic.startsWith("ldxs") ? mnemonic.substring(4)
                : mnemonic.startsWith("ldx") || mnemonic.startsWith("stx") ? mnemonic.substring(3)
                : mnemonic.substring(2);
        return switch (rest) {
            case "b" -> Size.B;
            case "h" -> Size.H;
            case "w" -> Size.W;
            case "dw" -> Size.DW;
            default -> null;
        };
    }

    private Pending atomic() {
        boolean fetch = false;
        if ("fetch".equals(line.peek())) {
            line.next();
            fetch = true;
        }
        String name = line.next();
        if (name == null) {
            throw line.error("lock needs an operation");
        }
        Size size = Size.DW;
        if (name.endsWith("32")) {
            size = Size.W;
            name = name.substring(0, name.length() - 2);
        } else if (name.endsWith("64")) {
            name = name.substring(0, name.length() - 2);
        }
        boolean always = name.equals("xchg") || name.equals("cmpxchg");
        AtomicOp op = AtomicOp.of(name, fetch || always);
        if (op == null) {
            throw line.error("unknown atomic operation '" + name + "'");
        }
        AsmLine.Address a = line.bracketAddress();
        line.expect(",");
        Register src = line.register().reg();
        Size s = size;
        return line.done(line.checked(() -> new Insn.Atomic(s, op, a.base(), a.offset(), src)));
    }

    private static AluOp aluByName(String name) {
        for (AluOp a : AluOp.values()) {
            if (a.name().toLowerCase(Locale.ROOT).equals(name)) {
                return a;
            }
        }
        return null;
    }

    private static JumpOp jumpByName(String name) {
        for (JumpOp j : JumpOp.values()) {
            if (j.name().toLowerCase(Locale.ROOT).equals(name)) {
                return j;
            }
        }
        return null;
    }
}

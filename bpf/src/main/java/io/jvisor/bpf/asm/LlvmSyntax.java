package io.jvisor.bpf.asm;

import io.jvisor.bpf.asm.Labels.Pending;

import java.math.BigInteger;
import java.util.regex.Matcher;

/**
 * Reads one instruction line in the llvm syntax ({@code r1 = *(u32 *)(r2 + 0x4)}, {@code if w1 s> 0x3e8
 * goto +0x4}, {@code call bpf_map_lookup_elem}), and hands what llvm never writes ({@code mov %r0, 1},
 * {@code lock fetch add [...]}) to {@link ConformanceSyntax}.
 */
final class LlvmSyntax {
    private final AsmLine line;

    private LlvmSyntax(AsmLine line) {
        this.line = line;
    }

    /** The instruction of {@code line}, in either dialect. */
    static Pending parse(AsmLine line) {
        return new LlvmSyntax(line).parse();
    }

    private Pending parse() {
        String first = line.peek();
        if (first == null) {
            throw line.error("empty instruction");
        }
        switch (first) {
            case "exit" -> {
                line.next();
                return line.done(new Insn.Exit());
            }
            case "call" -> {
                line.next();
                return call();
            }
            case "callx" -> {
                line.next();
                return line.done(new Insn.CallX(line.register().reg()));
            }
            case "goto", "ja" -> {
                line.next();
                return line.jumpTo(line.target(), Insn.Goto::new);
            }
            case "gotol", "ja32" -> {
                line.next();
                return line.jumpTo(line.target(), Insn.GotoLong::new);
            }
            case "may_goto" -> {
                line.next();
                return line.jumpTo(line.target(), Insn.MayGoto::new);
            }
            case "if" -> {
                line.next();
                return ifJump();
            }
            case "lock" -> {
                line.next();
                return "*".equals(line.peek()) ? llvmAtomic() : ConformanceSyntax.atomic(line);
            }
            case "ld_pseudo" -> {
                line.next();
                return ldPseudo();
            }
            case "store_release" -> {
                line.next();
                return storeRelease();
            }
            case "lddw" -> {
                line.next();
                AsmLine.Reg dst = line.register();
                line.expect(",");
                return loadImm64Value(dst.reg(), false);
            }
            case "*" -> {
                return store();
            }
            default -> {
                if (Tokens.isRegister(first)) {
                    return assignment();
                }
                return ConformanceSyntax.instruction(line);
            }
        }
    }


    private Pending assignment() {
        AsmLine.Reg dst = line.register();
        String op = line.next();
        if (op == null) {
            throw line.error("expected an operator after " + dst.name());
        }
        if (!op.equals("=")) {
            AluOp alu = aluByOperator(op);
            if (alu == null) {
                throw line.error("unknown operator '" + op + "'");
            }
            Operand src = line.operand(dst.width());
            return line.done(new Insn.Alu(line.width(dst), alu, dst.reg(), src));
        }
        String t = line.peek();
        if (t == null) {
            throw line.error("missing right-hand side");
        }
        if (t.equals("-") && Tokens.isRegister(line.peek(1))) {
            line.next();
            AsmLine.Reg src = line.register();
            if (src.reg() != dst.reg() || src.width() != dst.width()) {
                throw line.error("neg works in place: expected " + dst.name() + " = -" + dst.name());
            }
            return line.done(new Insn.Neg(line.width(dst), dst.reg()));
        }
        if (t.equals("(")) {
            line.next();
            String type = line.next();
            Matcher m = type == null ? null : AsmLine.MEM_TYPE.matcher(type);
            if (m == null || !m.matches() || !m.group(1).equals("s")) {
                throw line.error("expected (s8), (s16) or (s32) before the source register");
            }
            line.expect(")");
            AsmLine.Reg src = line.register();
            line.requireSameWidth(dst, src);
            return line.done(line.checked(() -> new Insn.MovSx(line.width(dst), Size.ofBytes(Integer.parseInt(m.group(2)) / 8),
                    dst.reg(), src.reg())));
        }
        if (t.equals("*")) {
            return load(dst);
        }
        Matcher swap = AsmLine.SWAP.matcher(t);
        if (swap.matches() && Tokens.isRegister(line.peek(1))) {
            line.next();
            AsmLine.Reg src = line.register();
            if (src.reg() != dst.reg()) {
                throw line.error("byte swaps work in place: expected " + dst.name() + " = " + t + " " + dst.name());
            }
            return line.done(line.byteSwap(swap.group(1), Integer.parseInt(swap.group(2)), dst.reg()));
        }
        if (t.startsWith("atomic_fetch_")) {
            line.next();
            return fetchAtomic(dst, t.substring("atomic_fetch_".length()));
        }
        if (t.equals("xchg_64") || t.equals("xchg32_32") || t.equals("cmpxchg_64") || t.equals("cmpxchg32_32")) {
            line.next();
            return xchg(dst, t);
        }
        if (t.equals("load_acquire")) {
            line.next();
            return loadAcquire(dst);
        }
        if (Tokens.isRegister(t)) {
            AsmLine.Reg src = line.register();
            line.requireSameWidth(dst, src);
            return line.done(new Insn.Alu(line.width(dst), AluOp.MOV, dst.reg(), src.reg()));
        }
        if (Tokens.isNumber(t) || ((t.equals("-") || t.equals("+")) && Tokens.isNumber(line.peek(1)))) {
            BigInteger v = line.signedNumber();
            if ("ll".equals(line.peek())) {
                line.next();
                line.requireWide(dst);
                return line.done(new Insn.LoadImm64(dst.reg(), Insn.LoadImm64.Kind.VALUE, line.imm64(v), null));
            }
            return line.done(new Insn.Alu(line.width(dst), AluOp.MOV, dst.reg(), new Imm(line.imm32(v))));
        }
        if (Tokens.isIdentifier(t)) {
            return loadImm64Symbol(dst);
        }
        throw line.error("cannot read the right-hand side '" + t + "'");
    }

    private Pending loadImm64Symbol(AsmLine.Reg dst) {
        String symbol = line.next();
        if (Tokens.isRegister(line.peek())) {
            throw line.error("unknown operation '" + symbol + "'");
        }
        long addend = 0;
        if ("+".equals(line.peek()) || "-".equals(line.peek())) {
            addend = line.imm64(line.signedNumber());
        }
        if (!"ll".equals(line.peek())) {
            throw line.error("a symbol operand needs 'll' (a 64-bit load): " + dst.name() + " = " + symbol + " ll");
        }
        line.next();
        line.requireWide(dst);
        return line.done(new Insn.LoadImm64(dst.reg(), Insn.LoadImm64.Kind.VALUE, addend, symbol));
    }

    private Pending loadImm64Value(Register dst, boolean ll) {
        String t = line.peek();
        if (Tokens.isIdentifier(t)) {
            line.next();
            if (ll) {
                line.expect("ll");
            }
            return line.done(new Insn.LoadImm64(dst, Insn.LoadImm64.Kind.VALUE, 0, t));
        }
        long v = line.imm64(line.signedNumber());
        if (ll) {
            line.expect("ll");
        }
        return line.done(new Insn.LoadImm64(dst, Insn.LoadImm64.Kind.VALUE, v, null));
    }

    private Pending load(AsmLine.Reg dst) {
        line.expect("*");
        line.expect("(");
        String type = line.next();
        Matcher m = type == null ? null : AsmLine.MEM_TYPE.matcher(type);
        if (m == null || !m.matches()) {
            throw line.error("expected a type such as u32 or s16 in *(u32 *)");
        }
        line.expect("*");
        line.expect(")");
        Size size = Size.ofBytes(Integer.parseInt(m.group(2)) / 8);
        boolean signed = m.group(1).equals("s");
        if ("skb".equals(line.peek())) {
            line.next();
            if (signed || dst.reg() != Register.R0 || size == Size.DW) {
                throw line.error("packet loads are r0 = *(u8/u16/u32 *)skb[...]");
            }
            line.expect("[");
            if (Tokens.isRegister(line.peek())) {
                Register src = line.register().reg();
                int off = 0;
                if ("+".equals(line.peek()) || "-".equals(line.peek())) {
                    off = line.imm32(line.signedNumber());
                }
                line.expect("]");
                return line.done(new Insn.LoadInd(size, src, off));
            }
            int off = line.imm32(line.signedNumber());
            line.expect("]");
            return line.done(new Insn.LoadAbs(size, off));
        }
        AsmLine.Address a = line.address();
        return line.done(line.checked(() -> signed ? new Insn.LoadSx(size, dst.reg(), a.base(), a.offset())
                : new Insn.Load(size, dst.reg(), a.base(), a.offset())));
    }

    private Pending store() {
        line.expect("*");
        Size size = line.pointerType();
        AsmLine.Address a = line.address();
        line.expect("=");
        Operand src = line.operand(null);
        return line.done(new Insn.Store(size, a.base(), a.offset(), src));
    }

    private Pending llvmAtomic() {
        line.expect("*");
        Size size = line.pointerType();
        AsmLine.Address a = line.address();
        String op = line.next();
        AtomicOp aop = null;
        for (AtomicOp o : AtomicOp.values()) {
            if (!o.fetch() && o.operator() != null && o.operator().equals(op)) {
                aop = o;
            }
        }
        if (aop == null) {
            throw line.error("expected +=, |=, &= or ^= after lock *(...)");
        }
        Register src = line.register().reg();
        AtomicOp chosen = aop;
        return line.done(line.checked(() -> new Insn.Atomic(size, chosen, a.base(), a.offset(), src)));
    }

    private Pending fetchAtomic(AsmLine.Reg dst, String name) {
        AtomicOp op = AtomicOp.of(name, true);
        if (op == null || op == AtomicOp.XCHG || op == AtomicOp.CMPXCHG) {
            throw line.error("unknown atomic operation atomic_fetch_" + name);
        }
        line.expect("(");
        Size size = line.pointerType();
        AsmLine.Address a = line.address();
        line.expect(",");
        AsmLine.Reg src = line.register();
        line.expect(")");
        if (src.reg() != dst.reg()) {
            throw line.error("atomic_fetch_" + name + " loads into its source: expected " + dst.name() + " = ...("
                    + dst.name() + ")");
        }
        return line.done(line.checked(() -> new Insn.Atomic(size, op, a.base(), a.offset(), src.reg())));
    }

    private Pending xchg(AsmLine.Reg dst, String name) {
        line.expect("(");
        Register base = line.register().reg();
        int off = line.displacement();
        line.expect(",");
        Size size = name.contains("32_") ? Size.W : Size.DW;
        if (name.startsWith("cmpxchg")) {
            AsmLine.Reg r0 = line.register();
            if (dst.reg() != Register.R0 || r0.reg() != Register.R0) {
                throw line.error("cmpxchg compares with and loads into r0: expected r0 = " + name + "(..., r0, src)");
            }
            line.expect(",");
            Register src = line.register().reg();
            line.expect(")");
            return line.done(line.checked(() -> new Insn.Atomic(size, AtomicOp.CMPXCHG, base, off, src)));
        }
        AsmLine.Reg src = line.register();
        line.expect(")");
        if (src.reg() != dst.reg()) {
            throw line.error("xchg loads into its source: expected " + dst.name() + " = " + name + "(..., "
                    + dst.name() + ")");
        }
        return line.done(line.checked(() -> new Insn.Atomic(size, AtomicOp.XCHG, base, off, src.reg())));
    }

    private Pending loadAcquire(AsmLine.Reg dst) {
        line.expect("(");
        Size size = line.pointerType();
        AsmLine.Address a = line.address();
        line.expect(")");
        return line.done(new Insn.LoadAcquire(size, dst.reg(), a.base(), a.offset()));
    }

    private Pending storeRelease() {
        line.expect("(");
        Size size = line.pointerType();
        AsmLine.Address a = line.address();
        line.expect(",");
        Register src = line.register().reg();
        line.expect(")");
        return line.done(new Insn.StoreRelease(size, a.base(), a.offset(), src));
    }

    private Pending ldPseudo() {
        Register dst = line.register().reg();
        line.expect(",");
        long kind = line.imm64(line.signedNumber());
        if (kind < 0 || kind >= Insn.LoadImm64.Kind.values().length) {
            throw line.error("ld_pseudo kind " + kind + " is not 0..6");
        }
        line.expect(",");
        String symbol = null;
        long low = 0;
        if (Tokens.isIdentifier(line.peek())) {
            symbol = line.next();
        } else {
            low = line.imm32(line.signedNumber()) & 0xffffffffL;
        }
        long high = 0;
        if (",".equals(line.peek())) {
            line.next();
            high = line.imm32(line.signedNumber()) & 0xffffffffL;
        }
        return line.done(new Insn.LoadImm64(dst, Insn.LoadImm64.Kind.values()[(int) kind], low | high << 32, symbol));
    }

    private Pending ifJump() {
        AsmLine.Reg dst = line.register();
        String op = line.next();
        JumpOp jop = null;
        for (JumpOp o : JumpOp.values()) {
            if (o.operator().equals(op)) {
                jop = o;
            }
        }
        if (jop == null) {
            throw line.error("unknown comparison '" + op + "'");
        }
        Operand src = line.operand(dst.width());
        line.expect("goto");
        JumpOp cond = jop;
        return line.jumpTo(line.target(), off -> new Insn.Jump(line.width(dst), cond, dst.reg(), src, off));
    }

    private Pending call() {
        String t = line.peek();
        if (t == null) {
            throw line.error("call needs a target");
        }
        if (t.equals("local")) {
            line.next();
            return localCall();
        }
        if (t.equals("kfunc") || t.equals("runtime")) {
            line.next();
            int id = line.imm32(line.signedNumber());
            int off = 0;
            if (",".equals(line.peek())) {
                line.next();
                off = line.imm32(line.signedNumber());
            }
            int offset = off;
            return line.done(line.checked(() -> new Insn.Call(Insn.Call.Kind.KFUNC, id, offset, null)));
        }
        if (t.equals("helper")) {
            line.next();
            t = line.peek();
        }
        if ("%".equals(t) || Tokens.isRegister(t)) {
            return line.done(new Insn.CallX(line.register().reg()));
        }
        if (Tokens.isIdentifier(t)) {
            line.next();
            Helper h = helperNamed(t);
            String name = t;
            Insn unresolved = h != null ? Insn.Call.helper(h) : Insn.Call.local(name);
            line.expectEnd();
            return line.pending(Insn.Call.local(0), name, Insn.Call::local, s -> unresolved);
        }
        return line.done(Insn.Call.helper(line.imm32(line.signedNumber())));
    }

    private Pending localCall() {
        AsmLine.Target t = line.target();
        line.expectEnd();
        if (t.label() == null) {
            return line.pending(Insn.Call.local(t.offset()), null, null, null);
        }
        return line.pending(Insn.Call.local(0), t.label(), Insn.Call::local, Insn.Call::local);
    }

    private static AluOp aluByOperator(String op) {
        for (AluOp a : AluOp.values()) {
            if (a != AluOp.MOV && a.operator().equals(op)) {
                return a;
            }
        }
        return null;
    }

    private static Helper helperNamed(String name) {
        for (Helper h : Helper.values()) {
            if (h.cName().equals(name)) {
                return h;
            }
        }
        return null;
    }
}

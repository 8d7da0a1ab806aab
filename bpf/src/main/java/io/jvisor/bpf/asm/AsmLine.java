package io.jvisor.bpf.asm;

import io.jvisor.bpf.asm.Labels.Pending;

import java.math.BigInteger;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One instruction line being read: its tokens and a cursor over them, and the operands both dialects
 * share (registers, numbers that must fit their field, memory operands, jump targets). Every error it
 * raises names the line.
 */
final class AsmLine {
    /** {@code u32}, {@code s16}: the type of a memory operand. */
    static final Pattern MEM_TYPE = Pattern.compile("([us])(8|16|32|64)");
    /** {@code be16}, {@code bswap64}: a byte swap. */
    static final Pattern SWAP = Pattern.compile("(le|be|bswap|swap)(16|32|64)");

    private final int lineNo;
    private final String raw;
    private final byte[] listed;
    private final List<String> tokens;
    private int pos;

    AsmLine(int lineNo, String raw, String line, byte[] listed) {
        this.lineNo = lineNo;
        this.raw = raw;
        this.listed = listed;
        this.tokens = Tokens.tokenize(line);
    }

    /** An error about this line. */
    AssemblyException error(String reason) {
        return new AssemblyException(lineNo, raw, reason);
    }

    /** The instruction {@code insn}, once nothing follows it on the line. */
    Pending done(Insn insn) {
        expectEnd();
        return new Pending(lineNo, raw, insn, null, null, null, listed);
    }

    /** The jump {@code make} makes to target {@code t}, now for an offset, or once its label is resolved. */
    Pending jumpTo(Target t, IntFunction<Insn> make) {
        skipAnnotation();
        expectEnd();
        if (t.label() == null) {
            return new Pending(lineNo, raw, checked(() -> make.apply(t.offset())), null, null, null, listed);
        }
        return new Pending(lineNo, raw, make.apply(0), t.label(), make, null, listed);
    }

    /** An instruction of this line that waits for {@code label} (see {@link Labels.Pending}). */
    Pending pending(Insn insn, String label, IntFunction<Insn> resolve, Function<String, Insn> unresolved) {
        return new Pending(lineNo, raw, insn, label, resolve, unresolved, listed);
    }

    // ---- operands ----

    /** A register as written: {@code r1} (64 bits), {@code w1} (32 bits) or {@code %r1} (width from the mnemonic). */
    record Reg(Register reg, Width width, String name) {}

    /** A memory operand: base register and displacement. */
    record Address(Register base, int offset) {}

    /** A jump or call target: a slot offset, or a label. */
    record Target(int offset, String label) {}

    Reg register() {
        String t = next();
        boolean percent = "%".equals(t);
        if (percent) {
            t = next();
        }
        if (t == null || !Tokens.isRegister(t)) {
            throw error("expected a register, found " + (t == null ? "the end of the line" : "'" + t + "'"));
        }
        int n = Integer.parseInt(t.substring(1));
        if (n > 10) {
            throw error("register " + t + " does not exist (r0..r10)");
        }
        Width w = percent ? null : t.charAt(0) == 'w' ? Width.W32 : Width.W64;
        return new Reg(Register.of(n), w, t);
    }

    Width width(Reg r) {
        return r.width() == null ? Width.W64 : r.width();
    }

    void requireSameWidth(Reg dst, Reg src) {
        if (dst.width() != null && src.width() != null && dst.width() != src.width()) {
            throw error("mixed register widths " + dst.name() + " and " + src.name());
        }
    }

    void requireWide(Reg dst) {
        if (dst.width() == Width.W32) {
            throw error("lddw loads 64 bits: use r" + dst.reg().number() + ", not " + dst.name());
        }
    }

    Operand operand(Width width) {
        String t = peek();
        if ("%".equals(t) || Tokens.isRegister(t)) {
            Reg r = register();
            if (width != null && r.width() != null && width != r.width()) {
                throw error("mixed register widths: " + r.name());
            }
            return r.reg();
        }
        return new Imm(imm32(signedNumber()));
    }

    Size pointerType() {
        expect("(");
        String type = next();
        Matcher m = type == null ? null : MEM_TYPE.matcher(type);
        if (m == null || !m.matches() || !m.group(1).equals("u")) {
            throw error("expected a type such as u32 in (u32 *)");
        }
        expect("*");
        expect(")");
        return Size.ofBytes(Integer.parseInt(m.group(2)) / 8);
    }

    /** {@code (r1 + 0x8)} or {@code (r1 - 8)}. */
    Address address() {
        expect("(");
        Register base = register().reg();
        int off = displacement();
        expect(")");
        return new Address(base, off);
    }

    int displacement() {
        String sign = next();
        if (!"+".equals(sign) && !"-".equals(sign)) {
            throw error("expected + or - and a displacement after the base register");
        }
        BigInteger v = number();
        v = sign.equals("-") ? v.negate() : v;
        return offset16(v, false);
    }

    /** {@code [%r1+8]}, {@code [%r10-8]} or {@code [%r1]}. */
    Address bracketAddress() {
        expect("[");
        Register base = register().reg();
        int off = 0;
        if (!"]".equals(peek())) {
            String sign = next();
            if (!"+".equals(sign) && !"-".equals(sign)) {
                throw error("expected + or - in [reg+offset]");
            }
            BigInteger v = number();
            off = offset16(sign.equals("-") ? v.negate() : v, true);
        }
        expect("]");
        return new Address(base, off);
    }

    Target target() {
        String t = peek();
        if (t == null) {
            throw error("missing jump target");
        }
        if (t.equals("+") || t.equals("-") || Tokens.isNumber(t)) {
            BigInteger v = signedNumber();
            if (v.bitLength() > 31) {
                throw error("jump target " + v + " does not fit 32 bits");
            }
            return new Target(v.intValue(), null);
        }
        if (Tokens.isIdentifier(t)) {
            next();
            return new Target(0, t);
        }
        throw error("expected a jump target (+N, -N or a label), found '" + t + "'");
    }

    /** Skips llvm-objdump's {@code <symbol+0x10>} annotation of a jump target. */
    void skipAnnotation() {
        if ("<".equals(peek()) && ">".equals(tokens.getLast())) {
            pos = tokens.size();
        }
    }

    BigInteger signedNumber() {
        String t = peek();
        boolean negative = false;
        if ("-".equals(t) || "+".equals(t)) {
            negative = t.equals("-");
            next();
        }
        BigInteger v = number();
        return negative ? v.negate() : v;
    }

    BigInteger number() {
        String t = next();
        if (t == null || !Tokens.isNumber(t)) {
            throw error("expected a number, found " + (t == null ? "the end of the line" : "'" + t + "'"));
        }
        return t.startsWith("0x") || t.startsWith("0X") ? new BigInteger(t.substring(2), 16) : new BigInteger(t);
    }

    /** A 32-bit immediate: signed, or an unsigned bit pattern up to 0xffffffff. */
    int imm32(BigInteger v) {
        if (v.compareTo(BigInteger.valueOf(Integer.MIN_VALUE)) < 0 || v.compareTo(BigInteger.valueOf(0xffffffffL)) > 0) {
            throw error("immediate " + v + " does not fit 32 bits");
        }
        return v.intValue();
    }

    /** A 64-bit immediate: signed, or an unsigned bit pattern. */
    long imm64(BigInteger v) {
        if (v.compareTo(BigInteger.valueOf(Long.MIN_VALUE)) < 0 || v.bitLength() > 64) {
            throw error("immediate " + v + " does not fit 64 bits");
        }
        return v.longValue();
    }

    int offset16(BigInteger v, boolean bitPattern) {
        BigInteger max = BigInteger.valueOf(bitPattern ? 0xffff : Short.MAX_VALUE);
        if (v.compareTo(BigInteger.valueOf(Short.MIN_VALUE)) < 0 || v.compareTo(max) > 0) {
            throw error("offset " + v + " does not fit 16 bits");
        }
        return (short) v.intValue();
    }

    Insn byteSwap(String kind, int bits, Register dst) {
        Insn.ByteSwap.Order order = switch (kind) {
            case "le" -> Insn.ByteSwap.Order.LE;
            case "be" -> Insn.ByteSwap.Order.BE;
            default -> Insn.ByteSwap.Order.BSWAP;
        };
        return new Insn.ByteSwap(order, bits, dst);
    }

    Insn checked(java.util.function.Supplier<Insn> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }

    // ---- tokens ----

    // ---- tokens ----

    String peek() {
        return peek(0);
    }

    String peek(int ahead) {
        return pos + ahead < tokens.size() ? tokens.get(pos + ahead) : null;
    }

    String next() {
        return pos < tokens.size() ? tokens.get(pos++) : null;
    }

    void expect(String token) {
        String t = next();
        if (!token.equals(t)) {
            throw error("expected '" + token + "', found " + (t == null ? "the end of the line" : "'" + t + "'"));
        }
    }

    void expectEnd() {
        if (pos < tokens.size()) {
            throw error("unexpected '" + String.join(" ", tokens.subList(pos, tokens.size())) + "'");
        }
    }
}

package io.jvisor.bpf.asm;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns assembly text into instructions. It reads two dialects, line by line, freely mixed:
 *
 * <ul>
 *   <li>the llvm syntax that {@code llvm-objdump -d} prints and {@link Disassembler} writes
 *       ({@code r1 = *(u32 *)(r2 + 0x4)}, {@code if w1 s> 0x3e8 goto +0x4}, {@code lock *(u64 *)(r0 + 0x0) += r1},
 *       {@code r1 = 0x0 ll}, {@code call 0x1}), with decimal or hexadecimal numbers, so the output
 *       of llvm-objdump 14 and 19 and of {@code clang -S} instructions is accepted. Whole
 *       {@code llvm-objdump -d} or {@code -dr} listings are accepted too: file and section lines are
 *       skipped, symbol headings become labels, the slot and byte columns are dropped (the bytes
 *       are checked against the text, and give the kind of a call, which the text does not show),
 *       jump annotations such as {@code <LBB0_2>} are ignored, and a relocation line gives the
 *       instruction above it its symbol reference;</li>
 *   <li>the bpf_conformance {@code -- asm} dialect ({@code mov %r0, 1}, {@code ldxw %r1, [%r2+4]},
 *       {@code jeq32 %r1, 0, label}, {@code lock fetch add [%r10-8], %r1}, {@code call local func},
 *       {@code lddw %r0, 0x123456789abcdef0}, {@code movsx1632 %r0, %r1}, {@code exit} as a label for
 *       the first exit).</li>
 * </ul>
 *
 * <p>Labels are {@code name:} lines. Jump and call targets are a relative slot count
 * ({@code +0x3}, {@code -2}) or a label. {@code call name} calls a label, else the helper of that C
 * name ({@code bpf_map_lookup_elem}), else it is a bpf-to-bpf call with a symbol reference, as in
 * llvm; {@code r1 = name ll} loads a symbol likewise. Extensions over llvm's syntax, so that every
 * instruction has text: {@code call local}, {@code call kfunc ID[, OFFSET]}, a fourth
 * {@code ld_pseudo} operand for the high 32 bits, {@code skb[r3 + 0xc]}. Comments start with
 * {@code #} or {@code //}. Errors are {@link AssemblyException}s with the line and its text.
 */
public final class Assembler {
    private Assembler() {}

    private static final Pattern LISTING_LINE = Pattern.compile(
            "^\\s*\\d+:\\s+((?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?)\\s+(.*)$");
    private static final Pattern LISTING_BYTES_ONLY = Pattern.compile("^\\s*\\d+:\\s+(?:[0-9a-f]{2} ?)+\\s*(<unknown>)?$");
    private static final Pattern RELOCATION_LINE = Pattern.compile("^\\s*[0-9a-f]+:\\s+(R_BPF_\\w+)\\s+(\\S+)\\s*$");
    private static final Pattern SYMBOL_HEADING = Pattern.compile("^[0-9a-f]{8,16} <(.+)>:$");
    private static final Pattern FILE_LINE = Pattern.compile("^\\S.*:\\s+file format \\S+$");
    private static final Pattern SECTION_LINE = Pattern.compile("^Disassembly of section .*:$");
    private static final Pattern LABEL = Pattern.compile("^([A-Za-z_.$][\\w.$]*):(.*)$");
    private static final Pattern ZERO_FILL = Pattern.compile("^\\s*\\.\\.\\.\\s*$");
    private static final Pattern MEM_TYPE = Pattern.compile("([us])(8|16|32|64)");
    private static final Pattern MOVSX = Pattern.compile("movsx(8|16|32)(32|64)");
    private static final Pattern SWAP = Pattern.compile("(le|be|bswap|swap)(16|32|64)");
    private static final Pattern NUMBER = Pattern.compile("\\d+|0[xX][0-9a-fA-F]+");
    private static final Pattern REGISTER = Pattern.compile("[rw](10|[0-9]|1[1-5])");

    /** An instruction waiting for its label to be resolved. */
    private record Pending(int line, String text, Insn insn, String label, IntFunction<Insn> resolve,
                           Function<String, Insn> unresolved, byte[] listed) {}

    /**
     * Assembles {@code source}.
     *
     * @return the instructions, with jump targets resolved and symbol references kept
     * @throws AssemblyException at the first line that cannot be assembled
     */
    public static List<Insn> assemble(String source) {
        List<Pending> pending = new ArrayList<>();
        Map<String, Integer> labels = new HashMap<>();
        Map<String, Integer> labelLines = new HashMap<>();
        String[] lines = source.split("\r?\n", -1);
        for (int n = 0; n < lines.length; n++) {
            int lineNo = n + 1;
            String raw = lines[n];
            String line = stripComment(raw).strip();
            if (line.isEmpty() || FILE_LINE.matcher(line).matches() || SECTION_LINE.matcher(line).matches()) {
                continue;
            }
            Matcher m = SYMBOL_HEADING.matcher(line);
            if (m.matches()) {
                defineLabel(labels, labelLines, m.group(1), pending.size(), lineNo, raw);
                continue;
            }
            m = RELOCATION_LINE.matcher(line);
            if (m.matches()) {
                if (pending.isEmpty()) {
                    throw new AssemblyException(lineNo, raw, "relocation before any instruction");
                }
                Pending last = pending.removeLast();
                pending.add(withReference(last, m.group(2), lineNo, raw));
                continue;
            }
            if (ZERO_FILL.matcher(line).matches()) {
                throw new AssemblyException(lineNo, raw, "llvm-objdump's '...' stands for skipped zero bytes, "
                        + "which are no instruction");
            }
            byte[] listed = null;
            m = LISTING_LINE.matcher(line);
            if (m.matches()) {
                listed = HexFormat.ofDelimiter(" ").parseHex(m.group(1));
                line = m.group(2).strip();
            } else if (LISTING_BYTES_ONLY.matcher(line).matches()) {
                throw new AssemblyException(lineNo, raw, line.endsWith("<unknown>")
                        ? "llvm-objdump could not decode this instruction" : "listing line without instruction text");
            }
            m = LABEL.matcher(line);
            if (m.matches()) {
                defineLabel(labels, labelLines, m.group(1), pending.size(), lineNo, raw);
                line = m.group(2).strip();
                if (line.isEmpty()) {
                    continue;
                }
            }
            if (line.startsWith("<unknown>")) {
                throw new AssemblyException(lineNo, raw, "llvm-objdump could not decode this instruction");
            }
            if (line.startsWith(".")) {
                throw new AssemblyException(lineNo, raw, "assembler directives are not supported");
            }
            pending.add(new LineParser(lineNo, raw, line, listed).parse());
        }
        return resolve(pending, labels);
    }

    /** Assembles {@code source} into raw little-endian instructions; symbol references are refused. */
    public static byte[] assembleBytes(String source) {
        List<Insn> program = assemble(source);
        for (Insn i : program) {
            String ref = Disassembler.reference(i);
            if (ref != null) {
                throw new IllegalArgumentException("symbol '" + ref + "' is not resolved, and raw instructions "
                        + "cannot carry a reference");
            }
        }
        return Insn.encode(program);
    }

    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        int slashes = line.indexOf("//");
        int cut = hash < 0 ? slashes : slashes < 0 ? hash : Math.min(hash, slashes);
        return cut < 0 ? line : line.substring(0, cut);
    }

    private static void defineLabel(Map<String, Integer> labels, Map<String, Integer> labelLines, String name,
                                    int index, int lineNo, String raw) {
        Integer before = labelLines.putIfAbsent(name, lineNo);
        if (before != null) {
            throw new AssemblyException(lineNo, raw, "label '" + name + "' is already defined at line " + before);
        }
        labels.put(name, index);
    }

    private static Pending withReference(Pending p, String symbol, int lineNo, String raw) {
        if (p.label() != null) {
            throw new AssemblyException(lineNo, raw, "a relocation cannot follow an instruction with a symbolic target");
        }
        return new Pending(p.line(), p.text(), withSymbol(p.insn(), symbol, lineNo, raw), p.label(), p.resolve(),
                p.unresolved(), p.listed());
    }

    private static Insn withSymbol(Insn insn, String symbol, int lineNo, String raw) {
        return switch (insn) {
            case Insn.LoadImm64 l -> new Insn.LoadImm64(l.dst(), l.kind(), l.imm(), symbol);
            case Insn.Call c -> new Insn.Call(c.kind(), c.imm(), c.offset(), symbol);
            default -> throw new AssemblyException(lineNo, raw, "only lddw and call instructions take a relocation");
        };
    }

    private static List<Insn> resolve(List<Pending> pending, Map<String, Integer> labels) {
        int[] slotOf = new int[pending.size() + 1];
        int slot = 0;
        int firstExit = -1;
        for (int i = 0; i < pending.size(); i++) {
            slotOf[i] = slot;
            slot += pending.get(i).insn().slots();
            if (firstExit < 0 && pending.get(i).insn() instanceof Insn.Exit) {
                firstExit = i;
            }
        }
        slotOf[pending.size()] = slot;
        List<Insn> out = new ArrayList<>(pending.size());
        for (int i = 0; i < pending.size(); i++) {
            Pending p = pending.get(i);
            Insn insn = p.insn();
            if (p.label() != null) {
                Integer target = labels.get(p.label());
                if (target == null && p.label().equals("exit") && firstExit >= 0) {
                    target = firstExit; // bpf_conformance: "exit" names the first exit
                }
                if (target != null) {
                    try {
                        insn = p.resolve().apply(slotOf[target] - slotOf[i] - 1);
                    } catch (IllegalArgumentException e) {
                        throw new AssemblyException(p.line(), p.text(), "label '" + p.label() + "' is out of reach: "
                                + e.getMessage());
                    }
                } else if (p.unresolved() != null) {
                    insn = p.unresolved().apply(p.label());
                } else {
                    throw new AssemblyException(p.line(), p.text(), "undefined label '" + p.label() + "'");
                }
            }
            out.add(checkListed(p, insn));
        }
        return List.copyOf(out);
    }

    /** Checks the text against the listing's bytes; the kind of a call comes from the bytes. */
    private static Insn checkListed(Pending p, Insn insn) {
        if (p.listed() == null) {
            return insn;
        }
        byte[] mine = Insn.encode(List.of(insn));
        if (Arrays.equals(mine, p.listed())) {
            return insn;
        }
        if (insn instanceof Insn.Call c && mine.length == p.listed().length
                && (mine[1] & 0x0f) == (p.listed()[1] & 0x0f)) {
            byte[] same = p.listed().clone();
            same[1] = mine[1];
            int kind = (p.listed()[1] >>> 4) & 0x0f;
            if (Arrays.equals(mine, same) && kind <= 2) {
                return new Insn.Call(Insn.Call.Kind.values()[kind], c.imm(), c.offset(), c.reference());
            }
        }
        HexFormat hex = HexFormat.ofDelimiter(" ");
        throw new AssemblyException(p.line(), p.text(), "the text assembles to " + hex.formatHex(mine)
                + " but the listing's bytes are " + hex.formatHex(p.listed()));
    }

    /** Parses one instruction line. */
    private static final class LineParser {
        private final int lineNo;
        private final String raw;
        private final byte[] listed;
        private final List<String> tokens;
        private int pos;

        LineParser(int lineNo, String raw, String line, byte[] listed) {
            this.lineNo = lineNo;
            this.raw = raw;
            this.listed = listed;
            this.tokens = tokenize(line);
        }

        private AssemblyException error(String reason) {
            return new AssemblyException(lineNo, raw, reason);
        }

        private Pending done(Insn insn) {
            expectEnd();
            return new Pending(lineNo, raw, insn, null, null, null, listed);
        }

        private Pending jumpTo(Target t, IntFunction<Insn> make) {
            skipAnnotation();
            expectEnd();
            if (t.label() == null) {
                return new Pending(lineNo, raw, checked(() -> make.apply(t.offset())), null, null, null, listed);
            }
            return new Pending(lineNo, raw, make.apply(0), t.label(), make, null, listed);
        }

        Pending parse() {
            String first = peek();
            if (first == null) {
                throw error("empty instruction");
            }
            switch (first) {
                case "exit" -> {
                    next();
                    return done(new Insn.Exit());
                }
                case "call" -> {
                    next();
                    return call();
                }
                case "callx" -> {
                    next();
                    return done(new Insn.CallX(register().reg()));
                }
                case "goto", "ja" -> {
                    next();
                    return jumpTo(target(), Insn.Goto::new);
                }
                case "gotol", "ja32" -> {
                    next();
                    return jumpTo(target(), Insn.GotoLong::new);
                }
                case "may_goto" -> {
                    next();
                    return jumpTo(target(), Insn.MayGoto::new);
                }
                case "if" -> {
                    next();
                    return ifJump();
                }
                case "lock" -> {
                    next();
                    return "*".equals(peek()) ? llvmAtomic() : conformanceAtomic();
                }
                case "ld_pseudo" -> {
                    next();
                    return ldPseudo();
                }
                case "store_release" -> {
                    next();
                    return storeRelease();
                }
                case "lddw" -> {
                    next();
                    Reg dst = register();
                    expect(",");
                    return loadImm64Value(dst.reg(), false);
                }
                case "*" -> {
                    return store();
                }
                default -> {
                    if (isRegister(first)) {
                        return assignment();
                    }
                    return conformance();
                }
            }
        }

        // ---- llvm syntax ----

        private Pending assignment() {
            Reg dst = register();
            String op = next();
            if (op == null) {
                throw error("expected an operator after " + dst.name());
            }
            if (!op.equals("=")) {
                AluOp alu = aluByOperator(op);
                if (alu == null) {
                    throw error("unknown operator '" + op + "'");
                }
                Operand src = operand(dst.width());
                return done(new Insn.Alu(width(dst), alu, dst.reg(), src));
            }
            String t = peek();
            if (t == null) {
                throw error("missing right-hand side");
            }
            if (t.equals("-") && isRegister(peek(1))) {
                next();
                Reg src = register();
                if (src.reg() != dst.reg() || src.width() != dst.width()) {
                    throw error("neg works in place: expected " + dst.name() + " = -" + dst.name());
                }
                return done(new Insn.Neg(width(dst), dst.reg()));
            }
            if (t.equals("(")) {
                next();
                String type = next();
                Matcher m = type == null ? null : MEM_TYPE.matcher(type);
                if (m == null || !m.matches() || !m.group(1).equals("s")) {
                    throw error("expected (s8), (s16) or (s32) before the source register");
                }
                expect(")");
                Reg src = register();
                requireSameWidth(dst, src);
                return done(checked(() -> new Insn.MovSx(width(dst), Size.ofBytes(Integer.parseInt(m.group(2)) / 8),
                        dst.reg(), src.reg())));
            }
            if (t.equals("*")) {
                return load(dst);
            }
            Matcher swap = SWAP.matcher(t);
            if (swap.matches() && isRegister(peek(1))) {
                next();
                Reg src = register();
                if (src.reg() != dst.reg()) {
                    throw error("byte swaps work in place: expected " + dst.name() + " = " + t + " " + dst.name());
                }
                return done(byteSwap(swap.group(1), Integer.parseInt(swap.group(2)), dst.reg()));
            }
            if (t.startsWith("atomic_fetch_")) {
                next();
                return fetchAtomic(dst, t.substring("atomic_fetch_".length()));
            }
            if (t.equals("xchg_64") || t.equals("xchg32_32") || t.equals("cmpxchg_64") || t.equals("cmpxchg32_32")) {
                next();
                return xchg(dst, t);
            }
            if (t.equals("load_acquire")) {
                next();
                return loadAcquire(dst);
            }
            if (isRegister(t)) {
                Reg src = register();
                requireSameWidth(dst, src);
                return done(new Insn.Alu(width(dst), AluOp.MOV, dst.reg(), src.reg()));
            }
            if (isNumber(t) || ((t.equals("-") || t.equals("+")) && isNumber(peek(1)))) {
                BigInteger v = signedNumber();
                if ("ll".equals(peek())) {
                    next();
                    requireWide(dst);
                    return done(new Insn.LoadImm64(dst.reg(), Insn.LoadImm64.Kind.VALUE, imm64(v), null));
                }
                return done(new Insn.Alu(width(dst), AluOp.MOV, dst.reg(), new Imm(imm32(v))));
            }
            if (isIdentifier(t)) {
                return loadImm64Symbol(dst);
            }
            throw error("cannot read the right-hand side '" + t + "'");
        }

        private Pending loadImm64Symbol(Reg dst) {
            String symbol = next();
            if (isRegister(peek())) {
                throw error("unknown operation '" + symbol + "'");
            }
            long addend = 0;
            if ("+".equals(peek()) || "-".equals(peek())) {
                addend = imm64(signedNumber());
            }
            if (!"ll".equals(peek())) {
                throw error("a symbol operand needs 'll' (a 64-bit load): " + dst.name() + " = " + symbol + " ll");
            }
            next();
            requireWide(dst);
            return done(new Insn.LoadImm64(dst.reg(), Insn.LoadImm64.Kind.VALUE, addend, symbol));
        }

        private Pending loadImm64Value(Register dst, boolean ll) {
            String t = peek();
            if (isIdentifier(t)) {
                next();
                if (ll) {
                    expect("ll");
                }
                return done(new Insn.LoadImm64(dst, Insn.LoadImm64.Kind.VALUE, 0, t));
            }
            long v = imm64(signedNumber());
            if (ll) {
                expect("ll");
            }
            return done(new Insn.LoadImm64(dst, Insn.LoadImm64.Kind.VALUE, v, null));
        }

        private Pending load(Reg dst) {
            expect("*");
            expect("(");
            String type = next();
            Matcher m = type == null ? null : MEM_TYPE.matcher(type);
            if (m == null || !m.matches()) {
                throw error("expected a type such as u32 or s16 in *(u32 *)");
            }
            expect("*");
            expect(")");
            Size size = Size.ofBytes(Integer.parseInt(m.group(2)) / 8);
            boolean signed = m.group(1).equals("s");
            if ("skb".equals(peek())) {
                next();
                if (signed || dst.reg() != Register.R0 || size == Size.DW) {
                    throw error("packet loads are r0 = *(u8/u16/u32 *)skb[...]");
                }
                expect("[");
                if (isRegister(peek())) {
                    Register src = register().reg();
                    int off = 0;
                    if ("+".equals(peek()) || "-".equals(peek())) {
                        off = imm32(signedNumber());
                    }
                    expect("]");
                    return done(new Insn.LoadInd(size, src, off));
                }
                int off = imm32(signedNumber());
                expect("]");
                return done(new Insn.LoadAbs(size, off));
            }
            Address a = address();
            return done(checked(() -> signed ? new Insn.LoadSx(size, dst.reg(), a.base(), a.offset())
                    : new Insn.Load(size, dst.reg(), a.base(), a.offset())));
        }

        private Pending store() {
            expect("*");
            Size size = pointerType();
            Address a = address();
            expect("=");
            Operand src = operand(null);
            return done(new Insn.Store(size, a.base(), a.offset(), src));
        }

        private Pending llvmAtomic() {
            expect("*");
            Size size = pointerType();
            Address a = address();
            String op = next();
            AtomicOp aop = null;
            for (AtomicOp o : AtomicOp.values()) {
                if (!o.fetch() && o.operator() != null && o.operator().equals(op)) {
                    aop = o;
                }
            }
            if (aop == null) {
                throw error("expected +=, |=, &= or ^= after lock *(...)");
            }
            Register src = register().reg();
            AtomicOp chosen = aop;
            return done(checked(() -> new Insn.Atomic(size, chosen, a.base(), a.offset(), src)));
        }

        private Pending fetchAtomic(Reg dst, String name) {
            AtomicOp op = AtomicOp.of(name, true);
            if (op == null || op == AtomicOp.XCHG || op == AtomicOp.CMPXCHG) {
                throw error("unknown atomic operation atomic_fetch_" + name);
            }
            expect("(");
            Size size = pointerType();
            Address a = address();
            expect(",");
            Reg src = register();
            expect(")");
            if (src.reg() != dst.reg()) {
                throw error("atomic_fetch_" + name + " loads into its source: expected " + dst.name() + " = ...("
                        + dst.name() + ")");
            }
            return done(checked(() -> new Insn.Atomic(size, op, a.base(), a.offset(), src.reg())));
        }

        private Pending xchg(Reg dst, String name) {
            expect("(");
            Register base = register().reg();
            int off = displacement();
            expect(",");
            Size size = name.contains("32_") ? Size.W : Size.DW;
            if (name.startsWith("cmpxchg")) {
                Reg r0 = register();
                if (dst.reg() != Register.R0 || r0.reg() != Register.R0) {
                    throw error("cmpxchg compares with and loads into r0: expected r0 = " + name + "(..., r0, src)");
                }
                expect(",");
                Register src = register().reg();
                expect(")");
                return done(checked(() -> new Insn.Atomic(size, AtomicOp.CMPXCHG, base, off, src)));
            }
            Reg src = register();
            expect(")");
            if (src.reg() != dst.reg()) {
                throw error("xchg loads into its source: expected " + dst.name() + " = " + name + "(..., "
                        + dst.name() + ")");
            }
            return done(checked(() -> new Insn.Atomic(size, AtomicOp.XCHG, base, off, src.reg())));
        }

        private Pending loadAcquire(Reg dst) {
            expect("(");
            Size size = pointerType();
            Address a = address();
            expect(")");
            return done(new Insn.LoadAcquire(size, dst.reg(), a.base(), a.offset()));
        }

        private Pending storeRelease() {
            expect("(");
            Size size = pointerType();
            Address a = address();
            expect(",");
            Register src = register().reg();
            expect(")");
            return done(new Insn.StoreRelease(size, a.base(), a.offset(), src));
        }

        private Pending ldPseudo() {
            Register dst = register().reg();
            expect(",");
            long kind = imm64(signedNumber());
            if (kind < 0 || kind >= Insn.LoadImm64.Kind.values().length) {
                throw error("ld_pseudo kind " + kind + " is not 0..6");
            }
            expect(",");
            String symbol = null;
            long low = 0;
            if (isIdentifier(peek())) {
                symbol = next();
            } else {
                low = imm32(signedNumber()) & 0xffffffffL;
            }
            long high = 0;
            if (",".equals(peek())) {
                next();
                high = imm32(signedNumber()) & 0xffffffffL;
            }
            return done(new Insn.LoadImm64(dst, Insn.LoadImm64.Kind.values()[(int) kind], low | high << 32, symbol));
        }

        private Pending ifJump() {
            Reg dst = register();
            String op = next();
            JumpOp jop = null;
            for (JumpOp o : JumpOp.values()) {
                if (o.operator().equals(op)) {
                    jop = o;
                }
            }
            if (jop == null) {
                throw error("unknown comparison '" + op + "'");
            }
            Operand src = operand(dst.width());
            expect("goto");
            JumpOp cond = jop;
            return jumpTo(target(), off -> new Insn.Jump(width(dst), cond, dst.reg(), src, off));
        }

        private Pending call() {
            String t = peek();
            if (t == null) {
                throw error("call needs a target");
            }
            if (t.equals("local")) {
                next();
                return localCall();
            }
            if (t.equals("kfunc") || t.equals("runtime")) {
                next();
                int id = imm32(signedNumber());
                int off = 0;
                if (",".equals(peek())) {
                    next();
                    off = imm32(signedNumber());
                }
                int offset = off;
                return done(checked(() -> new Insn.Call(Insn.Call.Kind.KFUNC, id, offset, null)));
            }
            if (t.equals("helper")) {
                next();
                t = peek();
            }
            if ("%".equals(t) || isRegister(t)) {
                return done(new Insn.CallX(register().reg()));
            }
            if (isIdentifier(t)) {
                next();
                Helper h = helperNamed(t);
                String name = t;
                Insn unresolved = h != null ? Insn.Call.helper(h) : Insn.Call.local(name);
                expectEnd();
                return new Pending(lineNo, raw, Insn.Call.local(0), name, Insn.Call::local, s -> unresolved, listed);
            }
            return done(Insn.Call.helper(imm32(signedNumber())));
        }

        private Pending localCall() {
            Target t = target();
            expectEnd();
            if (t.label() == null) {
                return new Pending(lineNo, raw, Insn.Call.local(t.offset()), null, null, null, listed);
            }
            return new Pending(lineNo, raw, Insn.Call.local(0), t.label(), Insn.Call::local, Insn.Call::local, listed);
        }

        // ---- bpf_conformance dialect ----

        private Pending conformance() {
            String mnemonic = next();
            if (!isIdentifier(mnemonic)) {
                throw error("expected an instruction");
            }
            Matcher m = MOVSX.matcher(mnemonic);
            if (m.matches()) {
                Width w = m.group(2).equals("32") ? Width.W32 : Width.W64;
                Size from = Size.ofBytes(Integer.parseInt(m.group(1)) / 8);
                Register dst = register().reg();
                expect(",");
                Register src = register().reg();
                return done(checked(() -> new Insn.MovSx(w, from, dst, src)));
            }
            m = SWAP.matcher(mnemonic);
            if (m.matches()) {
                return done(byteSwap(m.group(1), Integer.parseInt(m.group(2)), register().reg()));
            }
            if (mnemonic.startsWith("ldx") || mnemonic.startsWith("stx") || mnemonic.startsWith("st")) {
                Size size = memSize(mnemonic);
                if (size != null) {
                    return conformanceMemory(mnemonic, size);
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
                return done(new Insn.Neg(w, register().reg()));
            }
            AluOp alu = aluByName(base);
            if (alu != null) {
                Register dst = register().reg();
                expect(",");
                return done(new Insn.Alu(w, alu, dst, operand(null)));
            }
            JumpOp jop = jumpByName(base);
            if (jop != null) {
                Register dst = register().reg();
                expect(",");
                Operand src = operand(null);
                expect(",");
                Width width = w;
                return jumpTo(target(), off -> new Insn.Jump(width, jop, dst, src, off));
            }
            throw error("unknown instruction '" + mnemonic + "'");
        }

        private Pending conformanceMemory(String mnemonic, Size size) {
            if (mnemonic.startsWith("ldx")) {
                Register dst = register().reg();
                expect(",");
                Address a = bracketAddress();
                boolean signed = mnemonic.startsWith("ldxs");
                return done(checked(() -> signed ? new Insn.LoadSx(size, dst, a.base(), a.offset())
                        : new Insn.Load(size, dst, a.base(), a.offset())));
            }
            Address a = bracketAddress();
            expect(",");
            if (mnemonic.startsWith("stx")) {
                return done(new Insn.Store(size, a.base(), a.offset(), register().reg()));
            }
            return done(new Insn.Store(size, a.base(), a.offset(), new Imm(imm32(signedNumber()))));
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

        private Pending conformanceAtomic() {
            boolean fetch = false;
            if ("fetch".equals(peek())) {
                next();
                fetch = true;
            }
            String name = next();
            if (name == null) {
                throw error("lock needs an operation");
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
                throw error("unknown atomic operation '" + name + "'");
            }
            Address a = bracketAddress();
            expect(",");
            Register src = register().reg();
            Size s = size;
            return done(checked(() -> new Insn.Atomic(s, op, a.base(), a.offset(), src)));
        }

        // ---- operands ----

        private record Reg(Register reg, Width width, String name) {}

        private record Address(Register base, int offset) {}

        private record Target(int offset, String label) {}

        private Reg register() {
            String t = next();
            boolean percent = "%".equals(t);
            if (percent) {
                t = next();
            }
            if (t == null || !isRegister(t)) {
                throw error("expected a register, found " + (t == null ? "the end of the line" : "'" + t + "'"));
            }
            int n = Integer.parseInt(t.substring(1));
            if (n > 10) {
                throw error("register " + t + " does not exist (r0..r10)");
            }
            Width w = percent ? null : t.charAt(0) == 'w' ? Width.W32 : Width.W64;
            return new Reg(Register.of(n), w, t);
        }

        private Width width(Reg r) {
            return r.width() == null ? Width.W64 : r.width();
        }

        private void requireSameWidth(Reg dst, Reg src) {
            if (dst.width() != null && src.width() != null && dst.width() != src.width()) {
                throw error("mixed register widths " + dst.name() + " and " + src.name());
            }
        }

        private void requireWide(Reg dst) {
            if (dst.width() == Width.W32) {
                throw error("lddw loads 64 bits: use r" + dst.reg().number() + ", not " + dst.name());
            }
        }

        private Operand operand(Width width) {
            String t = peek();
            if ("%".equals(t) || isRegister(t)) {
                Reg r = register();
                if (width != null && r.width() != null && width != r.width()) {
                    throw error("mixed register widths: " + r.name());
                }
                return r.reg();
            }
            return new Imm(imm32(signedNumber()));
        }

        private Size pointerType() {
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
        private Address address() {
            expect("(");
            Register base = register().reg();
            int off = displacement();
            expect(")");
            return new Address(base, off);
        }

        private int displacement() {
            String sign = next();
            if (!"+".equals(sign) && !"-".equals(sign)) {
                throw error("expected + or - and a displacement after the base register");
            }
            BigInteger v = number();
            v = sign.equals("-") ? v.negate() : v;
            return offset16(v, false);
        }

        /** {@code [%r1+8]}, {@code [%r10-8]} or {@code [%r1]}. */
        private Address bracketAddress() {
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

        private Target target() {
            String t = peek();
            if (t == null) {
                throw error("missing jump target");
            }
            if (t.equals("+") || t.equals("-") || isNumber(t)) {
                BigInteger v = signedNumber();
                if (v.bitLength() > 31) {
                    throw error("jump target " + v + " does not fit 32 bits");
                }
                return new Target(v.intValue(), null);
            }
            if (isIdentifier(t)) {
                next();
                return new Target(0, t);
            }
            throw error("expected a jump target (+N, -N or a label), found '" + t + "'");
        }

        /** Skips llvm-objdump's {@code <symbol+0x10>} annotation of a jump target. */
        private void skipAnnotation() {
            if ("<".equals(peek()) && ">".equals(tokens.getLast())) {
                pos = tokens.size();
            }
        }

        private BigInteger signedNumber() {
            String t = peek();
            boolean negative = false;
            if ("-".equals(t) || "+".equals(t)) {
                negative = t.equals("-");
                next();
            }
            BigInteger v = number();
            return negative ? v.negate() : v;
        }

        private BigInteger number() {
            String t = next();
            if (t == null || !isNumber(t)) {
                throw error("expected a number, found " + (t == null ? "the end of the line" : "'" + t + "'"));
            }
            return t.startsWith("0x") || t.startsWith("0X") ? new BigInteger(t.substring(2), 16) : new BigInteger(t);
        }

        /** A 32-bit immediate: signed, or an unsigned bit pattern up to 0xffffffff. */
        private int imm32(BigInteger v) {
            if (v.compareTo(BigInteger.valueOf(Integer.MIN_VALUE)) < 0 || v.compareTo(BigInteger.valueOf(0xffffffffL)) > 0) {
                throw error("immediate " + v + " does not fit 32 bits");
            }
            return v.intValue();
        }

        /** A 64-bit immediate: signed, or an unsigned bit pattern. */
        private long imm64(BigInteger v) {
            if (v.compareTo(BigInteger.valueOf(Long.MIN_VALUE)) < 0 || v.bitLength() > 64) {
                throw error("immediate " + v + " does not fit 64 bits");
            }
            return v.longValue();
        }

        private int offset16(BigInteger v, boolean bitPattern) {
            BigInteger max = BigInteger.valueOf(bitPattern ? 0xffff : Short.MAX_VALUE);
            if (v.compareTo(BigInteger.valueOf(Short.MIN_VALUE)) < 0 || v.compareTo(max) > 0) {
                throw error("offset " + v + " does not fit 16 bits");
            }
            return (short) v.intValue();
        }

        private Insn byteSwap(String kind, int bits, Register dst) {
            Insn.ByteSwap.Order order = switch (kind) {
                case "le" -> Insn.ByteSwap.Order.LE;
                case "be" -> Insn.ByteSwap.Order.BE;
                default -> Insn.ByteSwap.Order.BSWAP;
            };
            return new Insn.ByteSwap(order, bits, dst);
        }

        private Insn checked(java.util.function.Supplier<Insn> make) {
            try {
                return make.get();
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
        }

        // ---- tokens ----

        private String peek() {
            return peek(0);
        }

        private String peek(int ahead) {
            return pos + ahead < tokens.size() ? tokens.get(pos + ahead) : null;
        }

        private String next() {
            return pos < tokens.size() ? tokens.get(pos++) : null;
        }

        private void expect(String token) {
            String t = next();
            if (!token.equals(t)) {
                throw error("expected '" + token + "', found " + (t == null ? "the end of the line" : "'" + t + "'"));
            }
        }

        private void expectEnd() {
            if (pos < tokens.size()) {
                throw error("unexpected '" + String.join(" ", tokens.subList(pos, tokens.size())) + "'");
            }
        }

        private static final String[] OPERATORS = {
            "s>>=", "<<=", ">>=", "s>=", "s<=", "s/=", "s%=", "s>", "s<", "+=", "-=", "*=", "/=", "|=", "&=", "^=",
            "%=", "==", "!=", ">=", "<=",
        };

        static List<String> tokenize(String s) {
            List<String> out = new ArrayList<>();
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                    continue;
                }
                String op = null;
                for (String o : OPERATORS) {
                    if (s.startsWith(o, i)) {
                        op = o;
                        break;
                    }
                }
                if (op != null) {
                    out.add(op);
                    i += op.length();
                } else if (Character.isDigit(c)) {
                    int j = i + 1;
                    if (c == '0' && j < s.length() && (s.charAt(j) == 'x' || s.charAt(j) == 'X')) {
                        j++;
                        while (j < s.length() && Character.digit(s.charAt(j), 16) >= 0) {
                            j++;
                        }
                    } else {
                        while (j < s.length() && Character.isDigit(s.charAt(j))) {
                            j++;
                        }
                    }
                    out.add(s.substring(i, j));
                    i = j;
                } else if (Character.isLetter(c) || c == '_' || c == '.' || c == '$') {
                    int j = i + 1;
                    while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || "_.$".indexOf(s.charAt(j)) >= 0)) {
                        j++;
                    }
                    out.add(s.substring(i, j));
                    i = j;
                } else {
                    out.add(String.valueOf(c));
                    i++;
                }
            }
            return out;
        }

        private static boolean isNumber(String t) {
            return t != null && !t.isEmpty() && Character.isDigit(t.charAt(0)) && NUMBER.matcher(t).matches();
        }

        private static boolean isIdentifier(String t) {
            return t != null && !t.isEmpty() && (Character.isLetter(t.charAt(0)) || "_.$".indexOf(t.charAt(0)) >= 0);
        }

        private static boolean isRegister(String t) {
            return t != null && t.length() >= 2 && t.length() <= 3 && (t.charAt(0) == 'r' || t.charAt(0) == 'w')
                    && REGISTER.matcher(t).matches();
        }

        private static AluOp aluByOperator(String op) {
            for (AluOp a : AluOp.values()) {
                if (a != AluOp.MOV && a.operator().equals(op)) {
                    return a;
                }
            }
            return null;
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

        private static Helper helperNamed(String name) {
            for (Helper h : Helper.values()) {
                if (h.cName().equals(name)) {
                    return h;
                }
            }
            return null;
        }
    }
}

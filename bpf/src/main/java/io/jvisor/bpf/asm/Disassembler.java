package io.jvisor.bpf.asm;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Prints instructions in the syntax of {@code llvm-objdump -d} (LLVM 19: hexadecimal immediates
 * and offsets, e.g. {@code r1 = *(u32 *)(r1 + 0x4)} and {@code if r2 > r3 goto +0x5}).
 * {@link Assembler} reads everything printed here back into the same instructions.
 *
 * <p>Where llvm-objdump's text loses information, this class prints more, and says so here:
 * <ul>
 *   <li>bpf-to-bpf and kfunc calls print as {@code call local -0x1} and {@code call kfunc 0x1234}
 *       (llvm-objdump prints {@code call -0x1} and {@code call 0x1234}, like helper calls);</li>
 *   <li>atomic instructions of 4 bytes print with {@code w} registers, as llvm-objdump does with
 *       {@code --mattr=+alu32} (without it, it prints the fetch variants as a plain add, or
 *       {@code <unknown>});</li>
 *   <li>{@code ld_pseudo} (lddw with a pseudo source) gets a fourth operand when the high 32 bits
 *       of the immediate are not zero; an indirect packet load gets its immediate, as in
 *       {@code skb[r3 + 0xc]}, when it is not zero;</li>
 *   <li>load-acquire and store-release print as LLVM 20+ does (LLVM 19 does not know them);</li>
 *   <li>a symbol reference prints as the relocation line of {@code llvm-objdump -dr} below its
 *       instruction.</li>
 * </ul>
 * Decoding is strict (reserved fields must be zero), so an instruction that llvm-objdump prints
 * while ignoring a non-zero reserved field is {@code <unknown>} here.
 */
public final class Disassembler {
    private Disassembler() {}

    /** ELF symbol type of a section symbol, which listings leave out. */
    private static final int STT_SECTION = 3;
    private static final int STT_FUNC = 2;

    /**
     * An executable section to list like {@code llvm-objdump -d}.
     *
     * @param name the section name
     * @param code the section's bytes
     * @param symbols the symbols defined in the section (labels and functions)
     * @param relocations the relocations that apply to the section, or an empty list
     */
    public record Section(String name, byte[] code, List<Symbol> symbols, List<Relocation> relocations) {
        public Section {
            Objects.requireNonNull(name, "name");
            code = code.clone();
            symbols = List.copyOf(symbols);
            relocations = List.copyOf(relocations);
        }

        @Override
        public byte[] code() {
            return code.clone();
        }

        /** The executable sections of an ELF object (ELF64, little-endian, machine BPF). */
        public static List<Section> fromElf(byte[] elf) {
            return ElfSections.read(elf);
        }
    }

    /**
     * A symbol in a section.
     *
     * @param name the symbol name
     * @param offset its byte offset in the section
     * @param elfType its ELF type (STT_NOTYPE 0, STT_FUNC 2, ...), which orders symbols at one address
     */
    public record Symbol(String name, long offset, int elfType) {
        public Symbol {
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * A relocation of a section.
     *
     * @param offset the byte offset in the section
     * @param type the ELF relocation type (R_BPF_64_64 is 1, R_BPF_64_32 is 10)
     * @param symbol the name of the symbol (or of the section, for a section symbol)
     */
    public record Relocation(long offset, int type, String symbol) {
        public Relocation {
            Objects.requireNonNull(symbol, "symbol");
        }

        /** The relocation type's name, e.g. {@code R_BPF_64_64}. */
        public String typeName() {
            return switch (type) {
                case 0 -> "R_BPF_NONE";
                case 1 -> "R_BPF_64_64";
                case 2 -> "R_BPF_64_ABS64";
                case 3 -> "R_BPF_64_ABS32";
                case 4 -> "R_BPF_64_NODYLD32";
                case 10 -> "R_BPF_64_32";
                default -> "Unknown";
            };
        }
    }

    /** The llvm-objdump text of one instruction, e.g. {@code r0 = *(u32 *)(r1 + 0x4)}. */
    public static String format(Insn insn) {
        return switch (insn) {
            case Insn.Alu(Width w, AluOp op, Register dst, Operand src) ->
                    reg(dst, w) + " " + op.operator() + " " + operand(src, w);
            case Insn.Neg(Width w, Register dst) -> reg(dst, w) + " = -" + reg(dst, w);
            case Insn.MovSx(Width w, Size from, Register dst, Register src) ->
                    reg(dst, w) + " = (s" + from.bits() + ")" + reg(src, w);
            case Insn.ByteSwap(Insn.ByteSwap.Order order, int bits, Register dst) -> "r" + dst.number() + " = "
                    + order.name().toLowerCase(Locale.ROOT) + bits + " r" + dst.number();
            case Insn.Jump(Width w, JumpOp op, Register dst, Operand src, int off) ->
                    "if " + reg(dst, w) + " " + op.operator() + " " + operand(src, w) + " goto " + relative(off);
            case Insn.Goto(int off) -> "goto " + relative(off);
            case Insn.GotoLong(int off) -> "gotol " + relative(off);
            case Insn.MayGoto(int off) -> "may_goto " + relative(off);
            case Insn.Call(Insn.Call.Kind kind, int imm, int off, String ignored) -> switch (kind) {
                case HELPER -> "call " + hex(imm);
                case LOCAL -> "call local " + hex(imm);
                case KFUNC -> "call kfunc " + hex(imm) + (off != 0 ? ", " + hex(off) : "");
            };
            case Insn.CallX(Register target) -> "callx r" + target.number();
            case Insn.Exit() -> "exit";
            case Insn.Load(Size size, Register dst, Register src, int off) ->
                    "r" + dst.number() + " = *(u" + size.bits() + " *)" + address(src, off);
            case Insn.LoadSx(Size size, Register dst, Register src, int off) ->
                    "r" + dst.number() + " = *(s" + size.bits() + " *)" + address(src, off);
            case Insn.Store(Size size, Register dst, int off, Operand src) ->
                    "*(u" + size.bits() + " *)" + address(dst, off) + " = " + operand(src, Width.W64);
            case Insn.Atomic a -> atomic(a);
            case Insn.LoadAcquire(Size size, Register dst, Register src, int off) ->
                    reg(dst, size == Size.DW ? Width.W64 : Width.W32) + " = load_acquire((u" + size.bits() + " *)"
                            + address(src, off) + ")";
            case Insn.StoreRelease(Size size, Register dst, int off, Register src) ->
                    "store_release((u" + size.bits() + " *)" + address(dst, off) + ", "
                            + reg(src, size == Size.DW ? Width.W64 : Width.W32) + ")";
            case Insn.LoadImm64 l -> loadImm64(l);
            case Insn.LoadAbs(Size size, int off) -> "r0 = *(u" + size.bits() + " *)skb[" + hex(off) + "]";
            case Insn.LoadInd(Size size, Register src, int off) -> "r0 = *(u" + size.bits() + " *)skb[r" + src.number()
                    + (off == 0 ? "" : off > 0 ? " + " + hex(off) : " - " + hex(-(long) off)) + "]";
        };
    }

    /**
     * A program as text: one instruction per line, each symbol reference as an
     * {@code llvm-objdump -dr} relocation line after its instruction. {@link Assembler#assemble}
     * turns it back into the same instructions.
     */
    public static String disassemble(List<? extends Insn> program) {
        StringBuilder out = new StringBuilder();
        long at = 0;
        for (Insn insn : program) {
            out.append(format(insn)).append('\n');
            String ref = reference(insn);
            if (ref != null) {
                out.append(relocationLine(at, insn instanceof Insn.LoadImm64 ? 1 : 10, ref));
            }
            at += (long) insn.slots() * Instruction.SLOT;
        }
        return out.toString();
    }

    /**
     * The whole {@code llvm-objdump -d} (or {@code -dr}) output for an object: the file line, then
     * each section's listing.
     *
     * @param fileName the name printed in the header, as given to llvm-objdump
     * @param sections the sections to list
     * @param relocations also print relocations, like {@code -r}
     */
    public static String objdump(String fileName, List<Section> sections, boolean relocations) {
        StringBuilder out = new StringBuilder();
        out.append('\n').append(fileName).append(":\tfile format elf64-bpf\n");
        for (Section s : sections) {
            out.append(listing(s, relocations));
        }
        return out.toString();
    }

    /**
     * One section as {@code llvm-objdump -d} lists it: a heading per symbol, then per instruction
     * its slot number, its bytes and its text; jumps are annotated with their target as
     * {@code <symbol+0xoffset>}. Empty sections list as nothing, as in llvm-objdump.
     *
     * @param section the section
     * @param relocations also print relocation lines, like {@code -r}
     */
    public static String listing(Section section, boolean relocations) {
        byte[] code = section.code();
        if (code.length == 0) {
            return "";
        }
        // llvm-objdump leaves out section symbols, adds one named after the section when no symbol
        // starts at 0, and prints only the last of the symbols at one address in (address, name,
        // type) order.
        List<Symbol> symbols = new ArrayList<>();
        for (Symbol s : section.symbols()) {
            if (s.elfType() != STT_SECTION && !s.name().isEmpty()) {
                symbols.add(s);
            }
        }
        if (symbols.stream().noneMatch(s -> s.offset() == 0)) {
            symbols.add(new Symbol(section.name(), 0, STT_FUNC));
        }
        symbols.sort(Comparator.comparingLong(Symbol::offset).thenComparing(Symbol::name)
                .thenComparingInt(Symbol::elfType));
        List<Relocation> relocs = new ArrayList<>(relocations ? section.relocations() : List.of());
        relocs.sort(Comparator.comparingLong(Relocation::offset));

        StringBuilder out = new StringBuilder();
        out.append("\nDisassembly of section ").append(section.name()).append(":\n");
        int nextReloc = 0;
        for (int si = 0; si < symbols.size(); si++) {
            long start = symbols.get(si).offset();
            long end = code.length;
            if (si + 1 < symbols.size()) {
                end = Math.min(end, symbols.get(si + 1).offset());
            }
            if (start < 0 || start >= end) {
                continue;
            }
            out.append(String.format(Locale.ROOT, "\n%016x <%s>:\n", start, symbols.get(si).name()));
            int index = (int) start;
            while (index < end) {
                long maxZeros = end - index;
                if (nextReloc < relocs.size()) {
                    maxZeros = Math.min(maxZeros, relocs.get(nextReloc).offset() - index);
                }
                int zeros = skippableZeros(code, index, maxZeros);
                if (zeros > 0) {
                    out.append("\t\t...\n");
                    index += zeros;
                    continue;
                }
                int size;
                String text;
                try {
                    Insn insn = InsnDecoder.decodeAt(code, index);
                    size = insn.slots() * Instruction.SLOT;
                    text = format(insn) + target(insn, index, symbols);
                } catch (InvalidInstructionException e) {
                    // llvm-objdump steps over one byte when the instruction is cut off, else one slot.
                    boolean cut = index + Instruction.SLOT > code.length
                            || (code[index] == (byte) Opcodes.LD_IMM64 && index + 2 * Instruction.SLOT > code.length);
                    size = cut ? 1 : Instruction.SLOT;
                    text = "<unknown>";
                }
                out.append(String.format(Locale.ROOT, "%8d:\t", index / Instruction.SLOT))
                        .append(HexFormat.ofDelimiter(" ").formatHex(code, index, index + size))
                        .append('\t').append(text).append('\n');
                while (nextReloc < relocs.size() && relocs.get(nextReloc).offset() < index + size) {
                    Relocation r = relocs.get(nextReloc++);
                    out.append(relocationLine(r.offset(), r.type(), r.symbol()));
                }
                index += size;
            }
        }
        return out.toString();
    }

    /** The symbol reference of an instruction, or null. */
    static String reference(Insn insn) {
        return switch (insn) {
            case Insn.LoadImm64 l -> l.reference();
            case Insn.Call c -> c.reference();
            default -> null;
        };
    }

    private static String relocationLine(long offset, int type, String symbol) {
        return String.format(Locale.ROOT, "\t\t%016x:  %s\t%s\n", offset,
                new Relocation(offset, type, symbol).typeName(), symbol);
    }

    /** Zero bytes llvm-objdump folds into "...": a run of at least 8, in multiples of 4. */
    private static int skippableZeros(byte[] code, int from, long max) {
        int n = 0;
        while (n < max && code[from + n] == 0) {
            n++;
        }
        return n < 8 ? 0 : n & ~3;
    }

    /** The " <symbol+0xoff>" annotation of a jump at byte {@code index}, or "". */
    private static String target(Insn insn, int index, List<Symbol> symbols) {
        long rel = switch (insn) {
            case Insn.Jump j -> j.offset();
            case Insn.Goto g -> g.offset();
            case Insn.GotoLong g -> g.offset();
            case Insn.MayGoto m -> m.offset();
            default -> Long.MIN_VALUE;
        };
        if (rel == Long.MIN_VALUE) {
            return "";
        }
        long target = index + Instruction.SLOT + rel * Instruction.SLOT;
        Symbol best = null;
        for (Symbol s : symbols) {
            if (Long.compareUnsigned(s.offset(), target) <= 0) {
                best = s;
            }
        }
        if (best == null) {
            return "";
        }
        long delta = target - best.offset();
        return delta == 0 ? " <" + best.name() + ">" : " <" + best.name() + "+0x" + Long.toHexString(delta) + ">";
    }

    private static String atomic(Insn.Atomic a) {
        Width w = a.size() == Size.DW ? Width.W64 : Width.W32;
        String src = reg(a.src(), w);
        String ptr = "(u" + a.size().bits() + " *)" + address(a.dst(), a.offset());
        String bits = a.size() == Size.DW ? "64" : "32";
        return switch (a.op()) {
            case ADD, OR, AND, XOR -> "lock *" + ptr + " " + a.op().operator() + " " + src;
            case FETCH_ADD, FETCH_OR, FETCH_AND, FETCH_XOR ->
                    src + " = atomic_fetch_" + a.op().mnemonic() + "(" + ptr + ", " + src + ")";
            case XCHG -> src + " = xchg" + (w == Width.W64 ? "_64" : "32_32") + "(" + inner(a.dst(), a.offset())
                    + ", " + src + ")";
            case CMPXCHG -> reg(Register.R0, w) + " = cmpxchg" + (w == Width.W64 ? "_" : "32_") + bits + "("
                    + inner(a.dst(), a.offset()) + ", " + reg(Register.R0, w) + ", " + src + ")";
        };
    }

    private static String loadImm64(Insn.LoadImm64 l) {
        if (l.kind() == Insn.LoadImm64.Kind.VALUE) {
            return "r" + l.dst().number() + " = " + hex(l.imm()) + " ll";
        }
        return "ld_pseudo\tr" + l.dst().number() + ", 0x" + Integer.toHexString(l.kind().ordinal()) + ", 0x"
                + Integer.toHexString(l.low()) + (l.high() != 0 ? ", 0x" + Integer.toHexString(l.high()) : "");
    }

    private static String reg(Register r, Width w) {
        return (w == Width.W64 ? "r" : "w") + r.number();
    }

    private static String operand(Operand o, Width w) {
        return switch (o) {
            case Register r -> reg(r, w);
            case Imm(int k) -> hex(k);
        };
    }

    private static String address(Register base, int off) {
        return "(" + inner(base, off) + ")";
    }

    private static String inner(Register base, int off) {
        return "r" + base.number() + (off < 0 ? " - " + hex(-(long) off) : " + " + hex(off));
    }

    private static String relative(long off) {
        return off < 0 ? "-0x" + Long.toHexString(-off) : "+0x" + Long.toHexString(off);
    }

    /** Signed hexadecimal as LLVM 19 prints immediates: 0x5, -0x7. */
    static String hex(long v) {
        if (v == Long.MIN_VALUE) {
            return "-0x8000000000000000";
        }
        return v < 0 ? "-0x" + Long.toHexString(-v) : "0x" + Long.toHexString(v);
    }
}

package io.jvisor.bpf.elf;

import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.btf.BtfExt;
import io.jvisor.bpf.elf.ElfReader.Relocation;
import io.jvisor.bpf.elf.ElfReader.Section;
import io.jvisor.bpf.elf.ElfReader.Symbol;
import io.jvisor.bpf.elf.ObjectFileException.Reason;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the code sections of a BPF object into programs: decodes the instructions, applies the
 * relocations (map references keep the map's name until load; global data becomes a map value
 * reference; calls and function addresses point into {@code .text}), splits sections into functions,
 * and links each program with the {@code .text} sub-programs it calls, in libbpf's order, carrying
 * their BTF func and line info along (cilium/ebpf's {@code linker.go} and the relocation half of
 * {@code elf_reader.go}).
 */
final class Linker {
    private static final int CALL = Opcodes.JMP | Opcodes.CALL;
    private static final int PSEUDO_FUNC = 4;
    /** Depth of bpf-to-bpf calls that is accepted. */
    private static final int MAX_CALL_DEPTH = 1000;

    private final ElfReader elf;
    private final MapReader.Maps maps;
    private final BtfExt btfExt;
    private final int textIndex;

    /** One section's code: instructions by slot (null for the second half of lddw), and call targets. */
    private record Code(Section section, Instruction[] slots, int[] callTarget) {}

    /** A function of a code section: {@code length} slots from {@code start}. */
    private record Function(String name, Code code, int start, int length) {}

    private Linker(ElfReader elf, MapReader.Maps maps, BtfExt btfExt) {
        this.elf = elf;
        this.maps = maps;
        this.btfExt = btfExt;
        this.textIndex = elf.textIndex();
    }

    /**
     * The programs of {@code elf}, one per function of each program section, each linked with the
     * sub-programs it calls.
     *
     * @param maps where relocations find maps and global data
     * @param btfExt the func and line info to carry along, or {@link BtfExt#EMPTY}
     * @throws ObjectFileException for code, relocations or calls libbpf would refuse
     */
    static List<ObjectProgram> programs(ElfReader elf, MapReader.Maps maps, BtfExt btfExt) {
        return new Linker(elf, maps, btfExt).programs();
    }

    private List<ObjectProgram> programs() {
        Map<Integer, Code> codes = new LinkedHashMap<>();
        for (Section s : elf.sections()) {
            if (s.isExec() && s.size() > 0 && (s.index() == textIndex || ProgramSection.of(s.name()).isPresent())) {
                codes.put(s.index(), decode(s));
            }
        }
        for (Section rel : elf.sections()) {
            if (rel.type() == ElfReader.SHT_REL && codes.containsKey(rel.info())) {
                relocate(rel, codes.get(rel.info()));
            }
        }
        List<Function> subprograms = codes.containsKey(textIndex) ? functions(codes.get(textIndex)) : List.of();
        List<ObjectProgram> programs = new ArrayList<>();
        for (Code code : codes.values()) {
            if (code.section().index() == textIndex) {
                continue;
            }
            ProgramSection conv = ProgramSection.of(code.section().name()).orElseThrow();
            for (Function f : functions(code)) {
                programs.add(link(f, conv, subprograms));
            }
        }
        return programs;
    }

    // ---- decoding and relocation ---------------------------------------------------------

    private Code decode(Section s) {
        if (s.type() != ElfReader.SHT_PROGBITS || s.size() % 8 != 0) {
            throw elf.error(Reason.BAD_PROGRAM, "section '" + s.name() + "' is " + s.size()
                    + " bytes, not a whole number of instructions");
        }
        byte[] d = elf.data(s);
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int n = d.length / 8;
        Instruction[] slots = new Instruction[n];
        int[] targets = new int[n];
        Arrays.fill(targets, -1);
        for (int i = 0; i < n; i++) {
            int at = i * 8;
            int op = Byte.toUnsignedInt(d[at]);
            int dst = d[at + 1] & 0xf;
            int src = (d[at + 1] >>> 4) & 0xf;
            if (dst > 10 || src > 10) {
                throw elf.error(Reason.BAD_PROGRAM, "section '" + s.name() + "' instruction " + i + " names register r"
                        + Math.max(dst, src) + " (only r0-r10 exist)");
            }
            long imm = b.getInt(at + 4);
            if (op == Opcodes.LD_IMM64) {
                if (i + 1 >= n) {
                    throw elf.error(Reason.BAD_PROGRAM, "section '" + s.name() + "' ends in the middle of lddw at "
                            + "instruction " + i);
                }
                imm = (imm & 0xffffffffL) | ((long) b.getInt(at + 12) << 32);
            }
            slots[i] = new Instruction(op, Register.of(dst), Register.of(src), b.getShort(at + 2), imm, null);
            if (op == Opcodes.LD_IMM64) {
                i++;
            }
        }
        return new Code(s, slots, targets);
    }

    private void relocate(Section rel, Code code) {
        List<Symbol> symbols = elf.symbols();
        String where = code.section().name();
        for (Relocation r : elf.relocations(rel)) {
            long off = r.offset();
            int symIndex = r.symbol();
            if (off < 0 || off % 8 != 0 || off / 8 >= code.slots().length || code.slots()[(int) (off / 8)] == null) {
                throw elf.error(Reason.BAD_RELOCATION, "relocation in '" + where + "' at offset " + off
                        + " does not point at an instruction");
            }
            int slot = (int) (off / 8);
            if (symIndex <= 0 || symIndex >= symbols.size()) {
                throw elf.error(Reason.MISSING_SYMBOL, "relocation in '" + where + "' at instruction " + slot
                        + " names symbol #" + symIndex + ", but the symbol table has " + symbols.size() + " entries");
            }
            Symbol sym = symbols.get(symIndex);
            Instruction insn = code.slots()[slot];
            Section target = elf.section(sym.section());
            String symName = sym.name().isEmpty() && target != null ? target.name() : sym.name();
            String at = "'" + where + "' instruction " + slot + " (symbol '" + symName + "')";
            if (sym.section() == 0) {
                throw elf.error(Reason.MISSING_SYMBOL, at + " refers to '" + symName
                        + "', which this object does not define (externs, kfuncs and kconfig are not supported)");
            }
            if (sym.section() >= ElfReader.SHN_LORESERVE || target == null) {
                throw elf.error(Reason.MISSING_SYMBOL, at + " refers to special section 0x"
                        + Integer.toHexString(sym.section()) + "; forgot to initialize a global variable?");
            }
            if (insn.opcode() == CALL) {
                if (insn.src().number() != Opcodes.PSEUDO_CALL || sym.section() != textIndex || sym.value() % 8 != 0) {
                    throw elf.error(Reason.BAD_RELOCATION, at + ": a call relocation must point at a .text function");
                }
                code.callTarget()[slot] = checkTarget(sym.value() / 8 + insn.imm() + 1, at);
            } else if (insn.opcode() == Opcodes.LD_IMM64 && (insn.src().number() == PSEUDO_FUNC
                    || (insn.src().number() == 0 && sym.section() == textIndex))) {
                // clang leaves src 0 on the address of a .text function (a bpf_loop callback); libbpf
                // marks such an lddw BPF_PSEUDO_FUNC, and so do we
                if (sym.section() != textIndex || (sym.value() + insn.imm()) % 8 != 0) {
                    throw elf.error(Reason.BAD_RELOCATION, at + ": a function address must point at a .text function");
                }
                code.slots()[slot] = insn.withSrc(Register.of(PSEUDO_FUNC));
                code.callTarget()[slot] = checkTarget((sym.value() + insn.imm()) / 8, at);
            } else if (insn.opcode() == Opcodes.LD_IMM64) {
                code.slots()[slot] = dataReference(insn, sym, target, at);
            } else {
                throw elf.error(Reason.BAD_RELOCATION, at + ": opcode 0x" + Integer.toHexString(insn.opcode())
                        + " cannot be relocated (only lddw and calls)");
            }
        }
    }

    /** An lddw that names a map, or a global variable in a data section's map. */
    private Instruction dataReference(Instruction insn, Symbol sym, Section target, String at) {
        Map<Long, String> inSection = maps.bySymbol().get(sym.section());
        String data = maps.dataBySection().get(sym.section());
        if (inSection != null) {
            String map = inSection.get(sym.value());
            if (map == null) {
                throw elf.error(Reason.MISSING_SYMBOL, at + ": no map starts at offset " + sym.value() + " of '"
                        + target.name() + "'");
            }
            return insn.withSrc(Register.of(Opcodes.PSEUDO_MAP_FD)).withImm(0).withReference(map);
        }
        if (data != null) {
            // The value offset goes in the second half of lddw; the first gets the map fd at load.
            long valueOff = (int) insn.imm() + sym.value();
            return insn.withSrc(Register.of(Opcodes.PSEUDO_MAP_VALUE)).withImm(valueOff << 32).withReference(data);
        }
        throw elf.error(Reason.BAD_RELOCATION, at + ": section '" + target.name()
                + "' holds neither maps nor global data");
    }

    private int checkTarget(long target, String at) {
        Section text = elf.section(textIndex);
        if (text == null || target < 0 || target >= text.size() / 8) {
            throw elf.error(Reason.BAD_RELOCATION, at + ": target instruction " + target + " is outside .text");
        }
        return (int) target;
    }

    // ---- functions and linking -----------------------------------------------------------

    /** The functions of a section: its STT_FUNC symbols, or the whole section when it has none. */
    private List<Function> functions(Code code) {
        Section s = code.section();
        int n = code.slots().length;
        List<Symbol> funcs = elf.symbols().stream()
                .filter(sym -> sym.section() == s.index() && sym.type() == ElfReader.STT_FUNC)
                .sorted(Comparator.comparingLong(Symbol::value)).toList();
        List<Function> out = new ArrayList<>();
        if (funcs.isEmpty()) {
            out.add(new Function(s.name().replaceAll("[^A-Za-z0-9_]", "_"), code, 0, n));
            return out;
        }
        for (int i = 0; i < funcs.size(); i++) {
            Symbol f = funcs.get(i);
            long start = f.value() / 8;
            long end = f.size() > 0 ? (f.value() + f.size()) / 8 : i + 1 < funcs.size() ? funcs.get(i + 1).value() / 8 : n;
            if (f.value() % 8 != 0 || f.size() % 8 != 0 || start < 0 || start >= n || end <= start || end > n
                    || code.slots()[(int) start] == null) {
                throw elf.error(Reason.BAD_PROGRAM, "function '" + f.name() + "' (offset " + f.value() + ", size "
                        + f.size() + ") does not fit section '" + s.name() + "' of " + n + " instructions");
            }
            out.add(new Function(f.name(), code, (int) start, (int) (end - start)));
        }
        return out;
    }

    /** What one program collects while its functions are appended. */
    private static final class Linked {
        final List<Instruction> slots = new ArrayList<>();
        final Map<Function, Integer> placed = new LinkedHashMap<>();
        final List<BtfExt.FuncInfo> funcInfo = new ArrayList<>();
        final List<BtfExt.LineInfo> lineInfo = new ArrayList<>();
        /** Whether every function brought its func info, and its line info: the kernel wants all or none. */
        boolean funcInfoComplete = true, lineInfoComplete = true;
    }

    /** Links {@code main} with the sub-programs it calls, in libbpf's order (depth first, on first call). */
    private ObjectProgram link(Function main, ProgramSection conv, List<Function> subprograms) {
        Linked l = new Linked();
        append(main, l, subprograms, 0);
        List<Instruction> insns = new ArrayList<>(l.slots.size());
        for (Instruction i : l.slots) {
            if (i != null) {
                insns.add(i);
            }
        }
        ProgramSpec spec = new ProgramSpec(ObjectFile.kernelName(main.name()), conv.type(), conv.attachType(), insns,
                elf.license(), null, 0, conv.flags());
        return new ObjectProgram(main.name(), conv, spec, l.funcInfoComplete ? l.funcInfo : List.of(),
                l.lineInfoComplete ? l.lineInfo : List.of());
    }

    private void append(Function f, Linked l, List<Function> subprograms, int depth) {
        if (depth > MAX_CALL_DEPTH) {
            throw elf.error(Reason.BAD_PROGRAM, "calls from '" + f.name() + "' nest too deeply");
        }
        int base = l.slots.size();
        l.placed.put(f, base);
        for (int i = 0; i < f.length(); i++) {
            l.slots.add(f.code().slots()[f.start() + i]);
        }
        String sec = f.code().section().name();
        int added = 0;
        for (BtfExt.FuncInfo fi : btfExt.funcInfo().getOrDefault(sec, List.of())) {
            int insn = Integer.divideUnsigned(fi.insnOffset(), 8);
            if (insn >= f.start() && insn < f.start() + f.length()) {
                l.funcInfo.add(fi.at(insn - f.start() + base));
                added++;
            }
        }
        l.funcInfoComplete &= added > 0;
        added = 0;
        for (BtfExt.LineInfo li : btfExt.lineInfo().getOrDefault(sec, List.of())) {
            int insn = Integer.divideUnsigned(li.insnOffset(), 8);
            if (insn >= f.start() && insn < f.start() + f.length()) {
                l.lineInfo.add(li.at(insn - f.start() + base));
                added++;
            }
        }
        l.lineInfoComplete &= added > 0;
        for (int i = 0; i < f.length(); i++) {
            int slot = f.start() + i;
            Instruction insn = f.code().slots()[slot];
            if (insn == null) {
                continue;
            }
            int target;
            if (f.code().callTarget()[slot] >= 0) {
                target = f.code().callTarget()[slot];
            } else if (insn.opcode() == CALL && insn.src().number() == Opcodes.PSEUDO_CALL) {
                // A static call within the same section carries no relocation: imm is relative.
                if (f.code().section().index() != textIndex) {
                    throw elf.error(Reason.BAD_RELOCATION, "'" + sec + "' instruction " + slot
                            + ": a bpf-to-bpf call without relocation outside .text");
                }
                target = checkTarget(slot + insn.imm() + 1, "'" + sec + "' instruction " + slot);
            } else if (insn.opcode() == Opcodes.LD_IMM64 && insn.src().number() == PSEUDO_FUNC) {
                throw elf.error(Reason.BAD_RELOCATION, "'" + sec + "' instruction " + slot
                        + ": a function address without relocation");
            } else {
                continue;
            }
            Function sub = subprograms.stream().filter(s -> s.start() == target).findFirst()
                    .orElseThrow(() -> elf.error(Reason.BAD_RELOCATION, "'" + sec + "' instruction " + slot
                            + " calls .text instruction " + target + ", where no function starts"));
            if (!l.placed.containsKey(sub)) {
                append(sub, l, subprograms, depth + 1);
            }
            int at = base + i;
            l.slots.set(at, insn.withImm(l.placed.get(sub) - at - 1));
        }
    }
}

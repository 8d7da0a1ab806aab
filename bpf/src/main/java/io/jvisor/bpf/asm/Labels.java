package io.jvisor.bpf.asm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The labels of one source and the instructions waiting for them. Instructions arrive in order, each
 * perhaps naming a label; once the whole source is read, {@link #resolve()} turns labels into slot
 * offsets (a label counts slots, so an lddw before it counts two), gives a call to an unknown name its
 * helper or symbol reference, and checks each instruction against the bytes of its listing line.
 */
final class Labels {
    /**
     * An instruction as its line gave it.
     *
     * @param line the line number, for errors
     * @param text the line as written
     * @param insn the instruction, with offset 0 while {@code label} waits
     * @param label the label it jumps to or calls, or null
     * @param resolve makes the instruction for the label's offset
     * @param unresolved makes the instruction when no label has that name, or null when that is an error
     * @param listed the bytes of its llvm-objdump listing line, or null
     */
    record Pending(int line, String text, Insn insn, String label, IntFunction<Insn> resolve,
                   Function<String, Insn> unresolved, byte[] listed) {}

    private final List<Pending> pending = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final Map<String, Integer> labelLines = new HashMap<>();

    /** Adds the next instruction. */
    void add(Pending p) {
        pending.add(p);
    }

    /** Defines label {@code name} at the next instruction. */
    void define(String name, int lineNo, String raw) {
        Integer before = labelLines.putIfAbsent(name, lineNo);
        if (before != null) {
            throw new AssemblyException(lineNo, raw, "label '" + name + "' is already defined at line " + before);
        }
        labels.put(name, pending.size());
    }

    /** Gives the last instruction the symbol of a relocation line ({@code R_BPF_64_64 map}). */
    void relocate(String symbol, int lineNo, String raw) {
        if (pending.isEmpty()) {
            throw new AssemblyException(lineNo, raw, "relocation before any instruction");
        }
        Pending p = pending.removeLast();
        if (p.label() != null) {
            throw new AssemblyException(lineNo, raw, "a relocation cannot follow an instruction with a symbolic target");
        }
        pending.add(new Pending(p.line(), p.text(), withSymbol(p.insn(), symbol, lineNo, raw), p.label(), p.resolve(),
                p.unresolved(), p.listed()));
    }

    private static Insn withSymbol(Insn insn, String symbol, int lineNo, String raw) {
        return switch (insn) {
            case Insn.LoadImm64 l -> new Insn.LoadImm64(l.dst(), l.kind(), l.imm(), symbol);
            case Insn.Call c -> new Insn.Call(c.kind(), c.imm(), c.offset(), symbol);
            default -> throw new AssemblyException(lineNo, raw, "only lddw and call instructions take a relocation");
        };
    }

    /** The instructions, with every label resolved. */
    List<Insn> resolve() {
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
}

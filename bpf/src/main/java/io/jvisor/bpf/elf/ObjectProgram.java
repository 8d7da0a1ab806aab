package io.jvisor.bpf.elf;

import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.btf.BtfExt;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A program an object file defines: an entry point in a program section, linked with every
 * {@code .text} sub-program it calls, the way libbpf links it.
 *
 * @param name the C function name (the kernel gets at most 15 characters of it)
 * @param section the section's conventions
 * @param spec what to load; lddw instructions carry the names of the maps they use
 * @param funcInfo BTF func_info, instruction offsets relative to the linked program
 * @param lineInfo BTF line_info, instruction offsets relative to the linked program
 */
public record ObjectProgram(String name, ProgramSection section, ProgramSpec spec, List<BtfExt.FuncInfo> funcInfo,
                            List<BtfExt.LineInfo> lineInfo) {
    public ObjectProgram {
        Objects.requireNonNull(name, "name");
        funcInfo = List.copyOf(funcInfo);
        lineInfo = List.copyOf(lineInfo);
    }

    /** The number of instruction slots (lddw counts twice, as the kernel counts). */
    public int instructionCount() {
        return io.jvisor.bpf.asm.Instruction.slots(spec.instructions());
    }

    /**
     * The source line that instruction slot {@code index} comes from: the nearest line_info at or
     * before it.
     */
    public Optional<SourceLine> sourceLine(int index) {
        BtfExt.LineInfo best = null;
        for (BtfExt.LineInfo l : lineInfo) {
            if (l.insnOffset() <= index && (best == null || l.insnOffset() >= best.insnOffset())) {
                best = l;
            }
        }
        return best == null ? Optional.empty()
                : Optional.of(new SourceLine(best.fileName(), best.line(), best.column(), best.source().strip()));
    }

    /**
     * A place in C source.
     *
     * @param file the file name as clang recorded it
     * @param line the line number
     * @param column the column
     * @param text the source text of the line
     */
    public record SourceLine(String file, int line, int column, String text) {
        /** {@code fw.c:123: if (ip->ihl > 5)}, with the file's base name. */
        @Override
        public String toString() {
            String base = file.substring(file.lastIndexOf('/') + 1);
            return base + ":" + line + ": " + text;
        }
    }
}

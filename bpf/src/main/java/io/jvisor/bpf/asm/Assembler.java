package io.jvisor.bpf.asm;

import java.util.HexFormat;
import java.util.List;
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
 *
 * <p>This class reads the lines and what is particular to listings; {@link LlvmSyntax} and
 * {@link ConformanceSyntax} read the instructions, on {@link AsmLine}'s tokens and operands, and
 * {@link Labels} resolves labels and symbols once the whole source is read.
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

    /**
     * Assembles {@code source}.
     *
     * @return the instructions, with jump targets resolved and symbol references kept
     * @throws AssemblyException at the first line that cannot be assembled
     */
    public static List<Insn> assemble(String source) {
        Labels labels = new Labels();
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
                labels.define(m.group(1), lineNo, raw);
                continue;
            }
            m = RELOCATION_LINE.matcher(line);
            if (m.matches()) {
                labels.relocate(m.group(2), lineNo, raw);
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
                labels.define(m.group(1), lineNo, raw);
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
            labels.add(LlvmSyntax.parse(new AsmLine(lineNo, raw, line, listed)));
        }
        return labels.resolve();
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
}

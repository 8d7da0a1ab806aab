package io.jvisor.bpf.btf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parsed {@code .BTF.ext}: per ELF section, the BTF function of each function start (func_info)
 * and the source line of instructions (line_info). Instruction offsets are in bytes from the start
 * of the ELF section, as clang writes them; the loader converts them to instruction indexes of a
 * linked program. CO-RE relocations are not read.
 *
 * @param funcInfo func_info records by ELF section name
 * @param lineInfo line_info records by ELF section name
 */
public record BtfExt(Map<String, List<FuncInfo>> funcInfo, Map<String, List<LineInfo>> lineInfo) {
    /** Size of one {@code struct bpf_func_info}. */
    public static final int FUNC_INFO_SIZE = 8;
    /** Size of one {@code struct bpf_line_info}. */
    public static final int LINE_INFO_SIZE = 16;
    /** No func or line info. */
    public static final BtfExt EMPTY = new BtfExt(Map.of(), Map.of());

    public BtfExt {
        funcInfo = copy(funcInfo);
        lineInfo = copy(lineInfo);
    }

    private static <T> Map<String, List<T>> copy(Map<String, List<T>> m) {
        Map<String, List<T>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return java.util.Collections.unmodifiableMap(out);
    }

    /**
     * {@code struct bpf_func_info}.
     *
     * @param insnOffset instruction offset (bytes in the ELF section, or an instruction index once linked)
     * @param typeId the BTF FUNC type of the function starting there
     */
    public record FuncInfo(int insnOffset, int typeId) {
        /** This record at another instruction offset. */
        public FuncInfo at(int offset) {
            return new FuncInfo(offset, typeId);
        }
    }

    /**
     * {@code struct bpf_line_info}, with its strings resolved.
     *
     * @param insnOffset instruction offset (bytes in the ELF section, or an instruction index once linked)
     * @param fileNameOffset BTF string offset of the file name
     * @param lineOffset BTF string offset of the source text
     * @param lineCol line number ({@code << 10}) and column (low 10 bits), as the kernel wants it
     * @param fileName the file name
     * @param source the source text of the line
     */
    public record LineInfo(int insnOffset, int fileNameOffset, int lineOffset, int lineCol, String fileName,
                           String source) {
        /** The line number. */
        public int line() {
            return lineCol >>> 10;
        }

        /** The column. */
        public int column() {
            return lineCol & 0x3ff;
        }

        /** This record at another instruction offset. */
        public LineInfo at(int offset) {
            return new LineInfo(offset, fileNameOffset, lineOffset, lineCol, fileName, source);
        }
    }

    /**
     * Parses {@code .BTF.ext}; strings are resolved against {@code btf}.
     *
     * @throws BtfFormatException naming what is malformed
     */
    public static BtfExt parse(byte[] raw, Btf btf) throws BtfFormatException {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        if (raw.length < 24) {
            throw new BtfFormatException(".BTF.ext: " + raw.length + " bytes is shorter than the 24-byte header");
        }
        int magic = Short.toUnsignedInt(b.getShort(0));
        if (magic != Btf.MAGIC) {
            throw new BtfFormatException(String.format(".BTF.ext: bad magic 0x%04x", magic));
        }
        long hdrLen = Integer.toUnsignedLong(b.getInt(4));
        if (hdrLen < 24 || hdrLen > raw.length) {
            throw new BtfFormatException(".BTF.ext: header length " + hdrLen + " is outside 24.." + raw.length);
        }
        Map<String, List<FuncInfo>> funcs = new LinkedHashMap<>();
        Map<String, List<LineInfo>> lines = new LinkedHashMap<>();
        section(b, hdrLen, Integer.toUnsignedLong(b.getInt(8)), Integer.toUnsignedLong(b.getInt(12)), "func_info",
                FUNC_INFO_SIZE, btf, (sec, p) -> funcs.computeIfAbsent(sec, k -> new ArrayList<>())
                        .add(new FuncInfo(b.getInt(p), b.getInt(p + 4))));
        section(b, hdrLen, Integer.toUnsignedLong(b.getInt(16)), Integer.toUnsignedLong(b.getInt(20)), "line_info",
                LINE_INFO_SIZE, btf, (sec, p) -> {
                    int fileOff = b.getInt(p + 4);
                    int lineOff = b.getInt(p + 8);
                    String file = btf.string(fileOff);
                    String text = btf.string(lineOff);
                    if (file == null || text == null) {
                        throw new BtfFormatException(".BTF.ext: line_info of section '" + sec
                                + "' names a string outside .BTF");
                    }
                    lines.computeIfAbsent(sec, k -> new ArrayList<>())
                            .add(new LineInfo(b.getInt(p), fileOff, lineOff, b.getInt(p + 12), file, text));
                });
        return new BtfExt(funcs, lines);
    }

    private interface RecordSink {
        void accept(String section, int position) throws BtfFormatException;
    }

    private static void section(ByteBuffer b, long hdrLen, long off, long len, String what, int minRec, Btf btf,
                                RecordSink sink) throws BtfFormatException {
        if (len == 0) {
            return;
        }
        long start = hdrLen + off;
        long end = start + len;
        if (end > b.capacity()) {
            throw new BtfFormatException(".BTF.ext: " + what + " (" + off + "+" + len + ") runs past the "
                    + b.capacity() + " bytes of the section");
        }
        if (len < 4) {
            throw new BtfFormatException(".BTF.ext: " + what + " is too short for its record size");
        }
        long recSize = Integer.toUnsignedLong(b.getInt((int) start));
        if (recSize < minRec || recSize > 1024) {
            throw new BtfFormatException(".BTF.ext: " + what + " record size " + recSize + " (expected at least "
                    + minRec + ")");
        }
        long at = start + 4;
        while (at < end) {
            if (at + 8 > end) {
                throw new BtfFormatException(".BTF.ext: " + what + " section header is truncated");
            }
            String sec = btf.string(b.getInt((int) at));
            long n = Integer.toUnsignedLong(b.getInt((int) at + 4));
            if (sec == null) {
                throw new BtfFormatException(".BTF.ext: " + what + " names a section outside the BTF strings");
            }
            at += 8;
            if (n == 0 || at + n * recSize > end) {
                throw new BtfFormatException(".BTF.ext: " + what + " of section '" + sec + "' has " + n
                        + " records, which do not fit");
            }
            for (long i = 0; i < n; i++) {
                sink.accept(sec, (int) (at + i * recSize));
            }
            at += n * recSize;
        }
    }
}

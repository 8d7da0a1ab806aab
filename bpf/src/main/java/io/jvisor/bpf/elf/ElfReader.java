package io.jvisor.bpf.elf;

import io.jvisor.bpf.elf.ObjectFileException.Reason;
import net.fornwall.jelf.ElfFile;
import net.fornwall.jelf.ElfRelocation;
import net.fornwall.jelf.ElfRelocationSection;
import net.fornwall.jelf.ElfSection;
import net.fornwall.jelf.ElfSymbol;
import net.fornwall.jelf.ElfSymbolTableSection;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The ELF structure of a BPF object: its section headers, symbol table and relocations, each checked
 * against the file before it is used (cilium/ebpf's {@code elf_reader.go} has the same job). It knows
 * nothing of maps or programs; {@link MapReader} and {@link Linker} read those from what it offers.
 */
final class ElfReader {
    private static final int EM_BPF = 247;
    static final int SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_REL = 9, SHT_NOBITS = 8;
    static final long SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4;
    static final int STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3;
    static final int SHN_LORESERVE = 0xff00;

    private final String object;
    private final byte[] bytes;
    private final List<Section> sections = new ArrayList<>();
    private final List<Symbol> symbols = new ArrayList<>();
    private final ElfFile elf;
    private String license = "";
    private int textIndex = -1;

    /** One section header. */
    record Section(int index, String name, int type, long flags, long offset, long size, int link, int info,
                   long entsize) {
        boolean isExec() {
            return (flags & SHF_EXECINSTR) != 0;
        }

        boolean isAlloc() {
            return (flags & SHF_ALLOC) != 0;
        }
    }

    /** One symbol table entry, with its name resolved. */
    record Symbol(int index, String name, long value, long size, int type, int bind, int section, int visibility) {}

    /** One entry of a relocation section: the byte offset it patches and the symbol it names. */
    record Relocation(long offset, int symbol) {}

    /**
     * Reads the headers and the symbol table of {@code bytes}.
     *
     * @throws ObjectFileException when the file is not a 64-bit little-endian relocatable BPF object, or
     *     its headers or symbol table do not fit the file
     */
    ElfReader(String object, byte[] bytes) {
        this.object = object;
        this.bytes = bytes;
        readHeaders();
        try {
            elf = ElfFile.from(bytes);
        } catch (RuntimeException e) {
            throw error(Reason.MALFORMED_ELF, "jelf cannot read the file: " + e.getMessage());
        }
        readSymbols();
        for (Section sec : sections) {
            if (sec.name().equals("license")) {
                byte[] d = data(sec);
                license = cString(d, 0, d.length);
            } else if (sec.name().equals(".text")) {
                textIndex = sec.index();
            }
        }
    }

    /** The object's name, for messages. */
    String object() {
        return object;
    }

    /** The section headers, by index (#0 is the null section). */
    List<Section> sections() {
        return Collections.unmodifiableList(sections);
    }

    /** The symbols, by index (#0 is the null symbol). */
    List<Symbol> symbols() {
        return Collections.unmodifiableList(symbols);
    }

    /** The section at {@code index}, or null for #0, a special index or one out of range. */
    Section section(int index) {
        return index > 0 && index < sections.size() ? sections.get(index) : null;
    }

    /** The first section named {@code name}, or null. */
    Section section(String name) {
        return sections.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    /** The index of {@code .text}, or -1 when there is none. */
    int textIndex() {
        return textIndex;
    }

    /** The license string of the {@code license} section, or empty. */
    String license() {
        return license;
    }

    /** A copy of {@code s}'s bytes. */
    byte[] data(Section s) {
        if (s.type() == SHT_NOBITS) {
            throw error(Reason.MALFORMED_ELF, "section '" + s.name() + "' has no data");
        }
        return Arrays.copyOfRange(bytes, (int) s.offset(), (int) (s.offset() + s.size()));
    }

    /** The entries of relocation section {@code rel}. */
    List<Relocation> relocations(Section rel) {
        ElfSection es = elf.getSection(rel.index());
        if (!(es instanceof ElfRelocationSection rs)) {
            throw error(Reason.MALFORMED_ELF, "jelf does not see '" + rel.name() + "' as a relocation section");
        }
        List<Relocation> out = new ArrayList<>(rs.relocations.length);
        for (ElfRelocation r : rs.relocations) {
            out.add(new Relocation(r.r_offset, r.getSymbolIndex()));
        }
        return out;
    }

    /** An exception about this object. */
    ObjectFileException error(Reason reason, String detail) {
        return new ObjectFileException(object, reason, detail);
    }

    private void readHeaders() {
        if (bytes.length < 64) {
            throw error(Reason.NOT_BPF_ELF, "the file has " + bytes.length + " bytes, fewer than an ELF header");
        }
        if (bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F') {
            throw error(Reason.NOT_BPF_ELF, "no ELF magic");
        }
        if (bytes[4] != 2 || bytes[5] != 1) {
            throw error(Reason.NOT_BPF_ELF, "not a 64-bit little-endian ELF file (class " + bytes[4] + ", data "
                    + bytes[5] + "); compile with clang -target bpf");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int type = Short.toUnsignedInt(b.getShort(16));
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (machine != EM_BPF) {
            throw error(Reason.NOT_BPF_ELF, "machine " + machine + " is not BPF (247); compile with clang -target bpf");
        }
        if (type != 1) {
            throw error(Reason.NOT_BPF_ELF, "ELF type " + type + " is not a relocatable object (ET_REL)");
        }
        long shoff = b.getLong(40);
        int shentsize = Short.toUnsignedInt(b.getShort(58));
        int shnum = Short.toUnsignedInt(b.getShort(60));
        int shstrndx = Short.toUnsignedInt(b.getShort(62));
        if (shnum == 0 || shentsize != 64) {
            throw error(Reason.MALFORMED_ELF, "section header table has " + shnum + " entries of " + shentsize
                    + " bytes");
        }
        if (shoff < 0 || shoff + (long) shnum * 64 > bytes.length) {
            throw error(Reason.MALFORMED_ELF, "section header table at " + shoff + " (" + shnum
                    + " entries) runs past the end of the " + bytes.length + "-byte file");
        }
        if (shstrndx >= shnum) {
            throw error(Reason.MALFORMED_ELF, "section name table index " + shstrndx + " is out of range");
        }
        long[][] raw = new long[shnum][];
        for (int i = 0; i < shnum; i++) {
            int h = (int) (shoff + 64L * i);
            long size = b.getLong(h + 32);
            long offset = b.getLong(h + 24);
            int shType = b.getInt(h + 4);
            raw[i] = new long[] {Integer.toUnsignedLong(b.getInt(h)), shType, b.getLong(h + 8), offset, size,
                    Integer.toUnsignedLong(b.getInt(h + 40)), Integer.toUnsignedLong(b.getInt(h + 44)), b.getLong(h + 56)};
            if (i > 0 && shType != SHT_NOBITS && shType != 0 && (offset < 0 || size < 0 || offset + size > bytes.length
                    || offset + size < 0)) {
                throw error(Reason.MALFORMED_ELF, "section #" + i + " (offset " + offset + ", size " + size
                        + ") runs past the end of the " + bytes.length + "-byte file");
            }
            if (shType == SHT_NOBITS && (size < 0 || size > Integer.MAX_VALUE)) {
                // a NOBITS size is not bounded by the file; a huge one (or one that is negative as a
                // signed long) would otherwise become a gigabyte allocation later
                throw error(Reason.MALFORMED_ELF, "section #" + i + " (no data) claims " + Long.toUnsignedString(size)
                        + " bytes");
            }
        }
        long[] strtab = raw[shstrndx];
        if (strtab[1] != SHT_STRTAB) {
            throw error(Reason.MALFORMED_ELF, "section name table #" + shstrndx + " is not a string table");
        }
        for (int i = 0; i < shnum; i++) {
            long[] r = raw[i];
            if (r[0] >= strtab[4]) {
                throw error(Reason.MALFORMED_ELF, "section #" + i + " has its name outside the name table");
            }
            String name = i == 0 ? "" : cString(bytes, (int) (strtab[3] + r[0]), (int) (strtab[3] + strtab[4]));
            int link = (int) Math.min(r[5], Integer.MAX_VALUE);
            int info = (int) Math.min(r[6], Integer.MAX_VALUE);
            sections.add(new Section(i, name, (int) r[1], r[2], r[3], r[4], link, info, r[7]));
        }
        for (Section s : sections) {
            if ((s.type() == SHT_SYMTAB || s.type() == SHT_REL) && s.link() >= shnum) {
                throw error(Reason.MALFORMED_ELF, "section '" + s.name() + "' links to section #" + s.link()
                        + ", which does not exist");
            }
            if (s.type() == SHT_SYMTAB && (s.entsize() != 24 || s.size() % 24 != 0
                    || sections.get(s.link()).type() != SHT_STRTAB)) {
                throw error(Reason.MALFORMED_ELF, "symbol table '" + s.name() + "' is malformed (entry size "
                        + s.entsize() + ", size " + s.size() + ")");
            }
            if (s.type() == SHT_REL && (s.entsize() != 16 || s.size() % 16 != 0 || s.info() >= shnum
                    || sections.get(s.link()).type() != SHT_SYMTAB)) {
                throw error(Reason.MALFORMED_ELF, "relocation section '" + s.name() + "' is malformed");
            }
        }
    }

    private void readSymbols() {
        Section symtab = sections.stream().filter(s -> s.type() == SHT_SYMTAB).findFirst()
                .orElseThrow(() -> error(Reason.MALFORMED_ELF, "no symbol table (.symtab)"));
        Section strtab = sections.get(symtab.link());
        ElfSection sec = elf.getSection(symtab.index());
        if (!(sec instanceof ElfSymbolTableSection st)) {
            throw error(Reason.MALFORMED_ELF, "jelf does not see section #" + symtab.index() + " as a symbol table");
        }
        ElfSymbol[] syms = st.symbols;
        for (int i = 0; i < syms.length; i++) {
            ElfSymbol s = syms[i];
            if (Integer.toUnsignedLong(s.st_name) >= strtab.size()) {
                throw error(Reason.MALFORMED_ELF, "symbol #" + i + " has its name outside the string table");
            }
            String name = cString(bytes, (int) (strtab.offset() + Integer.toUnsignedLong(s.st_name)),
                    (int) (strtab.offset() + strtab.size()));
            symbols.add(new Symbol(i, name, s.st_value, s.st_size, s.getType(), s.getBinding(),
                    Short.toUnsignedInt(s.st_shndx), s.st_other & 0x3));
        }
    }

    private static String cString(byte[] b, int from, int limit) {
        int end = from;
        while (end < limit && end < b.length && b[end] != 0) {
            end++;
        }
        return new String(b, from, Math.max(0, end - from), StandardCharsets.UTF_8);
    }
}

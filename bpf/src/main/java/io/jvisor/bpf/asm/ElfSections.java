package io.jvisor.bpf.asm;

import net.fornwall.jelf.ElfFile;
import net.fornwall.jelf.ElfRelocation;
import net.fornwall.jelf.ElfRelocationSection;
import net.fornwall.jelf.ElfSection;
import net.fornwall.jelf.ElfSectionHeader;
import net.fornwall.jelf.ElfSymbol;
import net.fornwall.jelf.ElfSymbolTableSection;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The executable sections of an ELF object, with their symbols and relocations, for listings. */
final class ElfSections {
    private ElfSections() {}

    private static final int EM_BPF = 247;
    private static final int SHN_LORESERVE = 0xff00;

    static List<Disassembler.Section> read(byte[] bytes) {
        checkSectionTable(bytes);
        ElfFile elf;
        try {
            elf = ElfFile.from(bytes);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not an ELF object: " + e.getMessage(), e);
        }
        if (elf.ei_class != ElfFile.CLASS_64 || elf.ei_data != ElfFile.DATA_LSB) {
            throw new IllegalArgumentException("not a 64-bit little-endian ELF object");
        }
        if (Short.toUnsignedInt(elf.e_machine) != EM_BPF) {
            throw new IllegalArgumentException("not a BPF object (ELF machine " + Short.toUnsignedInt(elf.e_machine)
                    + ", BPF is " + EM_BPF + ")");
        }
        try {
            int count = Short.toUnsignedInt(elf.e_shnum);
            Map<Integer, List<Disassembler.Symbol>> symbols = new LinkedHashMap<>();
            Map<Integer, List<Disassembler.Relocation>> relocations = new LinkedHashMap<>();
            ElfSymbolTableSection symtab = elf.getSymbolTableSection();
            if (symtab != null) {
                for (ElfSymbol s : symtab.symbols) {
                    int shndx = Short.toUnsignedInt(s.st_shndx);
                    if (shndx == 0 || shndx >= SHN_LORESERVE) {
                        continue;
                    }
                    symbols.computeIfAbsent(shndx, k -> new ArrayList<>())
                            .add(new Disassembler.Symbol(s.getName() == null ? "" : s.getName(), s.st_value, s.getType()));
                }
            }
            for (int i = 1; i < count; i++) {
                ElfSection section = elf.getSection(i);
                if (section.header.sh_type == ElfSectionHeader.SHT_REL && section instanceof ElfRelocationSection rel) {
                    List<Disassembler.Relocation> list = relocations.computeIfAbsent(section.header.sh_info,
                            k -> new ArrayList<>());
                    for (ElfRelocation r : rel.relocations) {
                        list.add(new Disassembler.Relocation(r.r_offset, (int) r.getType(), symbolName(elf, r)));
                    }
                }
            }
            List<Disassembler.Section> out = new ArrayList<>();
            for (int i = 1; i < count; i++) {
                ElfSectionHeader h = elf.getSection(i).header;
                if (h.sh_type != ElfSectionHeader.SHT_PROGBITS || (h.sh_flags & ElfSectionHeader.FLAG_EXEC_INSTR) == 0) {
                    continue;
                }
                out.add(new Disassembler.Section(h.getName(), elf.getSection(i).getData(),
                        symbols.getOrDefault(i, List.of()), relocations.getOrDefault(i, List.of())));
            }
            return out;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed ELF object: " + e, e);
        }
    }

    /**
     * Checks that the section headers lie inside the file and their contents too, before jelf
     * allocates what they claim (a corrupt size would otherwise exhaust the heap).
     */
    private static void checkSectionTable(byte[] b) {
        if (b.length < 64 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F') {
            throw new IllegalArgumentException("not an ELF object: no ELF magic");
        }
        if (b[4] != 2 || b[5] != 1) {
            throw new IllegalArgumentException("not a 64-bit little-endian ELF object");
        }
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long shoff = buf.getLong(0x28);
        int shentsize = Short.toUnsignedInt(buf.getShort(0x3a));
        int shnum = Short.toUnsignedInt(buf.getShort(0x3c));
        if (shnum == 0) {
            return;
        }
        if (shentsize != 64 || shoff < 0 || shoff + (long) shnum * shentsize > b.length) {
            throw new IllegalArgumentException("malformed ELF object: the section header table is outside the file");
        }
        int shstrndx = Short.toUnsignedInt(buf.getShort(0x3e));
        if (shstrndx >= shnum) {
            throw new IllegalArgumentException("malformed ELF object: section name table index " + shstrndx
                    + " is out of range");
        }
        for (int i = 1; i < shnum; i++) {
            int at = (int) (shoff + (long) i * shentsize);
            int type = buf.getInt(at + 4);
            long offset = buf.getLong(at + 0x18);
            long size = buf.getLong(at + 0x20);
            long entsize = buf.getLong(at + 0x38);
            if (type != 0 && type != 8 && (offset < 0 || size < 0 || offset + size > b.length || offset + size < 0)) {
                throw new IllegalArgumentException("malformed ELF object: section " + i + " lies outside the file");
            }
            boolean table = type == ElfSectionHeader.SHT_SYMTAB || type == ElfSectionHeader.SHT_REL
                    || type == ElfSectionHeader.SHT_RELA;
            if (table && (entsize <= 0 || size % entsize != 0)) {
                throw new IllegalArgumentException("malformed ELF object: section " + i + " has entry size " + entsize);
            }
        }
    }

    /** The relocation's symbol, named after its section for a section symbol (as llvm-objdump does). */
    private static String symbolName(ElfFile elf, ElfRelocation r) {
        if (r.getSymbolIndex() == 0) {
            return "*ABS*";
        }
        ElfSymbol s = r.getSymbol();
        if (s.getType() == ElfSymbol.STT_SECTION) {
            int shndx = Short.toUnsignedInt(s.st_shndx);
            return shndx != 0 && shndx < SHN_LORESERVE ? elf.getSection(shndx).header.getName() : "";
        }
        String name = s.getName();
        return name == null ? "" : name;
    }
}

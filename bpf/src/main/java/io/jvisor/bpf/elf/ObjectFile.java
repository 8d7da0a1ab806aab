package io.jvisor.bpf.elf;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.MapFlags;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfExt;
import io.jvisor.bpf.btf.BtfFeatures;
import io.jvisor.bpf.btf.BtfFormatException;
import io.jvisor.bpf.btf.BtfKind;
import io.jvisor.bpf.btf.BtfSanitizer;
import io.jvisor.bpf.btf.BtfType;
import io.jvisor.bpf.elf.ObjectFileException.Reason;
import net.fornwall.jelf.ElfFile;
import net.fornwall.jelf.ElfRelocation;
import net.fornwall.jelf.ElfRelocationSection;
import net.fornwall.jelf.ElfSection;
import net.fornwall.jelf.ElfSymbol;
import net.fornwall.jelf.ElfSymbolTableSection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads BPF ELF objects (as {@code clang -target bpf -O2 -g} writes them) into a
 * {@link CollectionSpec}, following libbpf's conventions: program sections, {@code .text}
 * sub-programs linked into each program that calls them, BTF-defined and legacy maps, global
 * data as array maps, and relocations applied so that the instructions are the ones libbpf would
 * send to the kernel (map references keep the map's name until load).
 *
 * <p>Whatever the input, the only exception thrown is {@link ObjectFileException}; sizes are
 * checked against the file before anything is allocated.
 */
public final class ObjectFile {
    private static final int EM_BPF = 247;
    private static final int SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_REL = 9, SHT_NOBITS = 8;
    private static final long SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4;
    private static final int STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3;
    private static final int SHN_LORESERVE = 0xff00;
    private static final int CALL = Opcodes.JMP | Opcodes.CALL;
    private static final int PSEUDO_FUNC = 4;
    /** libbpf's {@code LIBBPF_PIN_BY_NAME}. */
    private static final int PIN_BY_NAME = 1;
    /** Nesting of map-in-map definitions that is accepted. */
    private static final int MAX_MAP_DEPTH = 4;

    private final String object;
    private final byte[] bytes;
    private final List<Section> sections = new ArrayList<>();
    private final List<Symbol> symbols = new ArrayList<>();
    private Btf btf;
    private BtfExt btfExt = BtfExt.EMPTY;
    private int textIndex = -1;

    private record Section(int index, String name, int type, long flags, long offset, long size, int link, int info,
                           long entsize) {
        boolean isExec() {
            return (flags & SHF_EXECINSTR) != 0;
        }
    }

    private record Symbol(int index, String name, long value, long size, int type, int bind, int section,
                          int visibility) {}

    private ObjectFile(String object, byte[] bytes) {
        this.object = object;
        this.bytes = bytes;
    }

    /**
     * Reads the object at {@code path}.
     *
     * @throws ObjectFileException for an unreadable, malformed or unsupported object
     */
    public static CollectionSpec read(Path path) {
        String name = objectName(path.getFileName() == null ? path.toString() : path.getFileName().toString());
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException | RuntimeException e) {
            throw new ObjectFileException(name, Reason.IO, "cannot read " + path + ": " + e.getMessage(), e);
        }
        return parse(bytes, name);
    }

    /**
     * Parses object bytes.
     *
     * @param name the object's name, for messages and global data map names (e.g. {@code fw})
     * @throws ObjectFileException for a malformed or unsupported object
     */
    public static CollectionSpec parse(byte[] bytes, String name) {
        ObjectFile f = new ObjectFile(name, bytes);
        try {
            return f.parse();
        } catch (ObjectFileException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            // jelf and the JDK throw a variety of unchecked exceptions on corrupt input.
            throw new ObjectFileException(name, Reason.MALFORMED_ELF, "corrupt ELF structure: " + e, e);
        }
    }

    /** {@code fw} for {@code fw.o} or {@code fw.bpf.o}. */
    static String objectName(String fileName) {
        int dot = fileName.indexOf('.');
        return dot > 0 ? fileName.substring(0, dot) : fileName;
    }

    private ObjectFileException error(Reason reason, String detail) {
        return new ObjectFileException(object, reason, detail);
    }

    // ---- ELF structure -------------------------------------------------------------------

    private CollectionSpec parse() {
        readHeaders();
        ElfFile elf;
        try {
            elf = ElfFile.from(bytes);
        } catch (RuntimeException e) {
            throw error(Reason.MALFORMED_ELF, "jelf cannot read the file: " + e.getMessage());
        }
        readSymbols(elf);
        String license = "";
        for (Section s : sections) {
            if (s.name().equals("license")) {
                license = cString(data(s), 0);
            } else if (s.name().equals(".text")) {
                textIndex = s.index();
            }
        }
        readBtf();
        List<ObjectMap> maps = new ArrayList<>();
        Map<Integer, Map<Long, String>> mapBySymbol = new HashMap<>();
        readBtfMaps(maps, mapBySymbol);
        readLegacyMaps(maps, mapBySymbol);
        Map<Integer, String> dataSections = readGlobalData(maps);
        checkSectionKinds();
        List<ObjectProgram> programs = readPrograms(elf, license, mapBySymbol, dataSections);
        return new CollectionSpec(object, programs, maps, btf, license);
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

    private byte[] data(Section s) {
        if (s.type() == SHT_NOBITS) {
            throw error(Reason.MALFORMED_ELF, "section '" + s.name() + "' has no data");
        }
        return Arrays.copyOfRange(bytes, (int) s.offset(), (int) (s.offset() + s.size()));
    }

    private static String cString(byte[] b, int from) {
        return cString(b, from, b.length);
    }

    private static String cString(byte[] b, int from, int limit) {
        int end = from;
        while (end < limit && end < b.length && b[end] != 0) {
            end++;
        }
        return new String(b, from, Math.max(0, end - from), StandardCharsets.UTF_8);
    }

    private void readSymbols(ElfFile elf) {
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

    private Section section(int index) {
        return index > 0 && index < sections.size() ? sections.get(index) : null;
    }

    private Section section(String name) {
        return sections.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    // ---- BTF -----------------------------------------------------------------------------

    private void readBtf() {
        Section s = section(".BTF");
        if (s == null) {
            return;
        }
        try {
            Btf parsed = Btf.parse(data(s));
            Map<String, Long> sizes = new HashMap<>();
            for (Section sec : sections) {
                sizes.putIfAbsent(sec.name(), sec.size());
            }
            Map<String, Long> offsets = new HashMap<>();
            for (Symbol sym : symbols) {
                if (sym.type() == STT_OBJECT || sym.type() == 0) {
                    offsets.putIfAbsent(sym.name(), sym.value());
                }
            }
            // Kind downgrades happen at load; here only what clang leaves for the loader.
            btf = BtfSanitizer.sanitize(parsed, sizes, offsets, BtfFeatures.ALL);
            Section ext = section(".BTF.ext");
            if (ext != null) {
                btfExt = BtfExt.parse(data(ext), btf);
            }
        } catch (BtfFormatException e) {
            throw error(Reason.BAD_BTF, e.getMessage());
        }
    }

    // ---- maps ----------------------------------------------------------------------------

    private static String kernelName(String name) {
        String n = name.replaceAll("[^A-Za-z0-9_.]", "_");
        return n.length() > 15 ? n.substring(0, 15) : n;
    }

    private void readBtfMaps(List<ObjectMap> maps, Map<Integer, Map<Long, String>> bySymbol) {
        Section s = section(".maps");
        if (s == null) {
            return;
        }
        if (btf == null) {
            throw error(Reason.BAD_MAP, "section '.maps' needs BTF to describe its maps; compile with -g");
        }
        BtfType.DataSec ds = btf.find(BtfKind.DATASEC, ".maps").map(id -> (BtfType.DataSec) btf.type(id))
                .orElseThrow(() -> error(Reason.BAD_MAP, "section '.maps' has no DATASEC in .BTF"));
        for (BtfType.VarSecInfo vsi : ds.vars()) {
            if (!(btf.type(vsi.type()) instanceof BtfType.Var var)) {
                throw error(Reason.BAD_MAP, ".maps member #" + vsi.type() + " is not a variable");
            }
            ObjectMap m = btfMap(var.name(), var.type(), 0);
            maps.add(m);
            bySymbol.computeIfAbsent(s.index(), k -> new HashMap<>()).put(Integer.toUnsignedLong(vsi.offset()), m.name());
        }
    }

    private ObjectMap btfMap(String name, int typeId, int depth) {
        if (depth > MAX_MAP_DEPTH) {
            throw error(Reason.BAD_MAP, "map '" + name + "': map-in-map nesting is too deep");
        }
        int id = btf.skipQualifiers(typeId);
        if (!(btf.type(id) instanceof BtfType.Struct def)) {
            throw error(Reason.BAD_MAP, "map '" + name + "' is not a struct of __uint/__type fields but "
                    + btf.describe(typeId));
        }
        Integer type = null;
        int keySize = -1, valueSize = -1, maxEntries = 0, flags = 0, keyTypeId = 0, valueTypeId = 0;
        long mapExtra = 0;
        ObjectMap.Pinning pinning = ObjectMap.Pinning.NONE;
        MapSpec inner = null;
        for (BtfType.Member m : def.members()) {
            String what = "map '" + name + "' field '" + m.name() + "'";
            switch (m.name()) {
                case "type" -> type = uintField(m, what);
                case "max_entries" -> maxEntries = uintField(m, what);
                case "map_flags" -> flags = uintField(m, what);
                case "numa_node" -> uintField(m, what);
                case "map_extra" -> mapExtra = Integer.toUnsignedLong(uintField(m, what));
                case "key_size" -> keySize = checkSize(uintField(m, what), keySize, what);
                case "value_size" -> valueSize = checkSize(uintField(m, what), valueSize, what);
                case "pinning" -> {
                    int p = uintField(m, what);
                    pinning = switch (p) {
                        case 0 -> ObjectMap.Pinning.NONE;
                        case PIN_BY_NAME -> ObjectMap.Pinning.BY_NAME;
                        default -> throw error(Reason.BAD_MAP, what + ": unknown pinning " + p);
                    };
                }
                case "key" -> {
                    keyTypeId = pointee(m, what);
                    keySize = checkSize((int) sizeOf(keyTypeId, what), keySize, what);
                }
                case "value" -> {
                    valueTypeId = pointee(m, what);
                    valueSize = checkSize((int) sizeOf(valueTypeId, what), valueSize, what);
                }
                case "values" -> {
                    // __array(values, T): an array of pointers to an inner map definition or a program.
                    if (!(btf.type(btf.skipQualifiers(m.type())) instanceof BtfType.Array arr)
                            || !(btf.type(btf.skipQualifiers(arr.type())) instanceof BtfType.Ptr ptr)) {
                        throw error(Reason.BAD_MAP, what + " must be declared with __array(values, ...)");
                    }
                    BtfType target = btf.type(btf.skipQualifiers(ptr.type()));
                    if (target instanceof BtfType.Struct) {
                        inner = btfMap(name + ".inner", ptr.type(), depth + 1).spec();
                    } else if (!(target instanceof BtfType.FuncProto)) {
                        throw error(Reason.BAD_MAP, what + " points to " + btf.describe(ptr.type())
                                + ", neither a map definition nor a program");
                    }
                    valueSize = checkSize(4, valueSize, what);
                }
                default -> throw error(Reason.BAD_MAP, "map '" + name + "' has unknown field '" + m.name() + "'");
            }
        }
        if (type == null) {
            throw error(Reason.BAD_MAP, "map '" + name + "' has no type (__uint(type, BPF_MAP_TYPE_...))");
        }
        MapType mapType = MapType.of(type);
        if (mapType == null) {
            throw error(Reason.BAD_MAP, "map '" + name + "' has unknown map type " + type);
        }
        if (mapType.isMapOfMaps() && inner == null) {
            throw error(Reason.BAD_MAP, "map '" + name + "' is a map of maps without __array(values, ...)");
        }
        if (mapType.isMapOfMaps() || mapType == MapType.PROG_ARRAY || mapType == MapType.RINGBUF) {
            // libbpf passes no value type for these: the kernel would refuse it.
            valueTypeId = 0;
            keyTypeId = mapType == MapType.RINGBUF ? 0 : keyTypeId;
        }
        MapSpec spec = new MapSpec(kernelName(name), mapType, Math.max(keySize, 0), Math.max(valueSize, 0), maxEntries,
                flags, inner, mapExtra);
        return new ObjectMap(name, ObjectMap.Kind.BTF, spec, pinning, keyTypeId, valueTypeId, null);
    }

    private int checkSize(int size, int previous, String what) {
        if (previous >= 0 && previous != size) {
            throw error(Reason.BAD_MAP, what + ": size " + size + " contradicts the size " + previous + " given before");
        }
        return size;
    }

    /** {@code __uint(name, N)} is {@code int (*name)[N]}: a pointer to an array of N elements. */
    private int uintField(BtfType.Member m, String what) {
        if (btf.type(btf.skipQualifiers(m.type())) instanceof BtfType.Ptr p
                && btf.type(btf.skipQualifiers(p.type())) instanceof BtfType.Array a) {
            return a.nelems();
        }
        throw error(Reason.BAD_MAP, what + " must be declared with __uint(...)");
    }

    /** {@code __type(name, T)} is {@code T *name}. */
    private int pointee(BtfType.Member m, String what) {
        if (btf.type(btf.skipQualifiers(m.type())) instanceof BtfType.Ptr p) {
            return p.type();
        }
        throw error(Reason.BAD_MAP, what + " must be declared with __type(...)");
    }

    private long sizeOf(int typeId, String what) {
        long size = btf.sizeOf(typeId);
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw error(Reason.BAD_MAP, what + ": the size of " + btf.describe(typeId) + " is unknown");
        }
        return size;
    }

    private void readLegacyMaps(List<ObjectMap> maps, Map<Integer, Map<Long, String>> bySymbol) {
        Section s = section("maps");
        if (s == null) {
            return;
        }
        byte[] d = data(s);
        List<Symbol> defs = symbols.stream().filter(sym -> sym.section() == s.index() && !sym.name().isEmpty()
                && sym.type() != STT_SECTION).sorted(Comparator.comparingLong(Symbol::value)).toList();
        if (defs.isEmpty()) {
            return;
        }
        long defSize = s.size() / defs.size();
        if (defSize < 20 || s.size() % defs.size() != 0) {
            throw error(Reason.BAD_MAP, "section 'maps': " + defs.size() + " maps in " + s.size()
                    + " bytes do not make whole struct bpf_map_def entries");
        }
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        for (Symbol sym : defs) {
            if (sym.value() < 0 || sym.value() % defSize != 0 || sym.value() + defSize > d.length) {
                throw error(Reason.BAD_MAP, "legacy map '" + sym.name() + "' at offset " + sym.value()
                        + " is not a whole entry of section 'maps'");
            }
            int at = (int) sym.value();
            MapType type = MapType.of(b.getInt(at));
            if (type == null) {
                throw error(Reason.BAD_MAP, "legacy map '" + sym.name() + "' has unknown map type " + b.getInt(at));
            }
            MapSpec spec = new MapSpec(kernelName(sym.name()), type, b.getInt(at + 4), b.getInt(at + 8),
                    b.getInt(at + 12), b.getInt(at + 16), null, 0);
            maps.add(new ObjectMap(sym.name(), ObjectMap.Kind.LEGACY, spec, ObjectMap.Pinning.NONE, 0, 0, null));
            bySymbol.computeIfAbsent(s.index(), k -> new HashMap<>()).put(sym.value(), sym.name());
        }
    }

    private static ObjectMap.Kind dataKind(String name) {
        if (name.equals(".data") || name.startsWith(".data.")) {
            return ObjectMap.Kind.DATA;
        }
        if (name.equals(".rodata") || name.startsWith(".rodata.")) {
            return ObjectMap.Kind.RODATA;
        }
        if (name.equals(".bss") || name.startsWith(".bss.")) {
            return ObjectMap.Kind.BSS;
        }
        return null;
    }

    /** libbpf's name for a global data map: up to 8 characters of the object name, then the section. */
    private String dataMapName(String section) {
        int sfx = Math.min(Math.max(7, section.length()), 15);
        // Custom sections (.rodata.foo) get no object prefix.
        int pfx = section.indexOf('.', 1) >= 0 ? 0 : Math.min(15 - sfx, object.length());
        return kernelName(object.substring(0, pfx) + section.substring(0, Math.min(section.length(), sfx)));
    }

    private Map<Integer, String> readGlobalData(List<ObjectMap> maps) {
        Map<Integer, String> bySection = new HashMap<>();
        for (Section s : sections) {
            ObjectMap.Kind kind = dataKind(s.name());
            if (kind == null || s.size() == 0 || (s.flags() & SHF_ALLOC) == 0) {
                continue;
            }
            if (s.size() > MapSpec.MAX_VALUE_SIZE) {
                throw error(Reason.BAD_MAP, "global data section '" + s.name() + "' is " + s.size()
                        + " bytes, more than a map value can hold (" + MapSpec.MAX_VALUE_SIZE + ")");
            }
            byte[] data = s.type() == SHT_NOBITS ? new byte[(int) s.size()] : data(s);
            int flags = MapFlags.MMAPABLE | (kind == ObjectMap.Kind.RODATA ? MapFlags.RDONLY_PROG : 0);
            MapSpec spec = new MapSpec(dataMapName(s.name()), MapType.ARRAY, 4, (int) s.size(), 1, flags, null, 0);
            int valueType = btf == null ? 0 : btf.find(BtfKind.DATASEC, s.name()).orElse(0);
            maps.add(new ObjectMap(s.name(), kind, spec, ObjectMap.Pinning.NONE, 0, valueType, data));
            bySection.put(s.index(), s.name());
        }
        return bySection;
    }

    private void checkSectionKinds() {
        for (Section s : sections) {
            if (s.index() == 0 || (s.flags() & SHF_ALLOC) == 0 || s.size() == 0) {
                continue;
            }
            String n = s.name();
            boolean known = n.equals(".text") || n.equals(".maps") || n.equals("maps") || n.equals("license")
                    || n.equals("version") || dataKind(n) != null || ProgramSection.of(n).isPresent();
            if (!known) {
                throw error(Reason.UNKNOWN_SECTION, "section '" + n + "' follows no program, map or data convention"
                        + (s.isExec() ? " (code sections are named like xdp, tc, tcx/ingress, tracepoint/<cat>/<name>)"
                        : ""));
            }
        }
    }

    // ---- programs ------------------------------------------------------------------------

    /** One section's code: instructions by slot (null for the second half of lddw), and call targets. */
    private record Code(Section section, Instruction[] slots, int[] callTarget) {}

    private record Function(String name, Code code, int start, int length) {}

    private List<ObjectProgram> readPrograms(ElfFile elf, String license, Map<Integer, Map<Long, String>> mapBySymbol,
                                             Map<Integer, String> dataSections) {
        Map<Integer, Code> codes = new LinkedHashMap<>();
        for (Section s : sections) {
            if (s.isExec() && s.size() > 0 && (s.index() == textIndex || ProgramSection.of(s.name()).isPresent())) {
                codes.put(s.index(), decode(s));
            }
        }
        for (Section rel : sections) {
            if (rel.type() == SHT_REL && codes.containsKey(rel.info())) {
                relocate(elf, rel, codes.get(rel.info()), mapBySymbol, dataSections);
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
                programs.add(link(f, conv, license, subprograms));
            }
        }
        return programs;
    }

    private Code decode(Section s) {
        if (s.type() != SHT_PROGBITS || s.size() % 8 != 0) {
            throw error(Reason.BAD_PROGRAM, "section '" + s.name() + "' is " + s.size()
                    + " bytes, not a whole number of instructions");
        }
        byte[] d = data(s);
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
                throw error(Reason.BAD_PROGRAM, "section '" + s.name() + "' instruction " + i + " names register r"
                        + Math.max(dst, src) + " (only r0-r10 exist)");
            }
            long imm = b.getInt(at + 4);
            if (op == Opcodes.LD_IMM64) {
                if (i + 1 >= n) {
                    throw error(Reason.BAD_PROGRAM, "section '" + s.name() + "' ends in the middle of lddw at "
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

    private void relocate(ElfFile elf, Section rel, Code code, Map<Integer, Map<Long, String>> mapBySymbol,
                          Map<Integer, String> dataSections) {
        ElfSection es = elf.getSection(rel.index());
        if (!(es instanceof ElfRelocationSection rs)) {
            throw error(Reason.MALFORMED_ELF, "jelf does not see '" + rel.name() + "' as a relocation section");
        }
        String where = code.section().name();
        for (ElfRelocation r : rs.relocations) {
            long off = r.r_offset;
            int symIndex = r.getSymbolIndex();
            if (off < 0 || off % 8 != 0 || off / 8 >= code.slots().length || code.slots()[(int) (off / 8)] == null) {
                throw error(Reason.BAD_RELOCATION, "relocation in '" + where + "' at offset " + off
                        + " does not point at an instruction");
            }
            int slot = (int) (off / 8);
            if (symIndex <= 0 || symIndex >= symbols.size()) {
                throw error(Reason.MISSING_SYMBOL, "relocation in '" + where + "' at instruction " + slot
                        + " names symbol #" + symIndex + ", but the symbol table has " + symbols.size() + " entries");
            }
            Symbol sym = symbols.get(symIndex);
            Instruction insn = code.slots()[slot];
            String symName = sym.name().isEmpty() && section(sym.section()) != null ? section(sym.section()).name()
                    : sym.name();
            String at = "'" + where + "' instruction " + slot + " (symbol '" + symName + "')";
            if (sym.section() == 0) {
                throw error(Reason.MISSING_SYMBOL, at + " refers to '" + symName
                        + "', which this object does not define (externs, kfuncs and kconfig are not supported)");
            }
            if (sym.section() >= SHN_LORESERVE || section(sym.section()) == null) {
                throw error(Reason.MISSING_SYMBOL, at + " refers to special section 0x"
                        + Integer.toHexString(sym.section()) + "; forgot to initialize a global variable?");
            }
            if (insn.opcode() == CALL) {
                if (insn.src().number() != Opcodes.PSEUDO_CALL || sym.section() != textIndex || sym.value() % 8 != 0) {
                    throw error(Reason.BAD_RELOCATION, at + ": a call relocation must point at a .text function");
                }
                code.callTarget()[slot] = checkTarget(sym.value() / 8 + insn.imm() + 1, at);
            } else if (insn.opcode() == Opcodes.LD_IMM64 && (insn.src().number() == PSEUDO_FUNC
                    || (insn.src().number() == 0 && sym.section() == textIndex))) {
                // clang leaves src 0 on the address of a .text function (a bpf_loop callback); libbpf
                // marks such an lddw BPF_PSEUDO_FUNC, and so do we
                if (sym.section() != textIndex || (sym.value() + insn.imm()) % 8 != 0) {
                    throw error(Reason.BAD_RELOCATION, at + ": a function address must point at a .text function");
                }
                code.slots()[slot] = insn.withSrc(Register.of(PSEUDO_FUNC));
                code.callTarget()[slot] = checkTarget((sym.value() + insn.imm()) / 8, at);
            } else if (insn.opcode() == Opcodes.LD_IMM64) {
                Map<Long, String> maps = mapBySymbol.get(sym.section());
                String data = dataSections.get(sym.section());
                if (maps != null) {
                    String map = maps.get(sym.value());
                    if (map == null) {
                        throw error(Reason.MISSING_SYMBOL, at + ": no map starts at offset " + sym.value() + " of '"
                                + section(sym.section()).name() + "'");
                    }
                    code.slots()[slot] = insn.withSrc(Register.of(Opcodes.PSEUDO_MAP_FD)).withImm(0).withReference(map);
                } else if (data != null) {
                    // The value offset goes in the second half of lddw; the first gets the map fd at load.
                    long valueOff = (int) insn.imm() + sym.value();
                    code.slots()[slot] = insn.withSrc(Register.of(Opcodes.PSEUDO_MAP_VALUE))
                            .withImm(valueOff << 32).withReference(data);
                } else {
                    throw error(Reason.BAD_RELOCATION, at + ": section '" + section(sym.section()).name()
                            + "' holds neither maps nor global data");
                }
            } else {
                throw error(Reason.BAD_RELOCATION, at + ": opcode 0x" + Integer.toHexString(insn.opcode())
                        + " cannot be relocated (only lddw and calls)");
            }
        }
    }

    private int checkTarget(long target, String at) {
        Section text = section(textIndex);
        if (text == null || target < 0 || target >= text.size() / 8) {
            throw error(Reason.BAD_RELOCATION, at + ": target instruction " + target + " is outside .text");
        }
        return (int) target;
    }

    /** The functions of a section: its STT_FUNC symbols, or the whole section when it has none. */
    private List<Function> functions(Code code) {
        Section s = code.section();
        int n = code.slots().length;
        List<Symbol> funcs = symbols.stream().filter(sym -> sym.section() == s.index() && sym.type() == STT_FUNC)
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
                throw error(Reason.BAD_PROGRAM, "function '" + f.name() + "' (offset " + f.value() + ", size "
                        + f.size() + ") does not fit section '" + s.name() + "' of " + n + " instructions");
            }
            out.add(new Function(f.name(), code, (int) start, (int) (end - start)));
        }
        return out;
    }

    /** Links {@code main} with the sub-programs it calls, in libbpf's order (depth first, on first call). */
    private ObjectProgram link(Function main, ProgramSection conv, String license, List<Function> subprograms) {
        List<Instruction> linked = new ArrayList<>();
        Map<Function, Integer> placed = new LinkedHashMap<>();
        List<BtfExt.FuncInfo> funcInfo = new ArrayList<>();
        List<BtfExt.LineInfo> lineInfo = new ArrayList<>();
        boolean[] infoOk = {true, true};
        append(main, linked, placed, subprograms, funcInfo, lineInfo, infoOk, 0);
        List<Instruction> insns = new ArrayList<>(linked.size());
        for (Instruction i : linked) {
            if (i != null) {
                insns.add(i);
            }
        }
        ProgramSpec spec = new ProgramSpec(kernelName(main.name()), conv.type(), conv.attachType(), insns, license,
                null, 0, conv.flags());
        return new ObjectProgram(main.name(), conv, spec, infoOk[0] ? funcInfo : List.of(),
                infoOk[1] ? lineInfo : List.of());
    }

    private void append(Function f, List<Instruction> linked, Map<Function, Integer> placed, List<Function> subprograms,
                        List<BtfExt.FuncInfo> funcInfo, List<BtfExt.LineInfo> lineInfo, boolean[] infoOk, int depth) {
        if (depth > 1000) {
            throw error(Reason.BAD_PROGRAM, "calls from '" + f.name() + "' nest too deeply");
        }
        int base = linked.size();
        placed.put(f, base);
        for (int i = 0; i < f.length(); i++) {
            linked.add(f.code().slots()[f.start() + i]);
        }
        String sec = f.code().section().name();
        int added = 0;
        for (BtfExt.FuncInfo fi : btfExt.funcInfo().getOrDefault(sec, List.of())) {
            int insn = Integer.divideUnsigned(fi.insnOffset(), 8);
            if (insn >= f.start() && insn < f.start() + f.length()) {
                funcInfo.add(fi.at(insn - f.start() + base));
                added++;
            }
        }
        infoOk[0] &= added > 0;
        added = 0;
        for (BtfExt.LineInfo li : btfExt.lineInfo().getOrDefault(sec, List.of())) {
            int insn = Integer.divideUnsigned(li.insnOffset(), 8);
            if (insn >= f.start() && insn < f.start() + f.length()) {
                lineInfo.add(li.at(insn - f.start() + base));
                added++;
            }
        }
        infoOk[1] &= added > 0;
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
                    throw error(Reason.BAD_RELOCATION, "'" + sec + "' instruction " + slot
                            + ": a bpf-to-bpf call without relocation outside .text");
                }
                target = checkTarget(slot + insn.imm() + 1, "'" + sec + "' instruction " + slot);
            } else if (insn.opcode() == Opcodes.LD_IMM64 && insn.src().number() == PSEUDO_FUNC) {
                throw error(Reason.BAD_RELOCATION, "'" + sec + "' instruction " + slot
                        + ": a function address without relocation");
            } else {
                continue;
            }
            Function sub = subprograms.stream().filter(s -> s.start() == target).findFirst()
                    .orElseThrow(() -> error(Reason.BAD_RELOCATION, "'" + sec + "' instruction " + slot
                            + " calls .text instruction " + target + ", where no function starts"));
            if (!placed.containsKey(sub)) {
                append(sub, linked, placed, subprograms, funcInfo, lineInfo, infoOk, depth + 1);
            }
            int at = base + i;
            linked.set(at, insn.withImm(placed.get(sub) - at - 1));
        }
    }
}

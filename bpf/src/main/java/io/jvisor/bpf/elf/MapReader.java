package io.jvisor.bpf.elf;

import io.jvisor.bpf.MapFlags;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfKind;
import io.jvisor.bpf.btf.BtfType;
import io.jvisor.bpf.elf.ElfReader.Section;
import io.jvisor.bpf.elf.ElfReader.Symbol;
import io.jvisor.bpf.elf.ObjectFileException.Reason;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The maps of a BPF object, in libbpf's conventions: BTF-defined maps in {@code .maps}
 * ({@code __uint}/{@code __type}/{@code __array} fields, map-in-map), legacy {@code struct bpf_map_def}
 * entries in {@code maps}, and each global data section ({@code .data}, {@code .rodata}, {@code .bss}
 * and their {@code .name} variants) as a one-entry array map (cilium/ebpf's {@code loadMaps},
 * {@code loadBTFMaps} and {@code loadDataSections}).
 */
final class MapReader {
    /** libbpf's {@code LIBBPF_PIN_BY_NAME}. */
    private static final int PIN_BY_NAME = 1;
    /** Nesting of map-in-map definitions that is accepted. */
    private static final int MAX_MAP_DEPTH = 4;

    private final ElfReader elf;
    private final Btf btf;

    /**
     * What was read: the maps in the order the object declares them, and where the {@link Linker} finds
     * them when a relocation names a symbol.
     *
     * @param maps every map
     * @param bySymbol per map section, the map that starts at each offset
     * @param dataBySection per global data section, its map's name
     */
    record Maps(List<ObjectMap> maps, Map<Integer, Map<Long, String>> bySymbol, Map<Integer, String> dataBySection) {}

    private MapReader(ElfReader elf, Btf btf) {
        this.elf = elf;
        this.btf = btf;
    }

    /**
     * Reads the maps of {@code elf}, typed by {@code btf} (null when the object has none).
     *
     * @throws ObjectFileException {@link Reason#BAD_MAP} for a definition libbpf would refuse
     */
    static Maps read(ElfReader elf, Btf btf) {
        MapReader r = new MapReader(elf, btf);
        List<ObjectMap> maps = new ArrayList<>();
        Map<Integer, Map<Long, String>> bySymbol = new HashMap<>();
        r.readBtfMaps(maps, bySymbol);
        r.readLegacyMaps(maps, bySymbol);
        Map<Integer, String> data = r.readGlobalData(maps);
        return new Maps(maps, bySymbol, data);
    }

    /** The kind of global data section {@code name} holds, or null when it is none. */
    static ObjectMap.Kind dataKind(String name) {
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

    // ---- BTF-defined maps (.maps) --------------------------------------------------------

    private void readBtfMaps(List<ObjectMap> maps, Map<Integer, Map<Long, String>> bySymbol) {
        Section s = elf.section(".maps");
        if (s == null) {
            return;
        }
        if (btf == null) {
            throw elf.error(Reason.BAD_MAP, "section '.maps' needs BTF to describe its maps; compile with -g");
        }
        BtfType.DataSec ds = btf.find(BtfKind.DATASEC, ".maps").map(id -> (BtfType.DataSec) btf.type(id))
                .orElseThrow(() -> elf.error(Reason.BAD_MAP, "section '.maps' has no DATASEC in .BTF"));
        for (BtfType.VarSecInfo vsi : ds.vars()) {
            if (!(btf.type(vsi.type()) instanceof BtfType.Var var)) {
                throw elf.error(Reason.BAD_MAP, ".maps member #" + vsi.type() + " is not a variable");
            }
            ObjectMap m = btfMap(var.name(), var.type(), 0);
            maps.add(m);
            bySymbol.computeIfAbsent(s.index(), k -> new HashMap<>()).put(Integer.toUnsignedLong(vsi.offset()), m.name());
        }
    }

    private ObjectMap btfMap(String name, int typeId, int depth) {
        if (depth > MAX_MAP_DEPTH) {
            throw elf.error(Reason.BAD_MAP, "map '" + name + "': map-in-map nesting is too deep");
        }
        int id = btf.skipQualifiers(typeId);
        if (!(btf.type(id) instanceof BtfType.Struct def)) {
            throw elf.error(Reason.BAD_MAP, "map '" + name + "' is not a struct of __uint/__type fields but "
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
                        default -> throw elf.error(Reason.BAD_MAP, what + ": unknown pinning " + p);
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
                        throw elf.error(Reason.BAD_MAP, what + " must be declared with __array(values, ...)");
                    }
                    BtfType target = btf.type(btf.skipQualifiers(ptr.type()));
                    if (target instanceof BtfType.Struct) {
                        inner = btfMap(name + ".inner", ptr.type(), depth + 1).spec();
                    } else if (!(target instanceof BtfType.FuncProto)) {
                        throw elf.error(Reason.BAD_MAP, what + " points to " + btf.describe(ptr.type())
                                + ", neither a map definition nor a program");
                    }
                    valueSize = checkSize(4, valueSize, what);
                }
                default -> throw elf.error(Reason.BAD_MAP, "map '" + name + "' has unknown field '" + m.name() + "'");
            }
        }
        if (type == null) {
            throw elf.error(Reason.BAD_MAP, "map '" + name + "' has no type (__uint(type, BPF_MAP_TYPE_...))");
        }
        MapType mapType = MapType.of(type);
        if (mapType == null) {
            throw elf.error(Reason.BAD_MAP, "map '" + name + "' has unknown map type " + type);
        }
        if (mapType.isMapOfMaps() && inner == null) {
            throw elf.error(Reason.BAD_MAP, "map '" + name + "' is a map of maps without __array(values, ...)");
        }
        if (mapType.isMapOfMaps() || mapType == MapType.PROG_ARRAY || mapType == MapType.RINGBUF) {
            // libbpf passes no value type for these: the kernel would refuse it.
            valueTypeId = 0;
            keyTypeId = mapType == MapType.RINGBUF ? 0 : keyTypeId;
        }
        MapSpec spec = new MapSpec(ObjectFile.kernelName(name), mapType, Math.max(keySize, 0), Math.max(valueSize, 0),
                maxEntries, flags, inner, mapExtra);
        return new ObjectMap(name, ObjectMap.Kind.BTF, spec, pinning, keyTypeId, valueTypeId, null);
    }

    private int checkSize(int size, int previous, String what) {
        if (previous >= 0 && previous != size) {
            throw elf.error(Reason.BAD_MAP, what + ": size " + size + " contradicts the size " + previous
                    + " given before");
        }
        return size;
    }

    /** {@code __uint(name, N)} is {@code int (*name)[N]}: a pointer to an array of N elements. */
    private int uintField(BtfType.Member m, String what) {
        if (btf.type(btf.skipQualifiers(m.type())) instanceof BtfType.Ptr p
                && btf.type(btf.skipQualifiers(p.type())) instanceof BtfType.Array a) {
            return a.nelems();
        }
        throw elf.error(Reason.BAD_MAP, what + " must be declared with __uint(...)");
    }

    /** {@code __type(name, T)} is {@code T *name}. */
    private int pointee(BtfType.Member m, String what) {
        if (btf.type(btf.skipQualifiers(m.type())) instanceof BtfType.Ptr p) {
            return p.type();
        }
        throw elf.error(Reason.BAD_MAP, what + " must be declared with __type(...)");
    }

    private long sizeOf(int typeId, String what) {
        long size = btf.sizeOf(typeId);
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw elf.error(Reason.BAD_MAP, what + ": the size of " + btf.describe(typeId) + " is unknown");
        }
        return size;
    }

    // ---- legacy maps (maps) --------------------------------------------------------------

    private void readLegacyMaps(List<ObjectMap> maps, Map<Integer, Map<Long, String>> bySymbol) {
        Section s = elf.section("maps");
        if (s == null) {
            return;
        }
        byte[] d = elf.data(s);
        List<Symbol> defs = elf.symbols().stream().filter(sym -> sym.section() == s.index() && !sym.name().isEmpty()
                && sym.type() != ElfReader.STT_SECTION).sorted(Comparator.comparingLong(Symbol::value)).toList();
        if (defs.isEmpty()) {
            return;
        }
        long defSize = s.size() / defs.size();
        if (defSize < 20 || s.size() % defs.size() != 0) {
            throw elf.error(Reason.BAD_MAP, "section 'maps': " + defs.size() + " maps in " + s.size()
                    + " bytes do not make whole struct bpf_map_def entries");
        }
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        for (Symbol sym : defs) {
            if (sym.value() < 0 || sym.value() % defSize != 0 || sym.value() + defSize > d.length) {
                throw elf.error(Reason.BAD_MAP, "legacy map '" + sym.name() + "' at offset " + sym.value()
                        + " is not a whole entry of section 'maps'");
            }
            int at = (int) sym.value();
            MapType type = MapType.of(b.getInt(at));
            if (type == null) {
                throw elf.error(Reason.BAD_MAP, "legacy map '" + sym.name() + "' has unknown map type " + b.getInt(at));
            }
            MapSpec spec = new MapSpec(ObjectFile.kernelName(sym.name()), type, b.getInt(at + 4), b.getInt(at + 8),
                    b.getInt(at + 12), b.getInt(at + 16), null, 0);
            maps.add(new ObjectMap(sym.name(), ObjectMap.Kind.LEGACY, spec, ObjectMap.Pinning.NONE, 0, 0, null));
            bySymbol.computeIfAbsent(s.index(), k -> new HashMap<>()).put(sym.value(), sym.name());
        }
    }

    // ---- global data (.data, .rodata, .bss) ----------------------------------------------

    /** libbpf's name for a global data map: up to 8 characters of the object name, then the section. */
    private String dataMapName(String section) {
        int sfx = Math.min(Math.max(7, section.length()), 15);
        // Custom sections (.rodata.foo) get no object prefix.
        int pfx = section.indexOf('.', 1) >= 0 ? 0 : Math.min(15 - sfx, elf.object().length());
        return ObjectFile.kernelName(elf.object().substring(0, pfx) + section.substring(0, Math.min(section.length(), sfx)));
    }

    private Map<Integer, String> readGlobalData(List<ObjectMap> maps) {
        Map<Integer, String> bySection = new HashMap<>();
        for (Section s : elf.sections()) {
            ObjectMap.Kind kind = dataKind(s.name());
            if (kind == null || s.size() == 0 || !s.isAlloc()) {
                continue;
            }
            if (s.size() > MapSpec.MAX_VALUE_SIZE) {
                throw elf.error(Reason.BAD_MAP, "global data section '" + s.name() + "' is " + s.size()
                        + " bytes, more than a map value can hold (" + MapSpec.MAX_VALUE_SIZE + ")");
            }
            byte[] data = s.type() == ElfReader.SHT_NOBITS ? new byte[(int) s.size()] : elf.data(s);
            int flags = MapFlags.MMAPABLE | (kind == ObjectMap.Kind.RODATA ? MapFlags.RDONLY_PROG : 0);
            MapSpec spec = new MapSpec(dataMapName(s.name()), MapType.ARRAY, 4, (int) s.size(), 1, flags, null, 0);
            int valueType = btf == null ? 0 : btf.find(BtfKind.DATASEC, s.name()).orElse(0);
            maps.add(new ObjectMap(s.name(), kind, spec, ObjectMap.Pinning.NONE, 0, valueType, data));
            bySection.put(s.index(), s.name());
        }
        return bySection;
    }
}

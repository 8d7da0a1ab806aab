package io.jvisor.bpf.elf;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.BtfTypes;
import io.jvisor.bpf.InvalidSpecException;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.Pins;
import io.jvisor.bpf.ProgramBtf;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.VerifierException;
import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfExt;
import io.jvisor.bpf.btf.BtfFeatures;
import io.jvisor.bpf.btf.BtfFormatException;
import io.jvisor.bpf.btf.BtfSanitizer;
import io.jvisor.bpf.btf.KernelBtf;
import io.jvisor.bpf.btf.LoadedBtf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The live side of a {@link CollectionSpec}: its maps and programs as kernel objects. It owns
 * them (except maps given as replacements) and closes them all with {@link #close()}; pinned and
 * attached objects live on in the kernel.
 *
 * <p>Loading is all or nothing: when any map or program fails, everything created so far is
 * closed again and the exception says which one failed and why. A verifier rejection names the C
 * line, e.g. {@code fw.c:123: if (ip->ihl > 5) -> R3 invalid mem access 'scalar'}.
 */
public final class Collection implements AutoCloseable {
    private final CollectionSpec spec;
    private final LoadedBtf btf;
    private final Map<String, BpfMap> maps;
    private final Map<String, BpfProgram> programs;
    private final List<AutoCloseable> owned;
    private final GlobalVariables variables;

    private Collection(CollectionSpec spec, LoadedBtf btf, Map<String, BpfMap> maps, Map<String, BpfProgram> programs,
                       List<AutoCloseable> owned) {
        this.spec = spec;
        this.btf = btf;
        this.maps = Collections.unmodifiableMap(maps);
        this.programs = Collections.unmodifiableMap(programs);
        this.owned = owned;
        this.variables = new GlobalVariables(spec, maps);
    }

    /** Loads {@code spec} with the default options. */
    public static Collection load(CollectionSpec spec) {
        return load(spec, CollectionOptions.DEFAULT);
    }

    /**
     * Creates the maps (filling and freezing global data), then loads the programs.
     *
     * @throws io.jvisor.bpf.btf.LoadedBtf.BtfLoadException when the kernel refuses the object's BTF
     * @throws VerifierException when the verifier refuses a program; {@link VerifierException#source()}
     *     names the C line
     * @throws InvalidSpecException when a map or program spec is invalid, or a replacement or pinned
     *     map does not match the spec
     * @throws BpfException for other kernel errors
     */
    public static Collection load(CollectionSpec spec, CollectionOptions options) {
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            LoadedBtf btf = null;
            if (spec.btf() != null) {
                Btf sanitized = sanitized(spec, options);
                if (options.btf() != null) {
                    if (!options.btf().btf().equals(sanitized)) {
                        throw new InvalidSpecException("object '" + spec.name() + "'", "btf",
                                "the loaded BTF given in the options is not this object's");
                    }
                    btf = options.btf(); // the caller's: not closed with this collection
                } else {
                    btf = LoadedBtf.load(sanitized, spec.name() + ".o");
                    owned.add(btf);
                }
            }
            Map<String, BpfMap> maps = new LinkedHashMap<>();
            for (ObjectMap m : spec.maps()) {
                maps.put(m.name(), createMap(spec, m, btf, options, owned));
            }
            Map<String, BpfProgram> programs = new LinkedHashMap<>();
            for (ObjectProgram p : spec.programs()) {
                BpfProgram prog = loadProgram(p, maps, btf, options);
                owned.add(prog);
                programs.put(p.name(), prog);
            }
            return new Collection(spec, btf, maps, programs, owned);
        } catch (RuntimeException e) {
            closeAll(owned);
            throw e;
        }
    }

    /**
     * Loads the BTF of {@code spec} as {@link #load} would (sanitized for the kernel that
     * {@code options} name), for {@link CollectionOptions#withBtf}: loads of many copies of one
     * object then share it instead of each loading the same BTF again. The caller owns it; the
     * kernel keeps its own reference for the maps and programs loaded with it, so it may be closed
     * once no more copies are to be loaded.
     *
     * @throws IllegalArgumentException when the spec has no BTF
     */
    public static LoadedBtf loadBtf(CollectionSpec spec, CollectionOptions options) {
        if (spec.btf() == null) {
            throw new IllegalArgumentException("object '" + spec.name() + "' has no BTF");
        }
        return LoadedBtf.load(sanitized(spec, options), spec.name() + ".o");
    }

    /** Sanitized copies of object BTF, by the BTF and the kernel's features: made once, not per load. */
    private static final Map<Btf, Map<BtfFeatures, Btf>> SANITIZED = Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private static Btf sanitized(CollectionSpec spec, CollectionOptions options) {
        BtfFeatures features = options.btfFeatures() != null ? options.btfFeatures() : BtfFeatures.running();
        Map<BtfFeatures, Btf> byFeatures = SANITIZED.computeIfAbsent(spec.btf(),
                k -> new java.util.concurrent.ConcurrentHashMap<>());
        Btf done = byFeatures.get(features);
        if (done == null) {
            try {
                done = BtfSanitizer.sanitize(spec.btf(), Map.of(), Map.of(), features);
            } catch (BtfFormatException e) {
                throw new ObjectFileException(spec.name(), ObjectFileException.Reason.BAD_BTF, e.getMessage());
            }
            byFeatures.put(features, done);
        }
        return done;
    }

    private static boolean refusesBtf(io.jvisor.bpf.MapType t) {
        return switch (t) {
            case DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP, SOCKMAP, SOCKHASH, REUSEPORT_SOCKARRAY, PROG_ARRAY,
                 PERF_EVENT_ARRAY, CGROUP_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS, STACK_TRACE, RINGBUF,
                 USER_RINGBUF, QUEUE, STACK, ARENA -> true;
            default -> false;
        };
    }

    private static BpfMap createMap(CollectionSpec spec, ObjectMap m, LoadedBtf btf, CollectionOptions options,
                                    List<AutoCloseable> owned) {
        BpfMap replacement = options.replacements().get(m.name());
        if (replacement != null) {
            checkCompatible(m, replacement, "replacement");
            return replacement;
        }
        Path pin = m.pinning() == ObjectMap.Pinning.BY_NAME && options.pinPath() != null
                ? options.pinPath().resolve(m.name()) : null;
        if (pin != null && Files.exists(pin)) {
            BpfMap pinned = BpfMap.openPinned(pin);
            owned.add(pinned);
            checkCompatible(m, pinned, "map pinned at " + pin);
            return pinned;
        }
        BpfMap map;
        // Like libbpf, give no BTF to map types whose values are kernel objects: the kernel refuses it
        // for them only after allocating the map, and freeing that map waits for RCU grace periods.
        BtfTypes types = btf == null || (m.btfKeyTypeId() == 0 && m.btfValueTypeId() == 0)
                || refusesBtf(m.spec().type()) ? BtfTypes.NONE
                : new BtfTypes(btf.fd().get(), m.btfKeyTypeId(), m.btfValueTypeId());
        try {
            map = BpfMap.create(m.spec(), types);
        } catch (InvalidSpecException e) {
            throw e;
        } catch (BpfException e) {
            if (types == BtfTypes.NONE) {
                throw e;
            }
            map = BpfMap.create(m.spec()); // as libbpf: retry without BTF, which some map types refuse
        }
        owned.add(map);
        byte[] data = m.data();
        if (data != null && m.kind() != ObjectMap.Kind.BSS) {
            map.update(new byte[4], data);
        }
        if (m.kind() == ObjectMap.Kind.RODATA) {
            map.freeze();
        }
        if (pin != null) {
            map.pin(pin);
        }
        return map;
    }

    private static void checkCompatible(ObjectMap m, BpfMap live, String what) {
        MapSpec s = m.spec();
        if (live.type() != s.type() || live.keySize() != s.keySize() || live.valueSize() != s.valueSize()
                || live.maxEntries() != s.maxEntries()) {
            throw new InvalidSpecException("map '" + m.name() + "'", "replacement", "the " + what + " is "
                    + (live.type() == null ? "?" : live.type().kernelName()) + " key " + live.keySize() + " value "
                    + live.valueSize() + " max " + live.maxEntries() + ", the object wants " + s.type().kernelName()
                    + " key " + s.keySize() + " value " + s.valueSize() + " max " + s.maxEntries());
        }
    }

    private static BpfProgram loadProgram(ObjectProgram p, Map<String, BpfMap> maps, LoadedBtf btf,
                                          CollectionOptions options) {
        ProgramSpec spec = p.spec();
        if (btf != null && (!p.funcInfo().isEmpty() || !p.lineInfo().isEmpty())) {
            spec = spec.withBtf(new ProgramBtf(btf.fd().get(), funcInfoBytes(p.funcInfo()), BtfExt.FUNC_INFO_SIZE,
                    lineInfoBytes(p.lineInfo()), BtfExt.LINE_INFO_SIZE));
        }
        if (spec.type() == ProgramType.TRACING && spec.attachBtfId() == 0 && p.section().section().startsWith("tp_btf/")) {
            spec = new ProgramSpec(spec.name(), spec.type(), spec.expectedAttachType(), spec.instructions(),
                    spec.license(), spec.btf(), KernelBtf.rawTracepointId(p.section().target()), spec.flags());
        }
        try {
            return BpfProgram.load(spec, maps, options.programOptions());
        } catch (VerifierException e) {
            if (e.instruction() >= 0 && e.source() == null) {
                var line = p.sourceLine(e.instruction());
                if (line.isPresent()) {
                    throw e.withSource(line.get().toString());
                }
            }
            throw e;
        }
    }

    private static byte[] funcInfoBytes(List<BtfExt.FuncInfo> infos) {
        if (infos.isEmpty()) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(infos.size() * BtfExt.FUNC_INFO_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (BtfExt.FuncInfo f : infos) {
            b.putInt(f.insnOffset()).putInt(f.typeId());
        }
        return b.array();
    }

    private static byte[] lineInfoBytes(List<BtfExt.LineInfo> infos) {
        if (infos.isEmpty()) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(infos.size() * BtfExt.LINE_INFO_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (BtfExt.LineInfo l : infos) {
            b.putInt(l.insnOffset()).putInt(l.fileNameOffset()).putInt(l.lineOffset()).putInt(l.lineCol());
        }
        return b.array();
    }

    private static void closeAll(List<AutoCloseable> owned) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception ignored) {
                // closing a descriptor cannot fail in a way that matters here
            }
        }
        owned.clear();
    }

    /** The spec this collection was loaded from. */
    public CollectionSpec spec() {
        return spec;
    }

    /** The maps by name (C variable name, or section name for global data). */
    public Map<String, BpfMap> maps() {
        return maps;
    }

    /** The programs by C function name. */
    public Map<String, BpfProgram> programs() {
        return programs;
    }

    /** The map named {@code name}. */
    public BpfMap map(String name) {
        BpfMap m = maps.get(name);
        if (m == null) {
            throw new NoSuchElementException("no map '" + name + "' in " + spec.name() + " (maps: " + maps.keySet() + ")");
        }
        return m;
    }

    /** The program whose C function is {@code name}. */
    public BpfProgram program(String name) {
        BpfProgram p = programs.get(name);
        if (p == null) {
            throw new NoSuchElementException("no program '" + name + "' in " + spec.name() + " (programs: "
                    + programs.keySet() + ")");
        }
        return p;
    }

    /** The loaded BTF (the one given in the options, when one was), or null when the object has none. */
    public LoadedBtf btf() {
        return btf;
    }

    /**
     * Pins every program and map under {@code dir} (a bpffs directory, created if missing):
     * programs by C function name, maps by their kernel name with '.' replaced by '_' (bpffs refuses
     * dots). Maps already pinned there by name are left as they are.
     *
     * @return the paths pinned
     */
    public List<Path> pinAll(Path dir) {
        List<Path> pinned = new ArrayList<>();
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new BpfException("create pin directory " + dir, 0, e.getMessage());
        }
        try {
            for (Map.Entry<String, BpfProgram> e : programs.entrySet()) {
                Path p = dir.resolve(e.getKey());
                e.getValue().pin(p);
                pinned.add(p);
            }
            for (ObjectMap m : spec.maps()) {
                // bpffs refuses names with '.', as in globals.rodata.
                Path p = dir.resolve((m.kind().isGlobalData() ? m.spec().name() : m.name()).replace('.', '_'));
                if (m.pinning() == ObjectMap.Pinning.BY_NAME && Files.exists(p)) {
                    continue;
                }
                maps.get(m.name()).pin(p);
                pinned.add(p);
            }
        } catch (RuntimeException e) {
            pinned.forEach(Pins::unpin);
            throw e;
        }
        return pinned;
    }

    /**
     * The object's global variables ({@code .data}, {@code .bss}, {@code .rodata}), read and written
     * in place through memory mappings, valid until this collection is closed.
     */
    public GlobalVariables variables() {
        return variables;
    }

    /** Closes every owned program, map and the BTF, and unmaps the global variables; replacement maps stay open. */
    @Override
    public void close() {
        variables.unmapAll();
        closeAll(owned);
    }
}

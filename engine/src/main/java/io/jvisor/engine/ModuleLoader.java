package io.jvisor.engine;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.VerifierException;
import io.jvisor.bpf.btf.LoadedBtf;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectProgram;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns compiled code into kernel objects for one engine: an instance's program and own maps in
 * its slot, a device entry for a (slot, port), the reinjection program. Every load gets the
 * engine's shared maps by name, only the engine's hook's program (the other is never verified),
 * and, at XDP, the engine's metadata channel.
 */
final class ModuleLoader implements AutoCloseable {
    static final String ENTRY_SOURCE = "entry.c";
    /** The key of the entry object's BTF among the codes' (not a code hash, which is hex). */
    private static final String ENTRY_BTF = "entry";

    private final CodeCache code;
    private final SharedMaps shared;
    private final Hook hook;
    /** The XDP metadata channel (AUTO resolved); null on tc, where it does not apply. */
    private final XdpMetadata xdpMetadata;
    private final CollectionSpec entrySpec;
    /** Loaded BTF by code hash. */
    private final Map<String, LoadedBtf> btf = new java.util.concurrent.ConcurrentHashMap<>();

    ModuleLoader(CodeCache code, CollectionSpec entrySpec, SharedMaps shared, Hook hook, XdpMetadata xdpMetadata) {
        this.code = code;
        this.entrySpec = entrySpec;
        this.shared = shared;
        this.hook = hook;
        this.xdpMetadata = xdpMetadata;
    }

    /** A loaded instance: its program and its own maps, with file descriptors of its own. */
    record Loaded(BpfProgram program, Map<String, BpfMap> maps) {}

    /** The program name for this engine's hook: prefix_tc or prefix_xdp. */
    String hookProgram(String prefix) {
        return prefix + (hook == Hook.TC ? "_tc" : "_xdp");
    }

    /**
     * Loads module code into slot: the hook's program and the module's own maps (sized), keeping
     * the maps in {@code keep} instead of creating new ones of those names.
     *
     * @throws TopologyException naming element when the verifier or the kernel refuses it
     */
    Loaded load(ModuleCode module, Map<String, Integer> sizes, int slot, Map<String, BpfMap> keep, String element) {
        CollectionSpec compiled = code.compile(module, element);
        CollectionSpec spec = withChannel(forHook(CodeCache.sized(compiled, sizes, element),
                hookProgram("jv")).withConstant(Sdk.SLOT_CONSTANT, slot));
        try (Collection c = Collection.load(spec, withBtf(options(keep), module.hash(), compiled))) {
            BpfProgram program = c.program(hookProgram("jv")).duplicate();
            Map<String, BpfMap> maps = new LinkedHashMap<>();
            try {
                for (var e : c.maps().entrySet()) {
                    if (!Sdk.SHARED_MAPS.contains(e.getKey()) && !e.getKey().startsWith(".")) {
                        maps.put(e.getKey(), keep.containsKey(e.getKey()) ? keep.get(e.getKey())
                                : e.getValue().duplicate());
                    }
                }
            } catch (RuntimeException ex) {
                program.close();
                maps.values().forEach(m -> {
                    if (!keep.containsValue(m)) {
                        m.close();
                    }
                });
                throw ex;
            }
            return new Loaded(program, maps);
        } catch (VerifierException e) {
            throw new TopologyException(element, "the verifier refused its code: " + e.getMessage(), e);
        } catch (BpfException e) {
            throw new TopologyException(element, "cannot load its code: " + e.getMessage(), e);
        }
    }

    /**
     * A device entry that enters slot at port: one copy per device, so its tail call is a direct jump.
     * At tc it is assembled ({@link EntryProgram}): one BPF_PROG_LOAD, no BTF, no .rodata map.
     */
    BpfProgram loadEntry(int slot, int port, String element) {
        if (hook == Hook.TC) {
            try {
                return BpfProgram.load(EntryProgram.tc(slot, port), shared.all(), LoadOptions.DEFAULT);
            } catch (BpfException e) {
                throw new TopologyException(element, "cannot load the entry program: " + e.getMessage(), e);
            }
        }
        String prog = hookProgram("jv_entry");
        CollectionSpec spec = withChannel(forHook(entrySpec, prog).withConstant(Sdk.SLOT_CONSTANT, slot)
                .withConstant(Sdk.ENTRY_PORT_CONSTANT, port));
        try (Collection c = Collection.load(spec, withBtf(options(Map.of()), ENTRY_BTF, entrySpec))) {
            return c.program(prog).duplicate();
        } catch (BpfException e) {
            throw new TopologyException(element, "cannot load the entry program: " + e.getMessage(), e);
        }
    }

    /**
     * The engine's flood program for its hook (entry.c jv_flood_tc or jv_flood_xdp): every
     * instance's jv_flood() tail-calls into it, so its loops over the ports are verified once per
     * engine instead of in every module that floods.
     */
    BpfProgram loadFlood() {
        String prog = hookProgram("jv_flood");
        try (Collection c = Collection.load(withChannel(forHook(entrySpec, prog)), options(Map.of()))) {
            return c.program(prog).duplicate();
        } catch (BpfException e) {
            throw new IllegalStateException("cannot load the engine's flood program " + prog + ": " + e.getMessage(), e);
        }
    }

    /** The tc program that takes user-space transmissions into instance ports (see Transmitter). */
    BpfProgram loadReinjector() {
        CollectionSpec spec = forHook(entrySpec, "jv_reinject_tc");
        try (Collection c = Collection.load(spec, withBtf(options(Map.of()), ENTRY_BTF, entrySpec))) {
            return c.program("jv_reinject_tc").duplicate();
        }
    }

    /**
     * The options with the code's BTF, loaded once per distinct code and kept until the engine
     * closes: every instance of a module shares it instead of loading the same BTF again.
     */
    private CollectionOptions withBtf(CollectionOptions o, String codeHash, CollectionSpec compiled) {
        if (compiled.btf() == null) {
            return o;
        }
        return o.withBtf(btf.computeIfAbsent(codeHash, h -> Collection.loadBtf(compiled, o)));
    }

    /** Closes the loaded BTF of every code; what was loaded with it keeps it in the kernel. */
    @Override
    public void close() {
        btf.values().forEach(LoadedBtf::close);
        btf.clear();
    }

    private CollectionOptions options(Map<String, BpfMap> extra) {
        CollectionOptions o = CollectionOptions.DEFAULT;
        for (var e : shared.all().entrySet()) {
            o = o.withReplacement(e.getKey(), e.getValue());
        }
        for (var e : extra.entrySet()) {
            o = o.withReplacement(e.getKey(), e.getValue());
        }
        return o;
    }

    /** On the XDP hook, the spec with the engine's metadata channel in jv_xdp_md_channel. */
    private CollectionSpec withChannel(CollectionSpec spec) {
        return xdpMetadata == null ? spec : spec.withConstant(Sdk.XDP_MD_CHANNEL_CONSTANT, xdpMetadata.sdkValue());
    }

    /** The spec with only the hook's program, so that the other hook's program is never verified. */
    private static CollectionSpec forHook(CollectionSpec spec, String program) {
        List<ObjectProgram> progs = spec.programs().stream().filter(p -> p.name().equals(program)).toList();
        if (progs.isEmpty()) {
            throw new IllegalStateException(spec.name() + " has no program " + program);
        }
        return new CollectionSpec(spec.name(), progs, spec.maps(), spec.btf(), spec.license());
    }
}

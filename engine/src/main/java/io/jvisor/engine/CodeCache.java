package io.jvisor.engine;

import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.elf.ObjectFileException;
import io.jvisor.bpf.elf.ObjectMap;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.bpf.toolchain.ClangNotFoundException;
import io.jvisor.bpf.toolchain.CompileException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Module code compiled once per distinct source (by {@link ModuleCode#hash()}), never per
 * instance, and read into an immutable spec. clang keeps its own cache on disk as well, so a new
 * engine process compiles nothing it compiled before.
 */
final class CodeCache {
    private final Clang clang;
    private final Map<String, CollectionSpec> compiled = new ConcurrentHashMap<>();

    private CodeCache(Clang clang) {
        this.clang = clang;
    }

    /** @throws TopologyException naming the engine when there is no clang */
    static CodeCache find(String engineName) {
        try {
            return new CodeCache(Clang.find());
        } catch (ClangNotFoundException e) {
            throw new TopologyException("engine '" + engineName + "'", e.getMessage(), e);
        }
    }

    /**
     * The spec of code, compiled on first use.
     *
     * @param what the element the code belongs to, for errors
     * @throws TopologyException naming {@code what} when it does not compile or cannot be read
     */
    CollectionSpec compile(ModuleCode code, String what) {
        return compiled.computeIfAbsent(code.hash(), h -> {
            try {
                Clang.Result r = clang.compileString(code.source(), code.fileName(), List.of());
                return ObjectFile.read(r.object());
            } catch (CompileException e) {
                throw new TopologyException(what, "does not compile: " + e.getMessage(), e);
            } catch (ObjectFileException e) {
                throw new TopologyException(what, "its object cannot be read: " + e.getMessage(), e);
            }
        });
    }

    /**
     * The spec with the instance's own maps resized ({@link ModuleType#mapSizes}).
     *
     * @throws TopologyException naming the map when the module has no such map of its own, or the
     *     size is not positive
     */
    static CollectionSpec sized(CollectionSpec spec, Map<String, Integer> sizes, String element) {
        for (var e : sizes.entrySet()) {
            String name = e.getKey();
            ObjectMap om = spec.map(name).orElse(null);
            if (om == null || om.kind().isGlobalData() || Sdk.SHARED_MAPS.contains(name)) {
                throw new TopologyException(element, "its type sizes a map '" + name + "', but the module has no map "
                        + "of its own by that name (its maps: " + spec.maps().stream().map(ObjectMap::name)
                        .filter(n -> !n.startsWith(".") && !Sdk.SHARED_MAPS.contains(n)).toList() + ")");
            }
            if (e.getValue() == null || e.getValue() < 1) {
                throw new TopologyException(element, "map '" + name + "': size " + e.getValue()
                        + " is not a positive number of entries");
            }
            if (om.spec().maxEntries() != e.getValue()) {
                spec = spec.withMap(om.withSpec(om.spec().withMaxEntries(e.getValue())));
            }
        }
        return spec;
    }

    /** A pinned map's file name back to the C name, through the code's spec ({@link PinLayout#mapFile}). */
    String originalMapName(ModuleCode code, String pinned) {
        for (ObjectMap m : compile(code, "adopted code").maps()) {
            if (PinLayout.mapFile(m.name()).equals("map_" + pinned)) {
                return m.name();
            }
        }
        return pinned;
    }
}

package io.jvisor.bpf.elf;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.btf.BtfFeatures;
import io.jvisor.bpf.btf.LoadedBtf;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * How to turn a {@link CollectionSpec} into a {@link Collection}.
 *
 * @param programOptions verifier log level and size for every program
 * @param replacements maps to use instead of creating the maps of these names (for hot swap and
 *     restart); the caller keeps ownership of them
 * @param pinPath the bpffs directory where maps with {@code pinning = LIBBPF_PIN_BY_NAME} are pinned,
 *     and reused from when already there; null to not pin them
 * @param btfFeatures what BTF the kernel accepts; null to derive it from the running kernel
 * @param btf the object's BTF as already loaded by {@link Collection#loadBtf}, to use instead of
 *     loading it again (many copies of one object share one); the caller keeps ownership; null to
 *     load the spec's own
 */
public record CollectionOptions(LoadOptions programOptions, Map<String, BpfMap> replacements, Path pinPath,
                                BtfFeatures btfFeatures, LoadedBtf btf) {
    /** The defaults: no replacements, no pin path, verifier log on failure only. */
    public static final CollectionOptions DEFAULT = new CollectionOptions(LoadOptions.DEFAULT, Map.of(), null, null);

    public CollectionOptions {
        Objects.requireNonNull(programOptions, "programOptions");
        replacements = Map.copyOf(replacements);
    }

    /** Options that load the spec's own BTF. */
    public CollectionOptions(LoadOptions programOptions, Map<String, BpfMap> replacements, Path pinPath,
                             BtfFeatures btfFeatures) {
        this(programOptions, replacements, pinPath, btfFeatures, null);
    }

    /** These options with another log level. */
    public CollectionOptions withLogLevel(int level) {
        return new CollectionOptions(programOptions.withLogLevel(level), replacements, pinPath, btfFeatures, btf);
    }

    /** These options with {@code map} used for the map named {@code name}. */
    public CollectionOptions withReplacement(String name, BpfMap map) {
        Map<String, BpfMap> m = new java.util.HashMap<>(replacements);
        m.put(name, map);
        return new CollectionOptions(programOptions, m, pinPath, btfFeatures, btf);
    }

    /** These options with a pin path for pin-by-name maps. */
    public CollectionOptions withPinPath(Path path) {
        return new CollectionOptions(programOptions, replacements, path, btfFeatures, btf);
    }

    /**
     * These options with {@code loaded} as the object's BTF: made by {@link Collection#loadBtf} from
     * a spec with the same BTF ({@link CollectionSpec#withConstant} and {@link CollectionSpec#withMap}
     * keep it), so that loading many copies of one object loads its BTF once.
     */
    public CollectionOptions withBtf(LoadedBtf loaded) {
        return new CollectionOptions(programOptions, replacements, pinPath, btfFeatures, loaded);
    }
}

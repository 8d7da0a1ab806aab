package io.jvisor.engine;

import java.util.Map;

/**
 * A kind of IO module: a C data plane plus a Java control plane. Module types are found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.jvisor.engine.ModuleType}), so a
 * third-party module is a jar on the class path; {@link #fromSource} makes one from raw C at run time.
 */
public interface ModuleType {
    /** The type name used in topologies, e.g. {@code forwarder}. */
    String name();

    /** The data plane. */
    ModuleCode code();

    /** How many ports an instance has (at most {@link Sdk#MAX_PORTS}). */
    default int ports() {
        return Sdk.MAX_PORTS;
    }

    /**
     * How instances of this type forward, for the topology's loop check ({@link PathCheck}): a loop
     * of instances is accepted only when at least one of them is {@link Forwarding#L3} (decrements
     * the TTL of what it forwards). The default, {@link Forwarding#L2}, is right for any module that
     * may forward a frame unchanged.
     */
    default Forwarding forwarding() {
        return Forwarding.L2;
    }

    /**
     * The configuration schema as a record, or null for none. Each component is a key; the engine
     * binds an instance's configuration to it (with type conversion) before anything is applied, and
     * refuses unknown keys, missing components and values of the wrong type, naming the key.
     */
    default Class<? extends Record> configSchema() {
        return null;
    }

    /**
     * The configuration keys this type accepts, for documentation and for clients that check a
     * configuration before they send it (the daemon's types resource serves them). A type that
     * checks its own flat keys in {@link #validateConfig} declares them here, indexed keys with
     * placeholders ({@code port.N.vlan}, {@code route.N}); {@link #validateConfig} stays the
     * authority on what is valid. The default is empty: no keys declared (a type with a
     * {@link #configSchema()} is described by its record).
     */
    default java.util.List<ConfigKey> configKeys() {
        return java.util.List.of();
    }

    /**
     * Checks an instance's configuration. The default binds it to {@link #configSchema()}, or
     * accepts only an empty configuration when there is no schema.
     *
     * @return the reason it is wrong, naming the key, or null when it is fine
     */
    default String validateConfig(Map<String, String> config) {
        Class<? extends Record> schema = configSchema();
        if (schema == null) {
            return config.isEmpty() ? null : "this module takes no configuration, got keys " + config.keySet();
        }
        try {
            ConfigBinding.bind(config, schema);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /**
     * Sizes of the module's own maps for an instance with this configuration: the C name of a map to
     * its {@code max_entries}. The engine sets them on the object before it loads the instance, as it
     * sets the {@code .rodata} constant {@code jv_slot}, so each instance of a type can have maps of
     * its own sizes. Maps not named keep the size their C source gives. Called only with a
     * configuration {@link #validateConfig} accepted; the default names none.
     *
     * <p>A map cannot be resized in the kernel. When a reconfiguration changes a size, the engine
     * reloads the instance's code into its slot with a new, empty map of the new size, and carries
     * over every map whose size does not change, as in a live swap. The new configuration's
     * handler's {@link ModuleHandler#migrate migrate} runs (old and new code hash equal) before the
     * reloaded program takes traffic, then the slot switches to it in one atomic update.
     */
    default Map<String, Integer> mapSizes(Map<String, String> config) {
        return Map.of();
    }

    /**
     * What to do with each of the type's maps, by C name, whose layout a new version of the code
     * changes ({@link MapLayoutCheck}): start it empty, keep its bytes, or convert each entry. The
     * engine consults it when a live swap or reload would carry over a map of the same name whose
     * key or value layout differs, and refuses the swap for such a map with no migration. The
     * default declares none.
     */
    default Map<String, MapMigration> mapMigrations() {
        return Map.of();
    }

    /** The control plane of a new instance. */
    default ModuleHandler handler(Map<String, String> config) {
        return ModuleHandler.NONE;
    }

    /** A type from raw C source given at run time, with no Java control plane. */
    static ModuleType fromSource(String name, String cSource) {
        return new SourceModule(name, new ModuleCode(name + ".c", cSource), Sdk.MAX_PORTS);
    }

    /** A type from raw C source with a port count. */
    static ModuleType fromSource(String name, String cSource, int ports) {
        return new SourceModule(name, new ModuleCode(name + ".c", cSource), ports);
    }

    /** A module type given as source at run time. */
    record SourceModule(String name, ModuleCode code, int ports, Map<String, MapMigration> mapMigrations)
            implements ModuleType {
        /** A type with no map migrations. */
        public SourceModule(String name, ModuleCode code, int ports) {
            this(name, code, ports, Map.of());
        }

        public SourceModule {
            mapMigrations = Map.copyOf(mapMigrations);
            if (name == null || !name.matches("[a-z][a-z0-9_-]{0,31}")) {
                throw new IllegalArgumentException("module type name must be 1-32 of [a-z0-9_-] starting with a letter: "
                        + name);
            }
            if (ports < 1 || ports > Sdk.MAX_PORTS) {
                throw new IllegalArgumentException("ports must be 1.." + Sdk.MAX_PORTS + ", got " + ports);
            }
        }
    }
}

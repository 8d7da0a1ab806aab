package io.jvisor.engine;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The module types an engine knows: those found on the class path by {@link ServiceLoader}, plus
 * those registered at run time (raw C source).
 */
public final class ModuleCatalog {
    private final Map<String, ModuleType> types = new ConcurrentHashMap<>();

    /** A catalog of the class path's module types. */
    public static ModuleCatalog discover() {
        ModuleCatalog c = new ModuleCatalog();
        for (ModuleType t : ServiceLoader.load(ModuleType.class)) {
            c.register(t);
        }
        return c;
    }

    /**
     * Adds a type, or replaces a runtime type of the same name.
     *
     * @throws IllegalArgumentException when a different class-path type has that name
     */
    public void register(ModuleType type) {
        ModuleType old = types.putIfAbsent(type.name(), type);
        if (old != null && old != type) {
            if (!(old instanceof ModuleType.SourceModule) || !(type instanceof ModuleType.SourceModule)) {
                throw new IllegalArgumentException("module type '" + type.name() + "' is already registered by "
                        + old.getClass().getName());
            }
            types.put(type.name(), type);
        }
    }

    /** The type named {@code name}, or null. */
    public ModuleType get(String name) {
        return types.get(name);
    }

    /** Every type, by name. */
    public Map<String, ModuleType> all() {
        return new TreeMap<>(types);
    }
}

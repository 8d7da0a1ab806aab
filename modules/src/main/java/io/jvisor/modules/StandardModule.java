package io.jvisor.modules;

import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleType;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What every standard module type has the same way: a type name, a C data plane in the resource
 * {@code <name>.c} next to the type's class, a port count, and configuration checked by parsing it.
 * A type adds its configuration keys and its control plane.
 */
public abstract class StandardModule implements ModuleType {
    private final String name;
    private final int ports;
    private final Consumer<Map<String, String>> parse;

    /**
     * @param name the type name, which also names the data plane's resource ({@code name + ".c"})
     * @param ports how many ports an instance has
     * @param parse parses a configuration, throwing an {@link IllegalArgumentException} that names
     *     the key when it is wrong
     */
    protected StandardModule(String name, int ports, Consumer<Map<String, String>> parse) {
        this.name = name;
        this.ports = ports;
        this.parse = parse;
    }

    @Override
    public final String name() {
        return name;
    }

    /** The data plane, read from the resource {@code <name>.c} next to the concrete type's class. */
    @Override
    public final ModuleCode code() {
        return ModuleCode.resource(getClass(), name + ".c");
    }

    @Override
    public final int ports() {
        return ports;
    }

    /** Null when the configuration parses, else the parser's message (which names the key). */
    @Override
    public final String validateConfig(Map<String, String> config) {
        return ConfigValues.problemOf(() -> parse.accept(config));
    }
}

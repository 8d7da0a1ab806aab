package io.jvisor.modules;

import io.jvisor.engine.ModuleHandler;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A standard module type that keeps the control plane of each running instance it made, so that a
 * caller holding the type object (from the engine's catalog) reaches an instance's handler by the
 * instance's name. A handler registers itself in {@link #handlers()} when its instance starts and
 * removes itself when it stops.
 *
 * @param <H> the type's handler
 */
public abstract class TrackingModule<H extends ModuleHandler> extends StandardModule {
    private final Map<String, H> handlers = new ConcurrentHashMap<>();

    /** See {@link StandardModule#StandardModule(String, int, Consumer)}. */
    protected TrackingModule(String name, int ports, Consumer<Map<String, String>> parse) {
        super(name, ports, parse);
    }

    /** The running handlers by instance name, for the handlers this type makes to register in. */
    protected final Map<String, H> handlers() {
        return handlers;
    }

    /** The running control plane of the instance with this name (through this module type object), or null. */
    public H instance(String name) {
        return handlers.get(name);
    }
}

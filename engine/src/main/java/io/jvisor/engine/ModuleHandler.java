package io.jvisor.engine;

/**
 * The Java control plane of one instance: lifecycle hooks and the slow-path handler. Every method
 * has a default that does nothing, so a module overrides only what it needs. Calls for one
 * instance never overlap.
 */
public interface ModuleHandler {
    /** Called once the instance is loaded and its ports are wired. */
    default void onStart(InstanceContext ctx) {}

    /** A packet the data plane sent to user space. Answer it with {@link InstanceContext#transmit}. */
    default void onPacket(InstanceContext ctx, PacketIn packet) {}

    /**
     * After a live swap to new code, before the new code takes traffic: copy or convert state the
     * new code's maps need. The default does nothing, which is right when the map layout is unchanged
     * (same-named maps are carried over as they are).
     */
    default void migrate(InstanceContext ctx, String oldCodeHash, String newCodeHash) {}

    /** Called before the instance is removed. */
    default void onStop(InstanceContext ctx) {}

    /** A handler that does nothing. */
    ModuleHandler NONE = new ModuleHandler() {};
}

package io.jvisor.engine;

/** A module type found through ServiceLoader, as a third-party jar's would be. */
public final class DiscoveredModule implements ModuleType {
    @Override
    public String name() {
        return "discovered-forwarder";
    }

    @Override
    public ModuleCode code() {
        return ModuleCode.resource(DiscoveredModule.class, "forwarder.c");
    }

    @Override
    public int ports() {
        return 2;
    }

    /** The configuration: a label and a weight. */
    public record Config(String label, int weight) {}

    @Override
    public Class<? extends Record> configSchema() {
        return Config.class;
    }
}

package io.jvisor.engine;

import java.util.Map;

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

    @Override
    public String validateConfig(Map<String, String> config) {
        for (String k : config.keySet()) {
            if (!k.equals("label")) {
                return "unknown key '" + k + "' (known: label)";
            }
        }
        return null;
    }
}

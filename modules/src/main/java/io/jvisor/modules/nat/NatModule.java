package io.jvisor.modules.nat;

import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.ModuleType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * IPv4 NAT as a two-port bump in the wire (port 0 inside, port 1 outside): source NAT with port
 * allocation (masquerade), destination NAT (port forwarding), ICMP echo identifier translation, and
 * mapping expiry. The data plane ({@code nat.c}) sets connections up and translates them; the
 * control plane ({@link NatHandler}) writes the rules and sweeps idle mappings. See docs/nat.md.
 */
public final class NatModule implements ModuleType {
    private final Map<String, NatHandler> handlers = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "nat";
    }

    @Override
    public ModuleCode code() {
        return ModuleCode.resource(NatModule.class, "nat.c");
    }

    @Override
    public int ports() {
        return 2;
    }

    @Override
    public String validateConfig(Map<String, String> config) {
        try {
            NatConfig.parse(config);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        return new NatHandler(NatConfig.parse(config), handlers);
    }

    /** The running control plane of the instance with this name (through this module type object), or null. */
    public NatHandler instance(String name) {
        return handlers.get(name);
    }
}

package io.jvisor.modules.lb;

import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.ModuleType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An L4 load balancer (IPv4, TCP and UDP) as a two-port bump in the wire (port 0 clients, port 1
 * backends): services VIP:port/protocol with weighted backends, Maglev consistent hashing, flow
 * affinity through an LRU connection table, DNAT and DSR (IPIP) modes, backends added, drained and
 * removed live. The data plane is {@code lb.c}; the control plane is {@link LbHandler}. See docs/lb.md.
 */
public final class LbModule implements ModuleType {
    private final Map<String, LbHandler> handlers = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "lb";
    }

    @Override
    public ModuleCode code() {
        return ModuleCode.resource(LbModule.class, "lb.c");
    }

    @Override
    public int ports() {
        return 2;
    }

    @Override
    public String validateConfig(Map<String, String> config) {
        try {
            LbConfig.parse(config);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        return new LbHandler(LbConfig.parse(config), handlers);
    }

    /** The running control plane of the instance with this name (through this module type object), or null. */
    public LbHandler instance(String name) {
        return handlers.get(name);
    }
}

package io.jvisor.modules.router;

import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.Sdk;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The IPv4 router: ports with an address/prefix and a MAC, connected and static routes in an LPM
 * trie, ARP, TTL and ICMP. The forwarding path is in the kernel ({@code router.c}); ARP, ICMP and
 * neighbour aging are in {@link RouterHandler}. See docs/modules.md.
 */
public final class RouterModule implements ModuleType {
    private final Map<String, RouterHandler> handlers = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "router";
    }

    @Override
    public ModuleCode code() {
        return ModuleCode.resource(RouterModule.class, "router.c");
    }

    @Override
    public int ports() {
        return Sdk.MAX_PORTS;
    }

    @Override
    public String validateConfig(Map<String, String> config) {
        try {
            RouterConfig.parse(config);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        return new RouterHandler(RouterConfig.parse(config), handlers);
    }

    /** The running control plane of the instance with this name (through this module type object), or null. */
    public RouterHandler instance(String name) {
        return handlers.get(name);
    }
}

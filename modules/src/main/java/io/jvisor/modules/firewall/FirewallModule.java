package io.jvisor.modules.firewall;

import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.ModuleType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stateful firewall: a 2-port module inserted transparently between two peers (port 0 inside,
 * port 1 outside), with connection tracking and ingress and egress rule chains classified by
 * tuple-space search in the kernel ({@code firewall.c}). The configuration is
 * {@link FirewallConfig}; see docs/firewall.md.
 */
public final class FirewallModule implements ModuleType {
    private final Map<String, FirewallHandler> handlers = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "firewall";
    }

    @Override
    public ModuleCode code() {
        return ModuleCode.resource(FirewallModule.class, "firewall.c");
    }

    @Override
    public int ports() {
        return 2;
    }

    /** Parses the keys and compiles both chains, so that a rule set the data plane cannot hold is refused before apply. */
    @Override
    public String validateConfig(Map<String, String> config) {
        try {
            check(FirewallConfig.parse(config));
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** Throws IllegalArgumentException when the data plane cannot hold the configuration's rule set. */
    static void check(FirewallConfig c) {
        int budget = TupleSpace.MAX_ENTRIES;
        for (FirewallConfig.Chain ch : FirewallConfig.Chain.values()) {
            List<Rule> rules = List.copyOf(c.rules(ch).values());
            budget -= TupleSpace.compile(rules, ch.key(), budget).entries().size();
        }
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        return new FirewallHandler(FirewallConfig.parse(config), handlers);
    }

    /** The running control plane of the instance with this name (through this module type object), or null. */
    public FirewallHandler instance(String name) {
        return handlers.get(name);
    }
}

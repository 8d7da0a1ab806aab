package io.jvisor.modules.firewall;

import io.jvisor.modules.TrackingModule;

import io.jvisor.engine.ModuleHandler;
import java.util.List;
import java.util.Map;

/**
 * The stateful firewall: a 2-port module inserted transparently between two peers (port 0 inside,
 * port 1 outside), with connection tracking and ingress and egress rule chains classified by
 * tuple-space search in the kernel ({@code firewall.c}). The configuration is
 * {@link FirewallConfig}; see docs/firewall.md.
 */
public final class FirewallModule extends TrackingModule<FirewallHandler> {
    /**
     * A type object; the engine's catalog holds one. Its validation parses the keys and compiles both
     * chains, so that a rule set the data plane cannot hold is refused before apply.
     */
    public FirewallModule() {
        super("firewall", 2, c -> check(FirewallConfig.parse(c)));
    }

    private static final String RULE = "accept|drop|log [log] [src A.B.C.D/LEN] [dst A.B.C.D/LEN] "
            + "[proto tcp|udp|icmp|N] [sport P[-Q]] [dport P[-Q]] [icmp-type T[/C]] [flags syn,!ack,...] "
            + "[state new,established,related,invalid]";
    private static final String POLICY = "accept|drop|accept log|drop log";
    private static final String TIMEOUT = "SECONDS (1..315360000)";

    /** The keys {@link #validateConfig} accepts (see its module's doc). */
    @Override
    public java.util.List<io.jvisor.engine.ConfigKey> configKeys() {
        return java.util.List.of(
            io.jvisor.engine.ConfigKey.optional("egress.N", RULE, null,
                    "Rule N of the egress chain (packets entering port 0, inside, leaving port 1). Rules are "
                            + "tried in the order of N; the first that matches decides."),
            io.jvisor.engine.ConfigKey.optional("ingress.N", RULE, null,
                    "Rule N of the ingress chain (packets entering port 1, outside, leaving port 0)."),
            io.jvisor.engine.ConfigKey.optional("egress.policy", POLICY, "accept", "What happens to egress packets no rule matches."),
            io.jvisor.engine.ConfigKey.optional("ingress.policy", POLICY, "accept", "What happens to ingress packets no rule matches."),
            io.jvisor.engine.ConfigKey.optional("timeout.tcp.syn", TIMEOUT, "60", "Conntrack timeout of a TCP connection being opened."),
            io.jvisor.engine.ConfigKey.optional("timeout.tcp.established", TIMEOUT, "7200",
                    "Conntrack timeout of an established TCP connection."),
            io.jvisor.engine.ConfigKey.optional("timeout.tcp.fin", TIMEOUT, "120", "Conntrack timeout of a TCP connection being closed."),
            io.jvisor.engine.ConfigKey.optional("timeout.tcp.close", TIMEOUT, "10", "Conntrack timeout of a closed or reset TCP connection."),
            io.jvisor.engine.ConfigKey.optional("timeout.udp", TIMEOUT, "30", "Conntrack timeout of a UDP flow."),
            io.jvisor.engine.ConfigKey.optional("timeout.icmp", TIMEOUT, "30", "Conntrack timeout of an ICMP echo flow."));
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
        return new FirewallHandler(FirewallConfig.parse(config), handlers());
    }
}

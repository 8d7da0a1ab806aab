package io.jvisor.modules.lb;

import io.jvisor.modules.TrackingModule;

import io.jvisor.engine.ModuleHandler;
import java.util.Map;

/**
 * An L4 load balancer (IPv4, TCP and UDP) as a two-port bump in the wire (port 0 clients, port 1
 * backends): services VIP:port/protocol with weighted backends, Maglev consistent hashing, flow
 * affinity through an LRU connection table, DNAT and DSR (IPIP) modes, backends added, drained and
 * removed live. The data plane is {@code lb.c}; the control plane is {@link LbHandler}. See docs/lb.md.
 */
public final class LbModule extends TrackingModule<LbHandler> {
    /** A type object; the engine's catalog holds one. */
    public LbModule() {
        super("lb", 2, LbConfig::parse);
    }

    /** The keys {@link #validateConfig} accepts (see its module's doc). */
    @Override
    public java.util.List<io.jvisor.engine.ConfigKey> configKeys() {
        return java.util.List.of(
            io.jvisor.engine.ConfigKey.optional("service.NAME", "tcp|udp VIP:PORT [mode dnat|dsr]", null,
                    "A service (NAME: letters, digits, - and _); mode dnat (the default) rewrites the "
                            + "destination, dsr encapsulates in IPIP. At most " + LbConfig.MAX_SERVICES + "."),
            io.jvisor.engine.ConfigKey.optional("backend.NAME.ID", "A.B.C.D[:PORT] [weight 1..65535] [draining]", null,
                    "A backend of service NAME; the port defaults to the service's, the weight to 1. A "
                            + "draining backend keeps its flows and gets no new ones."),
            io.jvisor.engine.ConfigKey.optional("table.size", "PRIME (2..65537)", Integer.toString(Maglev.DEFAULT_SIZE),
                    "The Maglev table size, larger than any service's number of backends."),
            io.jvisor.engine.ConfigKey.optional("dsr.source", "A.B.C.D", null, "The outer source address of DSR packets; dsr services need it."),
            io.jvisor.engine.ConfigKey.optional("mac", "XX:XX:XX:XX:XX:XX", null,
                    "The LB's own MAC, with which it answers ARP for its VIPs; derived from the instance "
                            + "name when not given."));
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        return new LbHandler(LbConfig.parse(config), handlers());
    }
}

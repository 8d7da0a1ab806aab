package io.jvisor.modules.router;

import io.jvisor.modules.TrackingModule;

import io.jvisor.engine.Forwarding;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.Sdk;
import java.util.Map;

/**
 * The IPv4 router: ports with an address/prefix and a MAC, connected and static routes in an LPM
 * trie, ARP, TTL and ICMP. The forwarding path is in the kernel ({@code router.c}); ARP, ICMP and
 * neighbour aging are in {@link RouterHandler}. See docs/modules.md.
 */
public final class RouterModule extends TrackingModule<RouterHandler> {
    /** A type object; the engine's catalog holds one. */
    public RouterModule() {
        super("router", Sdk.MAX_PORTS, RouterConfig::parse);
    }

    /** The keys {@link #validateConfig} accepts (see its module's doc). */
    @Override
    public java.util.List<io.jvisor.engine.ConfigKey> configKeys() {
        return java.util.List.of(
            io.jvisor.engine.ConfigKey.optional("port.N", "A.B.C.D/LEN [mac XX:XX:XX:XX:XX:XX]", null,
                    "Port N's address and prefix (/30 or shorter; ports must not overlap) and its MAC, derived "
                            + "from the instance name and the port when not given. N is 0..31."),
            io.jvisor.engine.ConfigKey.optional("route.N", "A.B.C.D/LEN via A.B.C.D [metric M]", null,
                    "A static route; the next hop must be on a port's subnet, whose port becomes the out "
                            + "port. The lowest metric (default 0) wins; a connected route beats a static one."),
            io.jvisor.engine.ConfigKey.optional("neighbour.timeout", "SECONDS (>= 1)", "300",
                    "How long a neighbour entry lives without being confirmed."));
    }

    /** L3: router.c forwards only IPv4 packets, after decrementing their TTL (at 1 it answers ICMP time exceeded). */
    @Override
    public Forwarding forwarding() {
        return Forwarding.L3;
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        return new RouterHandler(RouterConfig.parse(config), handlers());
    }
}

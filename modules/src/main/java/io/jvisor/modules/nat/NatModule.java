package io.jvisor.modules.nat;

import io.jvisor.modules.TrackingModule;

import io.jvisor.engine.ModuleHandler;
import java.util.Map;

/**
 * IPv4 NAT as a two-port bump in the wire (port 0 inside, port 1 outside): source NAT with port
 * allocation (masquerade), destination NAT (port forwarding), ICMP echo identifier translation, and
 * mapping expiry. The data plane ({@code nat.c}) sets connections up and translates them; the
 * control plane ({@link NatHandler}) writes the rules and sweeps idle mappings. See docs/nat.md.
 */
public final class NatModule extends TrackingModule<NatHandler> {
    /** A type object; the engine's catalog holds one. */
    public NatModule() {
        super("nat", 2, NatConfig::parse);
    }

    /** The keys {@link #validateConfig} accepts (see its module's doc). */
    @Override
    public java.util.List<io.jvisor.engine.ConfigKey> configKeys() {
        return java.util.List.of(
            io.jvisor.engine.ConfigKey.optional("snat.N", "A.B.C.D/LEN to E.F.G.H", null,
                    "Source NAT: connections from inside sources in the prefix leave with source address "
                            + "E.F.G.H and a port from 'ports'; the longest prefix wins."),
            io.jvisor.engine.ConfigKey.optional("dnat.N", "tcp|udp E.F.G.H:P to A.B.C.D:Q", null,
                    "Port forward: connections from the outside to E.F.G.H:P go to the inside service A.B.C.D:Q."),
            io.jvisor.engine.ConfigKey.optional("ports", "MIN-MAX (1..65535)", "1024-65535", "The SNAT port range, inclusive."),
            io.jvisor.engine.ConfigKey.optional("timeout.tcp", "SECONDS (>= 1)", "3600", "Seconds a TCP mapping lives without a packet."),
            io.jvisor.engine.ConfigKey.optional("timeout.tcp.closed", "SECONDS (>= 1)", "10",
                    "Seconds a TCP mapping lives without a packet once a FIN or RST crossed."),
            io.jvisor.engine.ConfigKey.optional("timeout.udp", "SECONDS (>= 1)", "120", "Seconds a UDP mapping lives without a packet."),
            io.jvisor.engine.ConfigKey.optional("timeout.icmp", "SECONDS (>= 1)", "30", "Seconds an ICMP echo mapping lives without a packet."));
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        return new NatHandler(NatConfig.parse(config), handlers());
    }
}

package io.jvisor.net;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A network device as the kernel reports it (RTM_NEWLINK), in the namespace of the {@link Rtnl}
 * that listed it.
 *
 * @param ifindex the interface index, unique within its namespace
 * @param name the interface name (at most 15 bytes)
 * @param mac the hardware address, absent for devices without one
 * @param mtu the MTU in bytes
 * @param flags the IFF_* flags the net layer names
 * @param kind the link kind ({@code veth}, {@code bridge}, {@code vxlan}, {@code dummy}, ...), or
 *     empty for devices without rtnl_link_ops such as {@code lo}
 * @param master the ifindex of the master device (e.g. a bridge), if enslaved
 * @param linkIfindex the ifindex of the underlying or peer device (IFLA_LINK; a veth's peer), which
 *     may live in the namespace named by {@code linkNetnsId}
 * @param linkNetnsId the namespace id, local to this namespace, where {@code linkIfindex} lives
 *     (IFLA_LINK_NETNSID), when that is another namespace
 * @param operState the RFC 2863 operational state as {@code ip} prints it: UP, DOWN, UNKNOWN,
 *     LOWERLAYERDOWN, ...
 * @param vxlan the VXLAN parameters, for vxlan devices
 */
public record Link(int ifindex, String name, Optional<MacAddress> mac, int mtu, Set<LinkFlag> flags, String kind,
                   OptionalInt master, OptionalInt linkIfindex, OptionalInt linkNetnsId, String operState,
                   Optional<VxlanInfo> vxlan) {
    /** Copies the flag set. */
    public Link {
        flags = Set.copyOf(flags);
    }

    /** True when administratively up (IFF_UP). */
    public boolean isUp() {
        return flags.contains(LinkFlag.UP);
    }

    /**
     * A vxlan device's parameters (IFLA_VXLAN_*).
     *
     * @param vni the VXLAN network identifier (0 in external mode)
     * @param dstPort the UDP destination port
     * @param local the local (source) address, if set
     * @param external whether the device is in external (collect_md) mode, where the tunnel key
     *     comes from per-packet metadata, as eBPF programs set it
     * @param learning whether the device learns remote addresses from received packets
     */
    public record VxlanInfo(int vni, int dstPort, Optional<java.net.InetAddress> local, boolean external,
                            boolean learning) {}
}

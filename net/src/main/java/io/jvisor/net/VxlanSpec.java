package io.jvisor.net;

import java.net.InetAddress;
import java.util.Objects;

/**
 * A vxlan device to create.
 *
 * @param name the device name
 * @param vni the VXLAN network identifier; ignored (0) in external mode
 * @param external external (collect_md) mode: the tunnel id and remote come from per-packet
 *     metadata (bpf_skb_set_tunnel_key), as in a Cilium-style overlay
 * @param dstPort the UDP destination port (4789 is the IANA port; the kernel's default is 8472)
 * @param local the local source address, or null
 * @param learning whether to learn remote addresses from received packets
 * @param mtu the MTU, or 0 for the kernel's default
 */
public record VxlanSpec(String name, int vni, boolean external, int dstPort, InetAddress local, boolean learning,
                        int mtu) {
    /** The IANA VXLAN port. */
    public static final int IANA_PORT = 4789;

    /** Checks name, VNI and port ranges. */
    public VxlanSpec {
        Objects.requireNonNull(name, "name");
        if (vni < 0 || vni > 0xffffff) {
            throw new IllegalArgumentException("VNI " + vni + " is not a 24-bit number");
        }
        if (dstPort < 1 || dstPort > 65535) {
            throw new IllegalArgumentException("port " + dstPort + " out of 1..65535");
        }
    }

    /** An external-mode (collect_md) device on port 4789, without learning. */
    public static VxlanSpec external(String name) {
        return new VxlanSpec(name, 0, true, IANA_PORT, null, false, 0);
    }

    /** A device for one VNI on port 4789, with learning. */
    public static VxlanSpec of(String name, int vni) {
        return new VxlanSpec(name, vni, false, IANA_PORT, null, true, 0);
    }

    /** The same device on UDP port {@code port}. */
    public VxlanSpec withDstPort(int port) {
        return new VxlanSpec(name, vni, external, port, local, learning, mtu);
    }

    /** The same device with source address {@code addr}. */
    public VxlanSpec withLocal(InetAddress addr) {
        return new VxlanSpec(name, vni, external, dstPort, addr, learning, mtu);
    }

    /** The same device with learning on or off. */
    public VxlanSpec withLearning(boolean on) {
        return new VxlanSpec(name, vni, external, dstPort, local, on, mtu);
    }

    /** The same device with MTU {@code m}. */
    public VxlanSpec withMtu(int m) {
        return new VxlanSpec(name, vni, external, dstPort, local, learning, m);
    }
}

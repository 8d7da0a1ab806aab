package io.jvisor.net;

import java.util.Objects;

/**
 * A veth pair to create. Either end can be created straight inside another namespace, so that a
 * wire between two namespaces takes one request and never exists under a temporary name.
 *
 * @param name the first end's name
 * @param peerName the second end's name
 * @param namespace where the first end is created, or null for the socket's namespace
 * @param peerNamespace where the peer is created, or null for the socket's namespace
 * @param mac the first end's MAC, or null for a random one
 * @param peerMac the peer's MAC, or null for a random one
 * @param mtu the MTU of both ends, or 0 for the default (1500)
 * @param up whether the first end is created administratively up (the peer cannot be: veth opens a
 *     device only once the pair is complete, and the peer is configured before that, so the kernel
 *     answers ENOTCONN)
 * @param master the device (e.g. a bridge) the first end is enslaved to on creation, or null; it is
 *     looked up in the socket's namespace
 */
public record VethSpec(String name, String peerName, Netns namespace, Netns peerNamespace, MacAddress mac,
                       MacAddress peerMac, int mtu, boolean up, String master) {
    /** Checks the names. */
    public VethSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(peerName, "peerName");
    }

    /** A pair {@code name} &lt;-&gt; {@code peerName}, both in the socket's namespace, both down. */
    public static VethSpec of(String name, String peerName) {
        return new VethSpec(name, peerName, null, null, null, null, 0, false, null);
    }

    /** The same pair with the first end created in {@code ns}. */
    public VethSpec withNamespace(Netns ns) {
        return new VethSpec(name, peerName, ns, peerNamespace, mac, peerMac, mtu, up, master);
    }

    /** The same pair with the peer created in {@code ns}. */
    public VethSpec withPeerNamespace(Netns ns) {
        return new VethSpec(name, peerName, namespace, ns, mac, peerMac, mtu, up, master);
    }

    /** The same pair with the first end's MAC set. */
    public VethSpec withMac(MacAddress m) {
        return new VethSpec(name, peerName, namespace, peerNamespace, m, peerMac, mtu, up, master);
    }

    /** The same pair with the peer's MAC set. */
    public VethSpec withPeerMac(MacAddress m) {
        return new VethSpec(name, peerName, namespace, peerNamespace, mac, m, mtu, up, master);
    }

    /** The same pair with both MTUs set. */
    public VethSpec withMtu(int m) {
        return new VethSpec(name, peerName, namespace, peerNamespace, mac, peerMac, m, up, master);
    }

    /** The same pair, with the first end created up (or down). */
    public VethSpec withUp(boolean on) {
        return new VethSpec(name, peerName, namespace, peerNamespace, mac, peerMac, mtu, on, master);
    }

    /** The same pair with the first end enslaved to {@code dev} (in the socket's namespace). */
    public VethSpec withMaster(String dev) {
        return new VethSpec(name, peerName, namespace, peerNamespace, mac, peerMac, mtu, up, dev);
    }
}

package io.jvisor.net.lab;

import java.util.Objects;

/**
 * A wire: a veth pair from a host interface ({@code a}) to either another host's interface or a
 * device in the root namespace ({@code b}). In text, a host end is {@code HOST:IFACE} and a root
 * end is a bare device name, which the lab prefixes to keep it unique.
 *
 * @param a the host end
 * @param b the other end: a host end or a root end
 * @param bridge for a root end, the lab bridge it is enslaved to, or null
 */
public record WireSpec(End a, End b, String bridge) {
    /** Checks the ends. */
    public WireSpec {
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        if (a.isRoot()) {
            throw new IllegalArgumentException("wire " + a + " - " + b + ": end a must be a host interface (HOST:IFACE)");
        }
        if (bridge != null && !b.isRoot()) {
            throw new IllegalArgumentException("wire " + a + " - " + b + ": a bridge needs a root end as b");
        }
    }

    /** A wire between two host interfaces, e.g. {@code ("h1:eth0", "h2:eth0")}. */
    public static WireSpec between(String a, String b) {
        return new WireSpec(End.parse(a), End.parse(b), null);
    }

    /** A wire from host interface {@code a} to root device {@code root}, enslaved to {@code bridge} (or null). */
    public static WireSpec toRoot(String a, String root, String bridge) {
        End r = End.parse(root);
        if (!r.isRoot()) {
            throw new IllegalArgumentException("'" + root + "' is not a root device name");
        }
        return new WireSpec(End.parse(a), r, bridge);
    }

    /**
     * One end of a wire.
     *
     * @param host the host, or null for the root namespace
     * @param device the interface name in the host, or the unprefixed root device name
     */
    public record End(String host, String device) {
        /** Checks the device name. */
        public End {
            if (device == null || device.isEmpty()) {
                throw new IllegalArgumentException("wire end without a device name");
            }
        }

        /** {@code HOST:IFACE} or a bare root device name. */
        public static End parse(String text) {
            String t = text.trim();
            int colon = t.indexOf(':');
            return colon < 0 ? new End(null, t) : new End(t.substring(0, colon), t.substring(colon + 1));
        }

        /** True for a device in the root namespace. */
        public boolean isRoot() {
            return host == null;
        }

        @Override
        public String toString() {
            return host == null ? device : host + ":" + device;
        }
    }
}

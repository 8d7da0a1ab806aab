package io.jvisor.net.lab;

import io.jvisor.net.IpPrefix;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

/**
 * A running lab host: its namespace, an rtnetlink socket inside it, and what it was built from.
 * The lab owns both; they close when the lab goes down.
 */
public final class Host {
    private final HostSpec spec;
    private final Netns netns;
    private final Rtnl rtnl;

    Host(HostSpec spec, Netns netns, Rtnl rtnl) {
        this.spec = spec;
        this.netns = netns;
        this.rtnl = rtnl;
    }

    /** The host name in the lab. */
    public String name() {
        return spec.name();
    }

    /** What the host was built from. */
    public HostSpec spec() {
        return spec;
    }

    /** The host's network namespace (named {@code PREFIX-HOST}). */
    public Netns netns() {
        return netns;
    }

    /** An rtnetlink socket inside the host, shared (its methods are synchronized). */
    public Rtnl rtnl() {
        return rtnl;
    }

    /** The first IPv4 address of interface {@code iface} (else its first address), from the spec. */
    public InetAddress address(String iface) {
        InterfaceSpec i = spec.iface(iface);
        if (i == null || i.addresses().isEmpty()) {
            throw new IllegalArgumentException("host " + name() + " has no address on '" + iface + "'");
        }
        return i.addresses().stream().map(IpPrefix::address).filter(a -> a instanceof Inet4Address).findFirst()
                .orElse(i.addresses().getFirst().address());
    }

    /** The first IPv4 address of the host's first interface (else its first address). */
    public InetAddress address() {
        if (spec.interfaces().isEmpty()) {
            throw new IllegalArgumentException("host " + name() + " has no interfaces");
        }
        return address(spec.interfaces().getFirst().name());
    }

    /** Starts {@code command} inside the host. */
    public Process exec(List<String> command) {
        return netns.exec(command);
    }

    @Override
    public String toString() {
        return "host " + name() + " (" + netns.name() + ")";
    }
}

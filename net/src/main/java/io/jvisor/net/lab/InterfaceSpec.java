package io.jvisor.net.lab;

import io.jvisor.net.IpPrefix;
import io.jvisor.net.MacAddress;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One interface of a lab host: the host's end of a wire.
 *
 * @param name the interface name inside the host (at most 15 bytes), e.g. {@code eth0}
 * @param mac its MAC address, or null for a random one
 * @param addresses its IPv4 and IPv6 addresses with prefix lengths
 * @param mtu its MTU, or 0 for the default; the wire's other end gets the same
 */
public record InterfaceSpec(String name, MacAddress mac, List<IpPrefix> addresses, int mtu) {
    /** Copies the address list. */
    public InterfaceSpec {
        Objects.requireNonNull(name, "name");
        addresses = List.copyOf(addresses);
    }

    /** Interface {@code name} with addresses such as {@code "10.1.2.1/24"}. */
    public static InterfaceSpec of(String name, String... addresses) {
        return new InterfaceSpec(name, null, Arrays.stream(addresses).map(IpPrefix::parse).toList(), 0);
    }

    /** The same interface with MAC {@code m}. */
    public InterfaceSpec withMac(MacAddress m) {
        return new InterfaceSpec(name, m, addresses, mtu);
    }

    /** The same interface with MTU {@code m}. */
    public InterfaceSpec withMtu(int m) {
        return new InterfaceSpec(name, mac, addresses, m);
    }
}

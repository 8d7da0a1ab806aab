package io.jvisor.net.lab;

import io.jvisor.net.IpPrefix;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A lab host: a network namespace with interfaces, a default route and sysctls. Its loopback is
 * always brought up.
 *
 * @param name the host name, unique in the lab (letters, digits, '-' and '_')
 * @param interfaces its interfaces, each the end of one wire
 * @param gateway the IPv4 default gateway, or null for no IPv4 default route
 * @param gateway6 the IPv6 default gateway, or null
 * @param sysctls sysctls to set inside the host, e.g. {@code net.ipv4.ip_forward=1}
 */
public record HostSpec(String name, List<InterfaceSpec> interfaces, InetAddress gateway, InetAddress gateway6,
                       Map<String, String> sysctls) {
    /** Copies the collections and checks the gateways' families. */
    public HostSpec {
        Objects.requireNonNull(name, "name");
        interfaces = List.copyOf(interfaces);
        sysctls = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sysctls));
        if (gateway != null && !(gateway instanceof Inet4Address)) {
            throw new IllegalArgumentException("host " + name + ": gateway " + gateway.getHostAddress() + " is not IPv4");
        }
        if (gateway6 != null && gateway6 instanceof Inet4Address) {
            throw new IllegalArgumentException("host " + name + ": gateway6 " + gateway6.getHostAddress() + " is not IPv6");
        }
    }

    /** A host with nothing configured yet. */
    public static HostSpec named(String name) {
        return new HostSpec(name, List.of(), null, null, Map.of());
    }

    /** The same host with one more interface. */
    public HostSpec withInterface(InterfaceSpec i) {
        List<InterfaceSpec> l = new ArrayList<>(interfaces);
        l.add(i);
        return new HostSpec(name, l, gateway, gateway6, sysctls);
    }

    /** The same host with interface {@code iface} carrying {@code addresses}. */
    public HostSpec withInterface(String iface, String... addresses) {
        return withInterface(InterfaceSpec.of(iface, addresses));
    }

    /** The same host with default gateway {@code gw} (IPv4 or IPv6, by its form). */
    public HostSpec withGateway(String gw) {
        InetAddress a = IpPrefix.literal(gw);
        return a instanceof Inet4Address ? new HostSpec(name, interfaces, a, gateway6, sysctls)
                : new HostSpec(name, interfaces, gateway, a, sysctls);
    }

    /** The same host with sysctl {@code key} set to {@code value}. */
    public HostSpec withSysctl(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(sysctls);
        m.put(key, value);
        return new HostSpec(name, interfaces, gateway, gateway6, m);
    }

    /** The interface called {@code iface}, or null. */
    public InterfaceSpec iface(String iface) {
        return interfaces.stream().filter(i -> i.name().equals(iface)).findFirst().orElse(null);
    }
}

package io.jvisor.net;

import java.net.InetAddress;
import java.util.Objects;

/**
 * A route to add or delete. Build one with {@link #to(IpPrefix)} or {@link #defaultVia(InetAddress)}
 * and refine it with the {@code with*} methods; every component except the destination is optional.
 *
 * @param destination the destination prefix
 * @param gateway the next hop, or null for a directly connected route
 * @param device the output device name, or null to let the kernel pick it from the gateway
 * @param table the routing table, {@link Route#TABLE_MAIN} by default
 * @param metric the priority, or -1 for none
 */
public record RouteSpec(IpPrefix destination, InetAddress gateway, String device, int table, int metric) {
    /** Checks that gateway and destination are of one family and that there is a gateway or device. */
    public RouteSpec {
        Objects.requireNonNull(destination, "destination");
        if (gateway != null && (gateway.getAddress().length != destination.address().getAddress().length)) {
            throw new IllegalArgumentException("gateway " + gateway.getHostAddress() + " and destination " + destination
                    + " are of different families");
        }
    }

    /** A route to {@code destination} in the main table, with nothing else set yet. */
    public static RouteSpec to(IpPrefix destination) {
        return new RouteSpec(destination, null, null, Route.TABLE_MAIN, -1);
    }

    /** A route to {@code destination} (parsed) in the main table. */
    public static RouteSpec to(String destination) {
        return to(IpPrefix.parse(destination));
    }

    /** The default route of {@code gateway}'s family through {@code gateway}. */
    public static RouteSpec defaultVia(InetAddress gateway) {
        IpPrefix any = IpPrefix.defaultRoute(gateway.getAddress().length == 4
                ? java.net.StandardProtocolFamily.INET : java.net.StandardProtocolFamily.INET6);
        return to(any).withGateway(gateway);
    }

    /** The same route through {@code gw}. */
    public RouteSpec withGateway(InetAddress gw) {
        return new RouteSpec(destination, gw, device, table, metric);
    }

    /** The same route out of device {@code dev}. */
    public RouteSpec withDevice(String dev) {
        return new RouteSpec(destination, gateway, dev, table, metric);
    }

    /** The same route in table {@code t}. */
    public RouteSpec withTable(int t) {
        return new RouteSpec(destination, gateway, device, t, metric);
    }

    /** The same route with priority {@code m}. */
    public RouteSpec withMetric(int m) {
        return new RouteSpec(destination, gateway, device, table, m);
    }

    @Override
    public String toString() {
        return destination + (gateway == null ? "" : " via " + gateway.getHostAddress())
                + (device == null ? "" : " dev " + device) + (table == Route.TABLE_MAIN ? "" : " table " + table)
                + (metric < 0 ? "" : " metric " + metric);
    }
}

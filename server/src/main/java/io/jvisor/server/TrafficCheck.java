package io.jvisor.server;

import io.jvisor.net.IpPrefix;
import io.jvisor.net.Netns;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import io.jvisor.server.manifest.Manifest;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A little traffic through an applied topology. When the manifest declares {@code spec.checks},
 * exactly those run (see {@link DeclaredChecks}); otherwise pings between its lab hosts (every pair,
 * or the first host to each other when there are many) and a short UDP stream from the first host
 * to the last, counting loss. What {@code jvisor up} runs after applying.
 */
public final class TrafficCheck {
    private TrafficCheck() {}

    /**
     * One check.
     *
     * @param what e.g. {@code ping h1 -> h3 (10.0.2.10)}
     * @param passed whether it passed
     * @param detail counts
     */
    public record Result(String what, boolean passed, String detail) {}

    private record HostAddr(String name, String netns, InetAddress address) {}

    /** Runs the checks over the controller's lab hosts; empty when there are fewer than two. */
    public static List<Result> run(Controller c, int udpPackets) {
        return run(c.manifest(), c::hostNamespace, udpPackets);
    }

    /**
     * Runs the checks over the lab hosts of {@code m}.
     *
     * @param namespaceOf the network namespace name of each host, or null for a host not running
     */
    public static List<Result> run(Manifest m, java.util.function.Function<String, String> namespaceOf,
                                   int udpPackets) {
        List<HostAddr> hosts = new ArrayList<>();
        if (m == null) {
            return List.of();
        }
        if (!m.spec().checks().isEmpty()) {
            return DeclaredChecks.run(m, namespaceOf);
        }
        for (Manifest.Host h : m.spec().hosts()) {
            InetAddress a = firstIpv4(h);
            String ns = namespaceOf.apply(h.name());
            if (a != null && ns != null) {
                hosts.add(new HostAddr(h.name(), ns, a));
            }
        }
        List<Result> out = new ArrayList<>();
        if (hosts.size() < 2) {
            return out;
        }
        List<HostAddr[]> pairs = new ArrayList<>();
        for (HostAddr a : hosts) {
            for (HostAddr b : hosts) {
                if (a != b && (hosts.size() <= 6 || a == hosts.getFirst())) {
                    pairs.add(new HostAddr[] {a, b});
                }
            }
        }
        // A router drops the first packet to a neighbour it has not resolved yet (and asks with ARP).
        for (HostAddr[] p : pairs) {
            try (Netns ns = Netns.open(p[0].netns())) {
                Ping.run(ns, p[1].address(), 1);
            }
        }
        for (HostAddr[] p : pairs) {
            try (Netns ns = Netns.open(p[0].netns())) {
                Ping.Result r = Ping.run(ns, p[1].address(), 3);
                out.add(new Result("ping " + p[0].name() + " -> " + p[1].name() + " (" + p[1].address().getHostAddress()
                        + ")", r.allReplied(), r.received() + "/" + r.transmitted() + " replies"));
            }
        }
        if (udpPackets > 0) {
            HostAddr from = hosts.getFirst();
            HostAddr to = hosts.getLast();
            try (Netns a = Netns.open(from.netns()); Netns b = Netns.open(to.netns());
                 UdpStream udp = UdpStream.open(a, from.address(), b, to.address())) {
                udp.send(udpPackets, 20_000);
                UdpStream.Report r = udp.finish(Duration.ofSeconds(1));
                out.add(new Result("udp " + from.name() + " -> " + to.name(), r.lost() == 0 && r.received() > 0,
                        r.sent() + " sent, " + r.received() + " received, " + r.lost() + " lost"));
            }
        }
        return out;
    }

    /** The first IPv4 address of host {@code h}, or null. */
    public static InetAddress firstIpv4(Manifest.Host h) {
        for (Manifest.Interface i : h.interfaces()) {
            for (String a : i.addresses()) {
                InetAddress addr = IpPrefix.parse(a).address();
                if (addr instanceof Inet4Address) {
                    return addr;
                }
            }
        }
        return null;
    }
}

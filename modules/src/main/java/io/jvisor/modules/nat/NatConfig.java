package io.jvisor.modules.nat;

import io.jvisor.modules.ConfigValues;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.jvisor.modules.ConfigValues.bad;
import static io.jvisor.modules.ConfigValues.index;
import static io.jvisor.modules.ConfigValues.ip;
import static io.jvisor.modules.ConfigValues.seconds;

/**
 * A NAT instance's configuration, parsed from its keys:
 *
 * <ul>
 *   <li>{@code snat.N = A.B.C.D/LEN to E.F.G.H}: connections from inside sources in the prefix leave with
 *       source address E.F.G.H and a port from {@code ports} (masquerade: the address is the outside
 *       interface's, typically the router's outside address);</li>
 *   <li>{@code dnat.N = tcp|udp E.F.G.H:P to A.B.C.D:Q}: connections from the outside to E.F.G.H:P go to the
 *       inside service A.B.C.D:Q (port forwarding);</li>
 *   <li>{@code ports = MIN-MAX}: the SNAT port range, inclusive (default 1024-65535);</li>
 *   <li>{@code timeout.tcp}, {@code timeout.udp}, {@code timeout.icmp}: seconds a mapping lives without
 *       a packet (defaults 3600, 120, 30);</li>
 *   <li>{@code timeout.tcp.closed}: seconds a TCP mapping lives without a packet once a FIN or RST has
 *       crossed in either direction (default 10).</li>
 * </ul>
 *
 * @param snat the source NAT rules, longest prefix wins
 * @param dnat the port forwards
 * @param portMin the lowest SNAT port
 * @param portMax the highest SNAT port
 * @param timeoutTcpSeconds idle timeout of TCP mappings
 * @param timeoutUdpSeconds idle timeout of UDP mappings
 * @param timeoutIcmpSeconds idle timeout of ICMP echo mappings
 * @param timeoutTcpClosedSeconds idle timeout of TCP mappings after a FIN or RST
 */
public record NatConfig(List<Snat> snat, List<Dnat> dnat, int portMin, int portMax, long timeoutTcpSeconds,
        long timeoutUdpSeconds, long timeoutIcmpSeconds, long timeoutTcpClosedSeconds) {

    /** IP protocol numbers. */
    static final int TCP = 6, UDP = 17, ICMP = 1;

    public NatConfig {
        snat = List.copyOf(snat);
        dnat = List.copyOf(dnat);
    }

    /**
     * A source NAT rule.
     *
     * @param prefix the inside source prefix (host order)
     * @param prefixLen its length
     * @param to the address connections leave with (host order)
     */
    public record Snat(int prefix, int prefixLen, int to) {}

    /**
     * A port forward.
     *
     * @param protocol 6 (TCP) or 17 (UDP)
     * @param addr the outside address (host order)
     * @param port the outside port
     * @param to the inside address (host order)
     * @param toPort the inside port
     */
    public record Dnat(int protocol, int addr, int port, int to, int toPort) {}

    /** The idle timeout, in seconds, of a mapping of this IP protocol. */
    public long timeoutSeconds(int protocol) {
        return switch (protocol) {
            case TCP -> timeoutTcpSeconds;
            case UDP -> timeoutUdpSeconds;
            default -> timeoutIcmpSeconds;
        };
    }

    /** Parses the configuration; throws IllegalArgumentException naming the bad key. */
    public static NatConfig parse(Map<String, String> config) {
        List<Snat> snat = new ArrayList<>();
        List<Dnat> dnat = new ArrayList<>();
        int min = 1024, max = 65535;
        long tcp = 3600, udp = 120, icmp = 30, closed = 10;
        Set<Long> prefixes = new HashSet<>();
        Set<String> forwards = new HashSet<>();
        for (var e : new TreeMap<>(config).entrySet()) {
            String k = e.getKey(), v = e.getValue().trim();
            if (k.startsWith("snat.")) {
                index(k, "snat.", Long.MAX_VALUE);
                String[] w = v.split("\\s+");
                if (w.length != 3 || !w[1].equals("to")) {
                    throw bad(k, v, "expected A.B.C.D/LEN to E.F.G.H");
                }
                int[] p = prefix(k, w[0]);
                int to = ip(k, w[2]);
                if (to == 0) {
                    throw bad(k, v, "the address to translate to must not be 0.0.0.0");
                }
                if (!prefixes.add(((long) p[1] << 32) | (p[0] & 0xffffffffL))) {
                    throw bad(k, v, "another snat rule has the same prefix");
                }
                snat.add(new Snat(p[0], p[1], to));
            } else if (k.startsWith("dnat.")) {
                index(k, "dnat.", Long.MAX_VALUE);
                String[] w = v.split("\\s+");
                if (w.length != 4 || !w[2].equals("to")) {
                    throw bad(k, v, "expected tcp|udp E.F.G.H:P to A.B.C.D:Q");
                }
                int proto = ConfigValues.tcpOrUdp(k, v, w[0]);
                int[] from = ConfigValues.endpoint(k, w[1], -1);
                int[] to = ConfigValues.endpoint(k, w[3], -1);
                if (!forwards.add(w[0] + " " + w[1])) {
                    throw bad(k, v, "another dnat rule forwards the same address and port");
                }
                dnat.add(new Dnat(proto, from[0], from[1], to[0], to[1]));
            } else if (k.equals("ports")) {
                String[] r = v.split("-", -1);
                try {
                    if (r.length != 2) {
                        throw new NumberFormatException();
                    }
                    min = Integer.parseInt(r[0].trim());
                    max = Integer.parseInt(r[1].trim());
                } catch (NumberFormatException x) {
                    throw bad(k, v, "expected MIN-MAX");
                }
                if (min < 1 || max > 65535 || min > max) {
                    throw bad(k, v, "expected 1 <= MIN <= MAX <= 65535");
                }
            } else if (k.equals("timeout.tcp")) {
                tcp = seconds(k, v);
            } else if (k.equals("timeout.udp")) {
                udp = seconds(k, v);
            } else if (k.equals("timeout.icmp")) {
                icmp = seconds(k, v);
            } else if (k.equals("timeout.tcp.closed")) {
                closed = seconds(k, v);
            } else {
                throw new IllegalArgumentException("unknown key '" + k
                        + "' (known: snat.N, dnat.N, ports, timeout.tcp, timeout.tcp.closed, timeout.udp, timeout.icmp)");
            }
        }
        return new NatConfig(snat, dnat, min, max, tcp, udp, icmp, closed);
    }

    /** The prefix with its host bits cleared. */
    static int[] prefix(String k, String s) {
        int[] p = ConfigValues.prefix(k, s);
        return new int[] {p[0] & ConfigValues.mask(p[1]), p[1]};
    }
}

package io.jvisor.modules.router;

import io.jvisor.modules.ConfigValues;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.jvisor.modules.ConfigValues.bad;
import static io.jvisor.modules.ConfigValues.index;
import static io.jvisor.modules.ConfigValues.ip;
import static io.jvisor.modules.ConfigValues.mask;
import static io.jvisor.modules.ConfigValues.prefix;

/**
 * A router's configuration, parsed from the instance's keys:
 *
 * <ul>
 *   <li>{@code port.N = A.B.C.D/LEN [mac XX:XX:XX:XX:XX:XX]}: port N's address and prefix, and its MAC
 *       (derived from the instance name and the port when not given);</li>
 *   <li>{@code route.N = A.B.C.D/LEN via A.B.C.D [metric M]}: a static route; the next hop must be on a
 *       connected subnet, whose port becomes the route's out port;</li>
 *   <li>{@code neighbour.timeout = SECONDS}: how long a neighbour entry lives without being confirmed
 *       (default 300).</li>
 * </ul>
 */
public record RouterConfig(Map<Integer, Port> ports, List<Route> statics, long neighbourTimeoutSeconds) {

    /** A port's address, prefix length and MAC (null: derived). */
    public record Port(int index, int addr, int prefixLen, byte[] mac) {
        int network() {
            return addr & mask(prefixLen);
        }

        boolean contains(int ip) {
            return (ip & mask(prefixLen)) == network();
        }
    }

    /** A route: prefix, next hop (0 when connected), out port, metric. */
    public record Route(int prefix, int prefixLen, int nexthop, int port, int metric, String key) {}

    /** Parses the configuration; throws IllegalArgumentException naming the bad key. */
    public static RouterConfig parse(Map<String, String> config) {
        Map<Integer, Port> ports = new TreeMap<>();
        Map<String, String> routes = new TreeMap<>();
        long timeout = 300;
        for (var e : new TreeMap<>(config).entrySet()) {
            String k = e.getKey(), v = e.getValue().trim();
            if (k.startsWith("port.")) {
                int n = index(k, "port.", 32);
                String[] w = v.split("\\s+");
                if (!(w.length == 1 || (w.length == 3 && w[1].equals("mac")))) {
                    throw bad(k, v, "expected A.B.C.D/LEN [mac XX:XX:XX:XX:XX:XX]");
                }
                int[] p = prefix(k, w[0]);
                if (p[1] > 30) {
                    throw bad(k, v, "a port's prefix must be /30 or shorter");
                }
                byte[] mac = w.length == 3 ? mac(k, w[2]) : null;
                for (Port o : ports.values()) {
                    if (o.contains(p[0]) || new Port(0, p[0], p[1], null).contains(o.addr())) {
                        throw bad(k, v, "overlaps port." + o.index());
                    }
                }
                ports.put(n, new Port(n, p[0], p[1], mac));
            } else if (k.startsWith("route.")) {
                index(k, "route.", Integer.MAX_VALUE);
                routes.put(k, v);
            } else if (k.equals("neighbour.timeout")) {
                timeout = ConfigValues.seconds(k, v);
            } else {
                throw new IllegalArgumentException("unknown key '" + k
                        + "' (known: port.N, route.N, neighbour.timeout)");
            }
        }
        List<Route> statics = new ArrayList<>();
        for (var e : routes.entrySet()) {
            String k = e.getKey(), v = e.getValue().trim();
            String[] w = v.split("\\s+");
            if (!((w.length == 3 || w.length == 5) && w[1].equals("via") && (w.length == 3 || w[3].equals("metric")))) {
                throw bad(k, v, "expected A.B.C.D/LEN via A.B.C.D [metric M]");
            }
            int[] p = prefix(k, w[0]);
            int nh = ip(k, w[2]);
            int metric = 0;
            if (w.length == 5) {
                try {
                    metric = Integer.parseInt(w[4]);
                } catch (NumberFormatException x) {
                    throw bad(k, v, "metric must be a number");
                }
                if (metric < 0) {
                    throw bad(k, v, "metric must not be negative");
                }
            }
            Port out = ports.values().stream().filter(pt -> pt.contains(nh)).findFirst()
                    .orElseThrow(() -> bad(k, v, "next hop " + w[2] + " is on no port's subnet"));
            statics.add(new Route(p[0] & mask(p[1]), p[1], nh, out.index(), metric, k));
        }
        return new RouterConfig(ports, statics, timeout);
    }

    /** Connected routes, then the static routes that win (lowest metric per prefix; connected beats static). */
    public List<Route> effectiveRoutes() {
        Map<Long, Route> best = new TreeMap<>();
        for (Port p : ports.values()) {
            best.put(key(p.network(), p.prefixLen()), new Route(p.network(), p.prefixLen(), 0, p.index(), 0,
                    "port." + p.index()));
        }
        for (Route r : statics) {
            long k = key(r.prefix(), r.prefixLen());
            Route o = best.get(k);
            if (o == null || (o.nexthop() != 0 && r.metric() < o.metric())) {
                best.put(k, r);
            }
        }
        return List.copyOf(best.values());
    }

    private static long key(int prefix, int len) {
        return ((long) len << 32) | (prefix & 0xffffffffL);
    }

    static byte[] mac(String k, String s) {
        return ConfigValues.unicastMac(k, s, "a port's MAC must be unicast");
    }
}

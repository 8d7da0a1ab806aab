package io.jvisor.modules.lb;

import io.jvisor.modules.ConfigValues;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.jvisor.modules.ConfigValues.bad;
import static io.jvisor.modules.ConfigValues.endpoint;
import static io.jvisor.modules.ConfigValues.ip;
import static io.jvisor.modules.ConfigValues.ipString;

/**
 * A load balancer's configuration, parsed from its keys:
 *
 * <ul>
 *   <li>{@code service.NAME = tcp|udp VIP:PORT [mode dnat|dsr]}: a service (NAME: letters, digits,
 *       {@code -} and {@code _}); the default mode is dnat;</li>
 *   <li>{@code backend.NAME.ID = A.B.C.D[:PORT] [weight W] [draining]}: a backend of service NAME;
 *       the port defaults to the service's, the weight (1..65535) to 1. A draining backend keeps its
 *       established flows and gets no new ones. Removing the key removes the backend: its flows are
 *       scheduled again to the others;</li>
 *   <li>{@code table.size = P}: the Maglev table size, a prime from 2 to 65537 (default 65537), larger
 *       than any service's number of backends;</li>
 *   <li>{@code dsr.source = A.B.C.D}: the outer source address of DSR packets (required by dsr
 *       services);</li>
 *   <li>{@code mac = XX:XX:XX:XX:XX:XX}: the LB's own MAC, with which it answers ARP for its VIPs
 *       (default: {@code 02:6c:} and three bytes of the instance name's hash, then 0).</li>
 * </ul>
 *
 * @param services the services, in key order
 * @param tableSize the Maglev table size
 * @param dsrSource the DSR outer source address (host order), 0 when not set
 * @param mac the LB's MAC, or null for the derived one
 */
public record LbConfig(List<Service> services, int tableSize, int dsrSource, byte[] mac) {
    /** Services at most (the data plane's lb_services). */
    public static final int MAX_SERVICES = 16;
    /** Distinct backends at most, over all services (the data plane's lb_backends). */
    public static final int MAX_BACKENDS = 4096;

    public LbConfig {
        services = List.copyOf(services);
    }

    /** How a service reaches its backends. */
    public enum Mode {
        /** rewrite the destination to the backend; replies come back through the LB */
        DNAT,
        /** encapsulate in IPIP to the backend; the backend answers the client directly */
        DSR
    }

    /** A backend's state. */
    public enum State {
        /** gets new flows, in proportion to its weight */
        ACTIVE,
        /** keeps its established flows, gets no new ones */
        DRAINING
    }

    /**
     * A service.
     *
     * @param name its name
     * @param protocol 6 (TCP) or 17 (UDP)
     * @param vip the virtual address (host order)
     * @param port the virtual port
     * @param mode DNAT or DSR
     * @param backends its backends, in key order
     */
    public record Service(String name, int protocol, int vip, int port, Mode mode, List<Backend> backends) {
        public Service {
            backends = List.copyOf(backends);
        }

        /** {@code VIP:PORT/tcp} or {@code /udp}. */
        public String endpoint() {
            return ipString(vip) + ":" + port + (protocol == 6 ? "/tcp" : "/udp");
        }
    }

    /**
     * A backend.
     *
     * @param name its ID in the key
     * @param addr its address (host order)
     * @param port its port
     * @param weight its weight
     * @param state active or draining
     */
    public record Backend(String name, int addr, int port, int weight, State state) {
        /** {@code A.B.C.D:PORT}, the backend's identity for Maglev and in the data plane. */
        public String endpoint() {
            return ipString(addr) + ":" + port;
        }
    }

    /** Parses the configuration; throws IllegalArgumentException naming the bad key. */
    public static LbConfig parse(Map<String, String> config) {
        Map<String, String[]> services = new TreeMap<>();
        Map<String, Map<String, String>> backends = new TreeMap<>();
        int size = Maglev.DEFAULT_SIZE;
        int dsr = 0;
        byte[] mac = null;
        for (var e : new TreeMap<>(config).entrySet()) {
            String k = e.getKey(), v = e.getValue().trim();
            if (k.startsWith("service.")) {
                String name = k.substring("service.".length());
                checkName(k, name);
                services.put(name, new String[] {k, v});
            } else if (k.startsWith("backend.")) {
                String[] parts = k.split("\\.", -1);
                if (parts.length != 3) {
                    throw new IllegalArgumentException("key '" + k + "': expected backend.SERVICE.ID");
                }
                checkName(k, parts[1]);
                checkName(k, parts[2]);
                backends.computeIfAbsent(parts[1], x -> new TreeMap<>()).put(k, v);
            } else if (k.equals("table.size")) {
                try {
                    size = Integer.parseInt(v);
                } catch (NumberFormatException x) {
                    throw bad(k, v, "expected a prime number");
                }
                if (size < 2 || size > Maglev.DEFAULT_SIZE || !Maglev.isPrime(size)) {
                    throw bad(k, v, "must be a prime from 2 to " + Maglev.DEFAULT_SIZE);
                }
            } else if (k.equals("dsr.source")) {
                dsr = ip(k, v);
                if (dsr == 0) {
                    throw bad(k, v, "must not be 0.0.0.0");
                }
            } else if (k.equals("mac")) {
                mac = mac(k, v);
            } else {
                throw new IllegalArgumentException("unknown key '" + k
                        + "' (known: service.NAME, backend.NAME.ID, table.size, dsr.source, mac)");
            }
        }
        for (String s : backends.keySet()) {
            if (!services.containsKey(s)) {
                String key = backends.get(s).keySet().iterator().next();
                throw new IllegalArgumentException("key '" + key + "': no service '" + s + "' (no key service." + s + ")");
            }
        }
        if (services.size() > MAX_SERVICES) {
            throw new IllegalArgumentException("key 'service." + new ArrayList<>(services.keySet()).get(MAX_SERVICES)
                    + "': at most " + MAX_SERVICES + " services");
        }
        List<Service> out = new ArrayList<>();
        Set<String> endpoints = new HashSet<>();
        Set<String> distinct = new HashSet<>();
        for (var e : services.entrySet()) {
            String k = e.getValue()[0], v = e.getValue()[1];
            String[] w = v.split("\\s+");
            if (!(w.length == 2 || (w.length == 4 && w[2].equals("mode")))) {
                throw bad(k, v, "expected tcp|udp VIP:PORT [mode dnat|dsr]");
            }
            int proto = ConfigValues.tcpOrUdp(k, v, w[0]);
            int[] ep = endpoint(k, w[1], -1);
            Mode mode = Mode.DNAT;
            if (w.length == 4) {
                mode = switch (w[3]) {
                    case "dnat" -> Mode.DNAT;
                    case "dsr" -> Mode.DSR;
                    default -> throw bad(k, v, "the mode must be dnat or dsr");
                };
            }
            if (mode == Mode.DSR && dsr == 0) {
                throw bad(k, v, "a dsr service needs the key dsr.source");
            }
            if (!endpoints.add(w[0] + " " + w[1])) {
                throw bad(k, v, "another service has the same VIP, port and protocol");
            }
            List<Backend> bs = new ArrayList<>();
            Set<String> mine = new HashSet<>();
            for (var b : backends.getOrDefault(e.getKey(), Map.of()).entrySet()) {
                Backend be = backend(b.getKey(), b.getValue(), ep[1]);
                if (!mine.add(be.endpoint())) {
                    throw bad(b.getKey(), b.getValue(), "another backend of the service has the same address and port");
                }
                if (mode == Mode.DSR && be.port() != ep[1]) {
                    throw bad(b.getKey(), b.getValue(), "a dsr backend serves the service's own port (" + ep[1] + ")");
                }
                if (mode == Mode.DNAT && be.addr() == ep[0]) {
                    throw bad(b.getKey(), b.getValue(), "a backend cannot be the VIP");
                }
                distinct.add(be.endpoint());
                bs.add(be);
            }
            if (bs.size() >= size) {
                throw bad(k, v, "has " + bs.size() + " backends: table.size (" + size + ") must be larger");
            }
            out.add(new Service(e.getKey(), proto, ep[0], ep[1], mode, bs));
        }
        if (distinct.size() > MAX_BACKENDS) {
            throw new IllegalArgumentException("at most " + MAX_BACKENDS + " distinct backends (address:port), got "
                    + distinct.size());
        }
        return new LbConfig(out, size, dsr, mac);
    }

    private static Backend backend(String k, String v, int servicePort) {
        String[] w = v.split("\\s+");
        int[] ep = endpoint(k, w[0], servicePort);
        int weight = 1;
        State state = State.ACTIVE;
        for (int i = 1; i < w.length; i++) {
            if (w[i].equals("weight") && i + 1 < w.length) {
                try {
                    weight = Integer.parseInt(w[++i]);
                } catch (NumberFormatException x) {
                    throw bad(k, v, "the weight must be a number");
                }
                if (weight < 1 || weight > 65535) {
                    throw bad(k, v, "the weight must be 1..65535 (use 'draining' to stop new flows)");
                }
            } else if (w[i].equals("draining")) {
                state = State.DRAINING;
            } else {
                throw bad(k, v, "expected A.B.C.D[:PORT] [weight W] [draining]");
            }
        }
        return new Backend(k.substring(k.lastIndexOf('.') + 1), ep[0], ep[1], weight, state);
    }

    private static void checkName(String k, String name) {
        if (!name.matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("key '" + k + "': names are letters, digits, '-' and '_'");
        }
    }

    static byte[] mac(String k, String s) {
        return ConfigValues.unicastMac(k, s, "must be unicast");
    }

    /** The services by name. */
    public Map<String, Service> byName() {
        Map<String, Service> m = new LinkedHashMap<>();
        services.forEach(s -> m.put(s.name(), s));
        return m;
    }
}

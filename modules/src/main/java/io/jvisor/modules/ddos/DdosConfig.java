package io.jvisor.modules.ddos;

import io.jvisor.net.IpPrefix;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A DDoS mitigator's configuration. As instance keys (all optional):
 *
 * <ul>
 *   <li>{@code block.src}: IPv4 prefixes (or addresses), separated by commas or spaces: frames from
 *       them are dropped;</li>
 *   <li>{@code block.dst}: the same for destinations;</li>
 *   <li>{@code rate.pps}: the per-source rate limit, packets per second (none when absent);</li>
 *   <li>{@code rate.burst}: the per-source burst, packets (default: {@code rate.pps}, one second's
 *       worth);</li>
 *   <li>{@code ports}: the ports whose incoming frames are policed, {@code 0} (default), {@code 1} or
 *       {@code 0,1}; frames entering the other port pass unchecked.</li>
 * </ul>
 *
 * @param blockedSources source prefixes to drop (network addresses, no duplicates)
 * @param blockedDestinations destination prefixes to drop
 * @param rateLimit the per-source rate limit, or null for none
 * @param ports the policed ports
 */
public record DdosConfig(List<IpPrefix> blockedSources, List<IpPrefix> blockedDestinations, RateLimit rateLimit,
                         Set<Integer> ports) {
    /** The most prefixes of one blocklist (the LPM trie's size). */
    public static final int MAX_PREFIXES = 65536;
    /** Nothing blocked, no rate limit, port 0 policed. */
    public static final DdosConfig NONE = new DdosConfig(List.of(), List.of(), null, Set.of(0));

    /** Validates and normalises (host bits cleared, duplicates removed). */
    public DdosConfig {
        blockedSources = normalise("blocked source", blockedSources);
        blockedDestinations = normalise("blocked destination", blockedDestinations);
        if (ports == null || ports.isEmpty() || !Set.of(0, 1).containsAll(ports)) {
            throw new IllegalArgumentException("ports must be a non-empty subset of {0, 1}, got " + ports);
        }
        ports = Set.copyOf(new TreeSet<>(ports));
    }

    private static List<IpPrefix> normalise(String what, List<IpPrefix> in) {
        if (in == null) {
            return List.of();
        }
        Set<IpPrefix> out = new LinkedHashSet<>();
        for (IpPrefix p : in) {
            if (!(p.address() instanceof Inet4Address)) {
                throw new IllegalArgumentException(what + " prefix " + p + " is not IPv4");
            }
            out.add(p.network());
        }
        if (out.size() > MAX_PREFIXES) {
            throw new IllegalArgumentException("at most " + MAX_PREFIXES + " " + what + " prefixes, got " + out.size());
        }
        return List.copyOf(out);
    }

    /** The same configuration with this source blocklist. */
    public DdosConfig withBlockedSources(List<IpPrefix> p) {
        return new DdosConfig(p, blockedDestinations, rateLimit, ports);
    }

    /** The same configuration with this destination blocklist. */
    public DdosConfig withBlockedDestinations(List<IpPrefix> p) {
        return new DdosConfig(blockedSources, p, rateLimit, ports);
    }

    /** The same configuration with this per-source rate limit (null: none). */
    public DdosConfig withRateLimit(RateLimit r) {
        return new DdosConfig(blockedSources, blockedDestinations, r, ports);
    }

    /** The same configuration policing frames entering these ports. */
    public DdosConfig withPorts(Set<Integer> p) {
        return new DdosConfig(blockedSources, blockedDestinations, rateLimit, p);
    }

    /**
     * Parses instance keys.
     *
     * @throws IllegalArgumentException naming the key and what is wrong with its value
     */
    public static DdosConfig parse(Map<String, String> config) {
        List<IpPrefix> src = List.of(), dst = List.of();
        Long pps = null, burst = null;
        Set<Integer> ports = Set.of(0);
        for (var e : new TreeMap<>(config).entrySet()) {
            String k = e.getKey();
            String v = e.getValue() == null ? "" : e.getValue().trim();
            try {
                switch (k) {
                    case "block.src" -> src = prefixes(v);
                    case "block.dst" -> dst = prefixes(v);
                    case "rate.pps" -> pps = number(v);
                    case "rate.burst" -> burst = number(v);
                    case "ports" -> {
                        Set<Integer> p = new TreeSet<>();
                        for (String s : v.split("[,\\s]+")) {
                            long n = number(s);
                            if (n > 1) {
                                throw new IllegalArgumentException("a port must be 0 or 1");
                            }
                            p.add((int) n);
                        }
                        ports = p;
                    }
                    default -> throw new IllegalArgumentException("unknown key '" + k
                            + "' (known: block.src, block.dst, rate.pps, rate.burst, ports)");
                }
            } catch (IllegalArgumentException x) {
                if (x.getMessage() != null && x.getMessage().startsWith("unknown key")) {
                    throw x;
                }
                throw new IllegalArgumentException("key '" + k + "': " + x.getMessage(), x);
            }
        }
        if (burst != null && pps == null) {
            throw new IllegalArgumentException("key 'rate.burst' needs 'rate.pps'");
        }
        RateLimit rate = null;
        if (pps != null) {
            try {
                rate = new RateLimit(pps, burst == null ? pps : burst);
            } catch (IllegalArgumentException x) {
                throw new IllegalArgumentException("key '" + (x.getMessage().startsWith("burst") ? "rate.burst"
                        : "rate.pps") + "': " + x.getMessage(), x);
            }
        }
        try {
            return new DdosConfig(src, dst, rate, ports);
        } catch (IllegalArgumentException x) {
            String key = x.getMessage().contains("destination") ? "block.dst" : "block.src";
            throw new IllegalArgumentException("key '" + key + "': " + x.getMessage(), x);
        }
    }

    /** The instance keys of this configuration, for {@code Topology.Builder.instance}. */
    public Map<String, String> toConfig() {
        Map<String, String> m = new LinkedHashMap<>();
        if (!blockedSources.isEmpty()) {
            m.put("block.src", String.join(",", blockedSources.stream().map(IpPrefix::toString).toList()));
        }
        if (!blockedDestinations.isEmpty()) {
            m.put("block.dst", String.join(",", blockedDestinations.stream().map(IpPrefix::toString).toList()));
        }
        if (rateLimit != null) {
            m.put("rate.pps", Long.toString(rateLimit.packetsPerSecond()));
            m.put("rate.burst", Long.toString(rateLimit.burst()));
        }
        if (!ports.equals(Set.of(0))) {
            m.put("ports", String.join(",", new TreeSet<>(ports).stream().map(String::valueOf).toList()));
        }
        return m;
    }

    private static List<IpPrefix> prefixes(String v) {
        List<IpPrefix> out = new ArrayList<>();
        for (String s : v.split("[,\\s]+")) {
            if (!s.isEmpty()) {
                out.add(IpPrefix.parse(s));
            }
        }
        return out;
    }

    private static long number(String v) {
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0) {
                throw new IllegalArgumentException("'" + v + "' must not be negative");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + v + "' is not a number");
        }
    }
}

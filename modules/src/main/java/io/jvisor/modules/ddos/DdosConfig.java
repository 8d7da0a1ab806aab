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
 *       {@code 0,1}; frames entering the other port pass unchecked;</li>
 *   <li>{@code blocklist.max}: the capacity of each blocklist (LPM trie), prefixes,
 *       {@value #BLOCKLIST_MIN}..{@value #BLOCKLIST_LIMIT} (default {@value #MAX_PREFIXES});</li>
 *   <li>{@code sources.max}: the capacity of the rate limit's source table (an LRU hash: when it is
 *       full, the least recently seen source is forgotten), {@value #SOURCES_MIN}..{@value
 *       #SOURCES_LIMIT} (default {@value #DEFAULT_SOURCES}).</li>
 * </ul>
 *
 * <p>The two sizes are the kernel maps' {@code max_entries}; changing one on a running instance
 * reloads it with new, empty maps of that size (see {@link DdosModule#mapSizes}).
 *
 * @param blockedSources source prefixes to drop (network addresses, no duplicates)
 * @param blockedDestinations destination prefixes to drop
 * @param rateLimit the per-source rate limit, or null for none
 * @param ports the policed ports
 * @param blocklistMax the capacity of each blocklist ({@code blocklist.max})
 * @param sourcesMax the capacity of the source table ({@code sources.max})
 */
public record DdosConfig(List<IpPrefix> blockedSources, List<IpPrefix> blockedDestinations, RateLimit rateLimit,
                         Set<Integer> ports, int blocklistMax, int sourcesMax) {
    /** The capacity of each blocklist when {@code blocklist.max} is not set (the C source's size). */
    public static final int MAX_PREFIXES = 65536;
    /** The smallest {@code blocklist.max}. */
    public static final int BLOCKLIST_MIN = 1;
    /** The largest {@code blocklist.max} (the tries are not preallocated: entries cost memory as added). */
    public static final int BLOCKLIST_LIMIT = 1 << 24;
    /** The source table's capacity when {@code sources.max} is not set (the C source's size). */
    public static final int DEFAULT_SOURCES = 65536;
    /** The smallest {@code sources.max}. */
    public static final int SOURCES_MIN = 16;
    /** The largest {@code sources.max} (the LRU hash is preallocated: about 100 bytes of kernel memory each). */
    public static final int SOURCES_LIMIT = 1 << 22;
    /** The configuration key of {@link #blocklistMax}. */
    public static final String BLOCKLIST_MAX_KEY = "blocklist.max";
    /** The configuration key of {@link #sourcesMax}. */
    public static final String SOURCES_MAX_KEY = "sources.max";
    /** Nothing blocked, no rate limit, port 0 policed, the default sizes. */
    public static final DdosConfig NONE = new DdosConfig(List.of(), List.of(), null, Set.of(0));

    /** Validates and normalises (host bits cleared, duplicates removed). */
    public DdosConfig {
        if (blocklistMax < BLOCKLIST_MIN || blocklistMax > BLOCKLIST_LIMIT) {
            throw new IllegalArgumentException(BLOCKLIST_MAX_KEY + " must be " + BLOCKLIST_MIN + ".." + BLOCKLIST_LIMIT
                    + ", got " + blocklistMax);
        }
        if (sourcesMax < SOURCES_MIN || sourcesMax > SOURCES_LIMIT) {
            throw new IllegalArgumentException(SOURCES_MAX_KEY + " must be " + SOURCES_MIN + ".." + SOURCES_LIMIT
                    + ", got " + sourcesMax);
        }
        blockedSources = normalise("blocked source", blockedSources, blocklistMax);
        blockedDestinations = normalise("blocked destination", blockedDestinations, blocklistMax);
        if (ports == null || ports.isEmpty() || !Set.of(0, 1).containsAll(ports)) {
            throw new IllegalArgumentException("ports must be a non-empty subset of {0, 1}, got " + ports);
        }
        ports = Set.copyOf(new TreeSet<>(ports));
    }

    /** With the default sizes ({@value #MAX_PREFIXES} prefixes per blocklist, {@value #DEFAULT_SOURCES} sources). */
    public DdosConfig(List<IpPrefix> blockedSources, List<IpPrefix> blockedDestinations, RateLimit rateLimit,
                      Set<Integer> ports) {
        this(blockedSources, blockedDestinations, rateLimit, ports, MAX_PREFIXES, DEFAULT_SOURCES);
    }

    private static List<IpPrefix> normalise(String what, List<IpPrefix> in, int max) {
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
        if (out.size() > max) {
            throw new IllegalArgumentException(out.size() + " " + what + " prefixes, more than " + BLOCKLIST_MAX_KEY
                    + " (" + max + ") allows");
        }
        return List.copyOf(out);
    }

    /** The same configuration with this source blocklist. */
    public DdosConfig withBlockedSources(List<IpPrefix> p) {
        return new DdosConfig(p, blockedDestinations, rateLimit, ports, blocklistMax, sourcesMax);
    }

    /** The same configuration with this destination blocklist. */
    public DdosConfig withBlockedDestinations(List<IpPrefix> p) {
        return new DdosConfig(blockedSources, p, rateLimit, ports, blocklistMax, sourcesMax);
    }

    /** The same configuration with this per-source rate limit (null: none). */
    public DdosConfig withRateLimit(RateLimit r) {
        return new DdosConfig(blockedSources, blockedDestinations, r, ports, blocklistMax, sourcesMax);
    }

    /** The same configuration policing frames entering these ports. */
    public DdosConfig withPorts(Set<Integer> p) {
        return new DdosConfig(blockedSources, blockedDestinations, rateLimit, p, blocklistMax, sourcesMax);
    }

    /** The same configuration with blocklists of this capacity ({@code blocklist.max}). */
    public DdosConfig withBlocklistMax(int n) {
        return new DdosConfig(blockedSources, blockedDestinations, rateLimit, ports, n, sourcesMax);
    }

    /** The same configuration with a source table of this capacity ({@code sources.max}). */
    public DdosConfig withSourcesMax(int n) {
        return new DdosConfig(blockedSources, blockedDestinations, rateLimit, ports, blocklistMax, n);
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
        int blocklistMax = MAX_PREFIXES, sourcesMax = DEFAULT_SOURCES;
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
                    case BLOCKLIST_MAX_KEY -> blocklistMax = size(v, BLOCKLIST_MIN, BLOCKLIST_LIMIT);
                    case SOURCES_MAX_KEY -> sourcesMax = size(v, SOURCES_MIN, SOURCES_LIMIT);
                    default -> throw new IllegalArgumentException("unknown key '" + k
                            + "' (known: block.src, block.dst, rate.pps, rate.burst, ports, blocklist.max, sources.max)");
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
            return new DdosConfig(src, dst, rate, ports, blocklistMax, sourcesMax);
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
        if (blocklistMax != MAX_PREFIXES) {
            m.put(BLOCKLIST_MAX_KEY, Integer.toString(blocklistMax));
        }
        if (sourcesMax != DEFAULT_SOURCES) {
            m.put(SOURCES_MAX_KEY, Integer.toString(sourcesMax));
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

    private static int size(String v, int min, int max) {
        long n = number(v);
        if (n < min || n > max) {
            throw new IllegalArgumentException(n + " is not in " + min + ".." + max);
        }
        return (int) n;
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

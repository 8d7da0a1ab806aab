package io.jvisor.modules.capture;

import io.jvisor.net.IpPrefix;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A capture point's configuration: the filter, the snap length and the ports whose incoming frames
 * are captured. As instance keys (all optional):
 *
 * <ul>
 *   <li>{@code snaplen}: bytes kept of each frame, 1..{@value #MAX_SNAPLEN} (default the maximum);</li>
 *   <li>{@code ports}: {@code 0}, {@code 1} or {@code 0,1} (default): frames entering which port;</li>
 *   <li>{@code filter.proto}: {@code tcp}, {@code udp}, {@code icmp}, {@code sctp} or a number;</li>
 *   <li>{@code filter.src}, {@code filter.dst}: an IPv4 address or prefix;</li>
 *   <li>{@code filter.sport}, {@code filter.dport}: a port number;</li>
 *   <li>{@code filter.both-ways}: {@code true} to match the reverse direction too;</li>
 *   <li>{@code ring.size}: the ring buffer's size in bytes, a power of two from {@value #RING_MIN}
 *       to {@value #RING_LIMIT} (default {@value #DEFAULT_RING_SIZE}, 8 MiB). The kernel wants a
 *       power of two multiple of the page size; 64 KiB is a multiple of every page size Linux
 *       uses. A change reloads the instance with a new ring (see {@link CaptureModule#mapSizes}).</li>
 * </ul>
 *
 * @param filter which frames
 * @param snaplen bytes kept of each frame
 * @param ports the ports (0 and/or 1) whose incoming frames are captured
 * @param ringSize the ring buffer's size in bytes ({@code ring.size})
 */
public record CaptureConfig(CaptureFilter filter, int snaplen, Set<Integer> ports, int ringSize) {
    /** The largest snap length: the data plane's per-CPU scratch buffer. */
    public static final int MAX_SNAPLEN = 32704;
    /** The ring's size when {@code ring.size} is not set (the C source's size): 8 MiB. */
    public static final int DEFAULT_RING_SIZE = 8 << 20;
    /** The smallest {@code ring.size}: 64 KiB. */
    public static final int RING_MIN = 1 << 16;
    /** The largest {@code ring.size}: 1 GiB. */
    public static final int RING_LIMIT = 1 << 30;
    /** The configuration key of {@link #ringSize}. */
    public static final String RING_SIZE_KEY = "ring.size";
    /** Every frame in both directions, whole, into the default ring. */
    public static final CaptureConfig DEFAULT = new CaptureConfig(CaptureFilter.ANY, MAX_SNAPLEN, Set.of(0, 1));

    /** With the default ring size ({@value #DEFAULT_RING_SIZE} bytes). */
    public CaptureConfig(CaptureFilter filter, int snaplen, Set<Integer> ports) {
        this(filter, snaplen, ports, DEFAULT_RING_SIZE);
    }

    /** Validates. */
    public CaptureConfig {
        if (ringSize < RING_MIN || ringSize > RING_LIMIT || Integer.bitCount(ringSize) != 1) {
            throw new IllegalArgumentException(RING_SIZE_KEY + " must be a power of two from " + RING_MIN + " to "
                    + RING_LIMIT + " bytes, got " + ringSize);
        }
        if (filter == null) {
            throw new IllegalArgumentException("filter is null (use CaptureFilter.ANY)");
        }
        if (snaplen < 1 || snaplen > MAX_SNAPLEN) {
            throw new IllegalArgumentException("snaplen must be 1.." + MAX_SNAPLEN + ", got " + snaplen);
        }
        if (ports == null || ports.isEmpty() || !Set.of(0, 1).containsAll(ports)) {
            throw new IllegalArgumentException("ports must be a non-empty subset of {0, 1}, got " + ports);
        }
        ports = Set.copyOf(new TreeSet<>(ports));
    }

    /** The same configuration with this filter. */
    public CaptureConfig withFilter(CaptureFilter f) {
        return new CaptureConfig(f, snaplen, ports, ringSize);
    }

    /** The same configuration with this snap length. */
    public CaptureConfig withSnaplen(int n) {
        return new CaptureConfig(filter, n, ports, ringSize);
    }

    /** The same configuration capturing frames entering these ports. */
    public CaptureConfig withPorts(Set<Integer> p) {
        return new CaptureConfig(filter, snaplen, p, ringSize);
    }

    /** The same configuration with a ring of this many bytes ({@code ring.size}). */
    public CaptureConfig withRingSize(int bytes) {
        return new CaptureConfig(filter, snaplen, ports, bytes);
    }

    /**
     * Parses instance keys.
     *
     * @throws IllegalArgumentException naming the key and what is wrong with its value
     */
    public static CaptureConfig parse(Map<String, String> config) {
        CaptureFilter f = CaptureFilter.ANY;
        int snaplen = MAX_SNAPLEN;
        Set<Integer> ports = Set.of(0, 1);
        int ring = DEFAULT_RING_SIZE;
        for (var e : new TreeMap<>(config).entrySet()) {
            String k = e.getKey();
            String v = e.getValue() == null ? "" : e.getValue().trim();
            try {
                switch (k) {
                    case "snaplen" -> snaplen = integer(v, 1, MAX_SNAPLEN);
                    case "ports" -> {
                        Set<Integer> p = new TreeSet<>();
                        for (String s : v.split("[,\\s]+")) {
                            p.add(integer(s, 0, 1));
                        }
                        ports = p;
                    }
                    case "filter.proto" -> f = f.withProtocol(CaptureFilter.protocol(v));
                    case "filter.src" -> f = f.withSource(IpPrefix.parse(v));
                    case "filter.dst" -> f = f.withDestination(IpPrefix.parse(v));
                    case "filter.sport" -> f = f.withSourcePort(integer(v, 0, 65535));
                    case "filter.dport" -> f = f.withDestinationPort(integer(v, 0, 65535));
                    case "filter.both-ways" -> f = f.withBothWays(bool(v));
                    case RING_SIZE_KEY -> {
                        ring = integer(v, RING_MIN, RING_LIMIT);
                        if (Integer.bitCount(ring) != 1) {
                            throw new IllegalArgumentException("must be a power of two (the kernel wants a power of "
                                    + "two multiple of the page size), e.g. " + Integer.highestOneBit(ring));
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown key '" + k + "' (known: snaplen, ports, "
                            + "filter.proto, filter.src, filter.dst, filter.sport, filter.dport, filter.both-ways, "
                            + "ring.size)");
                }
            } catch (IllegalArgumentException x) {
                if (x.getMessage() != null && x.getMessage().startsWith("unknown key")) {
                    throw x;
                }
                throw new IllegalArgumentException("key '" + k + "': '" + v + "': " + x.getMessage(), x);
            }
        }
        return new CaptureConfig(f, snaplen, ports, ring);
    }

    /** The instance keys of this configuration (defaults left out), for {@code Topology.Builder.instance}. */
    public Map<String, String> toConfig() {
        Map<String, String> m = new LinkedHashMap<>();
        if (snaplen != MAX_SNAPLEN) {
            m.put("snaplen", Integer.toString(snaplen));
        }
        if (!ports.equals(Set.of(0, 1))) {
            m.put("ports", String.join(",", new TreeSet<>(ports).stream().map(String::valueOf).toList()));
        }
        if (filter.protocol() != null) {
            m.put("filter.proto", filter.protocol().toString());
        }
        if (filter.source() != null) {
            m.put("filter.src", filter.source().toString());
        }
        if (filter.destination() != null) {
            m.put("filter.dst", filter.destination().toString());
        }
        if (filter.sourcePort() != null) {
            m.put("filter.sport", filter.sourcePort().toString());
        }
        if (filter.destinationPort() != null) {
            m.put("filter.dport", filter.destinationPort().toString());
        }
        if (filter.bothWays()) {
            m.put("filter.both-ways", "true");
        }
        if (ringSize != DEFAULT_RING_SIZE) {
            m.put(RING_SIZE_KEY, Integer.toString(ringSize));
        }
        return m;
    }

    static int integer(String v, int min, int max) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) {
                throw new IllegalArgumentException("must be " + min + ".." + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number");
        }
    }

    static boolean bool(String v) {
        return switch (v.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false");
        };
    }
}

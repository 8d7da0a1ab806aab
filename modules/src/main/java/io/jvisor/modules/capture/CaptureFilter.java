package io.jvisor.modules.capture;

import io.jvisor.net.IpPrefix;
import java.net.Inet4Address;
import java.util.Locale;

/**
 * Which frames a capture point records: an IPv4 5-tuple filter. A null field matches anything; a
 * filter with every field null matches every frame, IPv4 or not. Once any field is set, only IPv4
 * frames can match, and a port field matches only TCP, UDP and SCTP (the first fragment; later
 * fragments carry no ports).
 *
 * @param protocol the IP protocol number (6 TCP, 17 UDP, 1 ICMP...), or null
 * @param source the source address prefix, or null
 * @param destination the destination address prefix, or null
 * @param sourcePort the source port, or null
 * @param destinationPort the destination port, or null
 * @param bothWays also match a frame whose source and destination (addresses and ports) are the
 *     other way round, so that one filter captures both directions of a conversation
 */
public record CaptureFilter(Integer protocol, IpPrefix source, IpPrefix destination, Integer sourcePort,
                            Integer destinationPort, boolean bothWays) {
    /** Matches every frame. */
    public static final CaptureFilter ANY = new CaptureFilter(null, null, null, null, null, false);

    /** Validates every field. */
    public CaptureFilter {
        if (protocol != null && (protocol < 0 || protocol > 255)) {
            throw new IllegalArgumentException("protocol must be 0..255, got " + protocol);
        }
        source = ipv4("source", source);
        destination = ipv4("destination", destination);
        if (sourcePort != null && (sourcePort < 0 || sourcePort > 65535)) {
            throw new IllegalArgumentException("source port must be 0..65535, got " + sourcePort);
        }
        if (destinationPort != null && (destinationPort < 0 || destinationPort > 65535)) {
            throw new IllegalArgumentException("destination port must be 0..65535, got " + destinationPort);
        }
    }

    private static IpPrefix ipv4(String what, IpPrefix p) {
        if (p == null) {
            return null;
        }
        if (!(p.address() instanceof Inet4Address)) {
            throw new IllegalArgumentException(what + " prefix " + p + " is not IPv4 (the filter matches IPv4 only)");
        }
        return p.network();
    }

    /** True when no field is set. */
    public boolean isAny() {
        return protocol == null && source == null && destination == null && sourcePort == null
                && destinationPort == null;
    }

    /** The same filter with this protocol (null: any). */
    public CaptureFilter withProtocol(Integer p) {
        return new CaptureFilter(p, source, destination, sourcePort, destinationPort, bothWays);
    }

    /** The same filter with this source prefix (null: any). */
    public CaptureFilter withSource(IpPrefix p) {
        return new CaptureFilter(protocol, p, destination, sourcePort, destinationPort, bothWays);
    }

    /** The same filter with this destination prefix (null: any). */
    public CaptureFilter withDestination(IpPrefix p) {
        return new CaptureFilter(protocol, source, p, sourcePort, destinationPort, bothWays);
    }

    /** The same filter with this source port (null: any). */
    public CaptureFilter withSourcePort(Integer port) {
        return new CaptureFilter(protocol, source, destination, port, destinationPort, bothWays);
    }

    /** The same filter with this destination port (null: any). */
    public CaptureFilter withDestinationPort(Integer port) {
        return new CaptureFilter(protocol, source, destination, sourcePort, port, bothWays);
    }

    /** The same filter, matching the reverse direction too or not. */
    public CaptureFilter withBothWays(boolean b) {
        return new CaptureFilter(protocol, source, destination, sourcePort, destinationPort, b);
    }

    /** Parses a protocol name (tcp, udp, icmp, sctp) or number. */
    public static int protocol(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "icmp" -> 1;
            case "tcp" -> 6;
            case "udp" -> 17;
            case "sctp" -> 132;
            default -> {
                try {
                    int p = Integer.parseInt(text.trim());
                    if (p < 0 || p > 255) {
                        throw new IllegalArgumentException("protocol must be tcp, udp, icmp, sctp or 0..255, got '"
                                + text + "'");
                    }
                    yield p;
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("protocol must be tcp, udp, icmp, sctp or 0..255, got '"
                            + text + "'");
                }
            }
        };
    }
}

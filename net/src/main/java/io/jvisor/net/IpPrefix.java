package io.jvisor.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;

/**
 * An IPv4 or IPv6 address with a prefix length, as in {@code 10.1.2.3/24} or {@code fd00::1/64}.
 * The address keeps its host bits: for an interface address, {@code 10.1.2.3/24} means address
 * 10.1.2.3 on network 10.1.2.0/24. {@link #network()} clears them.
 *
 * @param address the address
 * @param length the prefix length, 0..32 for IPv4 and 0..128 for IPv6
 */
public record IpPrefix(InetAddress address, int length) {
    /** Validates the length against the family. */
    public IpPrefix {
        if (address == null) {
            throw new IllegalArgumentException("address is null");
        }
        int max = address.getAddress().length * 8;
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("prefix length " + length + " out of 0.." + max + " for " + address.getHostAddress());
        }
    }

    /** Parses {@code ADDRESS/LENGTH}; an address alone means a host prefix (/32 or /128). */
    public static IpPrefix parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        InetAddress a = literal(slash < 0 ? t : t.substring(0, slash), text);
        int len;
        if (slash < 0) {
            len = a.getAddress().length * 8;
        } else {
            try {
                len = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad prefix length in '" + text + "'", e);
            }
        }
        return new IpPrefix(a, len);
    }

    /** Parses an IP address literal (never a host name: no DNS lookup happens). */
    public static InetAddress literal(String address) {
        return literal(address, address);
    }

    private static final java.util.regex.Pattern DOTTED_QUAD =
            java.util.regex.Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private static InetAddress literal(String address, String whole) {
        String a = address.trim();
        // The JDK also takes legacy IPv4 forms such as "10.1.2" (= 10.1.0.2); a typo must not pass.
        if (!a.contains(":") && !DOTTED_QUAD.matcher(a).matches()) {
            throw new IllegalArgumentException("not an IP address: '" + whole + "'");
        }
        try {
            return InetAddress.ofLiteral(a);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an IP address: '" + whole + "'", e);
        }
    }

    /** The default route prefix of a family: 0.0.0.0/0 or ::/0. */
    public static IpPrefix defaultRoute(StandardProtocolFamily family) {
        return parse(family == StandardProtocolFamily.INET6 ? "::/0" : "0.0.0.0/0");
    }

    /** INET or INET6. */
    public StandardProtocolFamily family() {
        return address instanceof Inet4Address ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
    }

    /** The same prefix with the host bits cleared, e.g. 10.1.2.0/24 for 10.1.2.3/24. */
    public IpPrefix network() {
        byte[] b = address.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, length - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return new IpPrefix(InetAddress.getByAddress(b), length);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code ADDRESS/LENGTH}. */
    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}

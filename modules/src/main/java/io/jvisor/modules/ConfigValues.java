package io.jvisor.modules;

import java.util.OptionalInt;

/**
 * Parsers for the values of modules' flat configuration keys (IPv4 addresses, prefixes, endpoints,
 * MAC addresses). Every error names the key, the value and what is wrong with it.
 */
public final class ConfigValues {
    private ConfigValues() {
    }

    /**
     * What {@link io.jvisor.engine.ModuleType#validateConfig} returns: null when {@code parse}
     * accepts the configuration, else the message of the {@link IllegalArgumentException} it threw.
     */
    public static String problemOf(Runnable parse) {
        try {
            parse.run();
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** The error for {@code value} of key {@code key}: {@code key 'k': 'v': why}. */
    public static IllegalArgumentException bad(String key, String value, String why) {
        return new IllegalArgumentException("key '" + key + "': '" + value + "': " + why);
    }

    /** A.B.C.D as an int in host order. */
    public static int ip(String key, String s) {
        return ipv4(s).orElseThrow(() -> bad(key, s, "not an IPv4 address"));
    }

    /** A.B.C.D as an int in host order, or empty when {@code s} is not one. */
    public static OptionalInt ipv4(String s) {
        String[] o = s.split("\\.", -1);
        if (o.length != 4) {
            return OptionalInt.empty();
        }
        int v = 0;
        for (String x : o) {
            int b;
            try {
                b = Integer.parseInt(x);
            } catch (NumberFormatException e) {
                return OptionalInt.empty();
            }
            if (b < 0 || b > 255) {
                return OptionalInt.empty();
            }
            v = (v << 8) | b;
        }
        return OptionalInt.of(v);
    }

    /** A.B.C.D/LEN as {address, length}; the address is kept as written (host bits included). */
    public static int[] prefix(String key, String s) {
        int slash = s.indexOf('/');
        if (slash < 0) {
            throw bad(key, s, "expected A.B.C.D/LEN");
        }
        int len;
        try {
            len = Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException x) {
            throw bad(key, s, "bad prefix length");
        }
        if (len < 0 || len > 32) {
            throw bad(key, s, "prefix length must be 0..32");
        }
        return new int[] {ip(key, s.substring(0, slash)), len};
    }

    /** A number of seconds, at least 1. */
    public static long seconds(String key, String value) {
        long s;
        try {
            s = Long.parseLong(value);
        } catch (NumberFormatException x) {
            throw bad(key, value, "expected a number of seconds");
        }
        if (s < 1) {
            throw bad(key, value, "must be at least 1");
        }
        return s;
    }

    /**
     * The index N of a key {@code PREFIX.N} ({@code prefix} includes the dot): a number from 0 to
     * {@code max - 1}.
     */
    public static int index(String key, String prefix, long max) {
        try {
            int n = Integer.parseInt(key.substring(prefix.length()));
            if (n < 0 || n >= max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException x) {
            throw new IllegalArgumentException("key '" + key + "': the index must be a number"
                    + (max < Integer.MAX_VALUE ? " from 0 to " + (max - 1) : ""));
        }
    }

    /** The IP protocol number of the word {@code tcp} (6) or {@code udp} (17) in {@code value}. */
    public static int tcpOrUdp(String key, String value, String word) {
        return switch (word) {
            case "tcp" -> 6;
            case "udp" -> 17;
            default -> throw bad(key, value, "the protocol must be tcp or udp");
        };
    }

    /** The netmask of a prefix length 0..32, in host order. */
    public static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    /**
     * A.B.C.D:PORT as {address, port}; with {@code defaultPort >= 0}, a bare A.B.C.D takes that
     * port, otherwise the port is required.
     */
    public static int[] endpoint(String key, String s, int defaultPort) {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            if (defaultPort < 0) {
                throw bad(key, s, "expected A.B.C.D:PORT");
            }
            return new int[] {ip(key, s), defaultPort};
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException x) {
            throw bad(key, s, "bad port");
        }
        if (port < 1 || port > 65535) {
            throw bad(key, s, "the port must be 1..65535");
        }
        return new int[] {ip(key, s.substring(0, colon)), port};
    }

    /** XX:XX:XX:XX:XX:XX, which must be unicast; {@code notUnicast} says why it must be. */
    public static byte[] unicastMac(String key, String s, String notUnicast) {
        String[] o = s.split(":", -1);
        if (o.length != 6) {
            throw bad(key, s, "not a MAC address");
        }
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (!o[i].matches("[0-9A-Fa-f]{1,2}")) {
                throw bad(key, s, "not a MAC address");
            }
            m[i] = (byte) Integer.parseInt(o[i], 16);
        }
        if ((m[0] & 1) != 0) {
            throw bad(key, s, notUnicast);
        }
        return m;
    }

    /** A MAC address as six lower-case hex bytes separated by colons. */
    public static String macString(byte[] mac) {
        StringBuilder s = new StringBuilder();
        for (byte x : mac) {
            s.append(s.isEmpty() ? "" : ":").append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }

    /** An address in dotted form. */
    public static String ipString(int ip) {
        return (ip >>> 24) + "." + ((ip >>> 16) & 255) + "." + ((ip >>> 8) & 255) + "." + (ip & 255);
    }
}

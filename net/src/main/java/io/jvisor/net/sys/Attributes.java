package io.jvisor.net.sys;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The attributes (struct rtattr) of one netlink message or nest, indexed by type. The NLA_F_NESTED
 * and NLA_F_NET_BYTEORDER bits are masked off the type. When a type repeats, the first one counts.
 */
public final class Attributes {
    private static final int TYPE_MASK = 0x3fff;

    private final ByteBuffer b;
    /** type -> (offset of the value) << 32 | value length. */
    private final Map<Integer, Long> index = new HashMap<>();

    private Attributes(ByteBuffer b, int from, int to) {
        this.b = b;
        int p = from;
        while (p + 4 <= to) {
            int len = Short.toUnsignedInt(b.getShort(p));
            int type = Short.toUnsignedInt(b.getShort(p + 2)) & TYPE_MASK;
            if (len < 4 || p + len > to) {
                break;
            }
            index.putIfAbsent(type, ((long) (p + 4) << 32) | (len - 4));
            p += (len + 3) & ~3;
        }
    }

    /** Parses the attributes in {@code b} between {@code from} and {@code to}. */
    public static Attributes parse(ByteBuffer b, int from, int to) {
        return new Attributes(b, from, to);
    }

    /** Whether attribute {@code type} is present. */
    public boolean has(int type) {
        return index.containsKey(type);
    }

    private int offset(int type) {
        Long v = index.get(type);
        return v == null ? -1 : (int) (v >>> 32);
    }

    private int length(int type) {
        Long v = index.get(type);
        return v == null ? -1 : (int) (long) v;
    }

    /** A u8 attribute, or {@code dflt} when absent. */
    public int u8(int type, int dflt) {
        int o = offset(type);
        return o < 0 ? dflt : Byte.toUnsignedInt(b.get(o));
    }

    /** A u16 attribute in host order, or {@code dflt}. */
    public int u16(int type, int dflt) {
        int o = offset(type);
        return o < 0 ? dflt : Short.toUnsignedInt(b.getShort(o));
    }

    /** A u16 attribute in network byte order, or {@code dflt}. */
    public int u16Be(int type, int dflt) {
        int o = offset(type);
        return o < 0 ? dflt : (Byte.toUnsignedInt(b.get(o)) << 8) | Byte.toUnsignedInt(b.get(o + 1));
    }

    /** A u32 (or s32) attribute in host order, or {@code dflt}. */
    public int u32(int type, int dflt) {
        int o = offset(type);
        return o < 0 ? dflt : b.getInt(o);
    }

    /** A NUL-terminated string attribute, or {@code dflt}. */
    public String string(int type, String dflt) {
        int o = offset(type);
        if (o < 0) {
            return dflt;
        }
        int len = length(type);
        int end = o;
        while (end < o + len && b.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - o];
        b.get(o, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The raw value, or null when absent. */
    public byte[] bytes(int type) {
        int o = offset(type);
        if (o < 0) {
            return null;
        }
        byte[] bytes = new byte[length(type)];
        b.get(o, bytes);
        return bytes;
    }

    /** An IPv4 or IPv6 address attribute, or null when absent or of another size. */
    public InetAddress address(int type) {
        byte[] raw = bytes(type);
        if (raw == null || (raw.length != 4 && raw.length != 16)) {
            return null;
        }
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The attributes nested in {@code type}, or an empty set when absent. */
    public Attributes nested(int type) {
        int o = offset(type);
        return o < 0 ? new Attributes(b, 0, 0) : new Attributes(b, o, o + length(type));
    }
}

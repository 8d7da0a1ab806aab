package io.jvisor.modules;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/** Byte-level helpers for the differential tests: Ethernet/802.1Q/IPv4 fields, checksums, hex. */
public final class Wire {
    public static final int ETH_P_IP = 0x0800;
    public static final int ETH_P_ARP = 0x0806;
    public static final int ETH_P_8021Q = 0x8100;
    public static final int ETH_P_8021AD = 0x88a8;
    public static final int ETH_P_IPV6 = 0x86dd;

    private Wire() {}

    public static String hex(byte[] b) {
        return b == null ? "null" : HexFormat.of().formatHex(b);
    }

    public static byte[] mac(long v) {
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            m[i] = (byte) (v >>> (8 * (5 - i)));
        }
        return m;
    }

    public static long macValue(byte[] f, int off) {
        long v = 0;
        for (int i = 0; i < 6; i++) {
            v = (v << 8) | (f[off + i] & 0xff);
        }
        return v;
    }

    public static boolean isGroup(long mac) {
        return ((mac >>> 40) & 1) != 0;
    }

    public static int u16(byte[] f, int off) {
        return ((f[off] & 0xff) << 8) | (f[off + 1] & 0xff);
    }

    public static int u32(byte[] f, int off) {
        return ByteBuffer.wrap(f, off, 4).getInt();
    }

    /** The frame with a tag (tpid, tci) inserted after the MAC addresses. */
    public static byte[] pushTag(byte[] f, int tpid, int tci) {
        byte[] out = new byte[f.length + 4];
        System.arraycopy(f, 0, out, 0, 12);
        out[12] = (byte) (tpid >>> 8);
        out[13] = (byte) tpid;
        out[14] = (byte) (tci >>> 8);
        out[15] = (byte) tci;
        System.arraycopy(f, 12, out, 16, f.length - 12);
        return out;
    }

    /** The frame without the 4 bytes of its outermost tag (the caller checks there is one). */
    public static byte[] popTag(byte[] f) {
        byte[] out = new byte[f.length - 4];
        System.arraycopy(f, 0, out, 0, 12);
        System.arraycopy(f, 16, out, 12, f.length - 16);
        return out;
    }

    public static boolean isTagType(int ethertype) {
        return ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD;
    }

    /** The frame without its outermost 802.1Q/802.1ad tag, or the frame itself when it has none. */
    public static byte[] withoutOuterTag(byte[] f) {
        return f.length >= 18 && isTagType(u16(f, 12)) ? popTag(f) : f;
    }

    /** The Internet checksum (RFC 1071) of len bytes at off. */
    public static int checksum(byte[] d, int off, int len) {
        return checksum(d, off, len, 0);
    }

    /** The Internet checksum (RFC 1071) of len bytes at off, the sum starting at {@code initial} (a pseudo-header's). */
    public static int checksum(byte[] d, int off, int len, long initial) {
        long sum = initial;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((d[off + i] & 0xff) << 8) | (d[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (d[off + len - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    public static String ip(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    public static String macString(long m) {
        StringBuilder s = new StringBuilder();
        for (int i = 5; i >= 0; i--) {
            s.append(String.format("%02x", (m >>> (8 * i)) & 0xff)).append(i > 0 ? ":" : "");
        }
        return s.toString();
    }
}

package io.jvisor.modules.nat;

import io.jvisor.modules.Wire;
import java.nio.ByteBuffer;

/** Ethernet + IPv4 test frames with correct checksums, and checks of the checksums a program left. */
public final class Frames {
    private Frames() {}

    /** TCP, UDP (with or without a checksum) or ICMP echo (sport = identifier; dport 0 request, 1 reply). */
    public static byte[] ipv4(int proto, String src, int sport, String dst, int dport, boolean udpChecksum) {
        int l4len = proto == 6 ? 20 + 6 : 8 + 6; // a few payload bytes, an odd-free length
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4len);
        b.put(new byte[] {0x02, 0, 0, 0, 0, 2}).put(new byte[] {0x02, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4len)).putShort((short) 7).putShort((short) 0x4000)
                .put((byte) 64).put((byte) proto).putShort((short) 0).put(addr(src)).put(addr(dst));
        if (proto == 6) {
            b.putShort((short) sport).putShort((short) dport).putInt(1).putInt(0).put((byte) 0x50).put((byte) 0x02)
                    .putShort((short) 64240).putShort((short) 0).putShort((short) 0);
        } else if (proto == 17) {
            b.putShort((short) sport).putShort((short) dport).putShort((short) l4len).putShort((short) 0);
        } else {
            b.put((byte) (dport == 0 ? 8 : 0)).put((byte) 0).putShort((short) 0).putShort((short) sport).putShort((short) 1);
        }
        b.put(new byte[] {1, 2, 3, 4, 5, 6});
        byte[] f = b.array();
        put16(f, 24, checksum(f, 14, 20, 0));
        if (proto == 6) {
            put16(f, 34 + 16, l4Checksum(f));
        } else if (proto == 17 && udpChecksum) {
            int c = l4Checksum(f);
            put16(f, 34 + 6, c == 0 ? 0xffff : c);
        } else if (proto == 1) {
            put16(f, 34 + 2, checksum(f, 34, l4len, 0));
        }
        return f;
    }

    /**
     * An ICMP error (type, code) from {@code src} to {@code dst} quoting {@code quoteLen} bytes of the IPv4
     * packet in {@code frame} (from its IPv4 header on), with correct checksums.
     */
    public static byte[] icmpError(int type, int code, String src, String dst, byte[] frame, int quoteLen) {
        int icmpLen = 8 + quoteLen;
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + icmpLen);
        b.put(new byte[] {0x02, 0, 0, 0, 0, 2}).put(new byte[] {0x02, 0, 0, 0, 0, 3}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0xc0).putShort((short) (20 + icmpLen)).putShort((short) 9).putShort((short) 0)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(addr(src)).put(addr(dst));
        b.put((byte) type).put((byte) code).putShort((short) 0).putShort((short) 0).putShort((short) (code == 4 ? 1400 : 0));
        b.put(frame, 14, quoteLen);
        byte[] f = b.array();
        put16(f, 24, checksum(f, 14, 20, 0));
        put16(f, 36, checksum(f, 34, icmpLen, 0));
        return f;
    }

    /** The packet an ICMP error in {@code f} quotes, as a frame (a zero Ethernet header in front). */
    public static byte[] quoted(byte[] f) {
        byte[] q = new byte[f.length - 42 + 14];
        System.arraycopy(f, 42, q, 14, f.length - 42);
        return q;
    }

    /** True when the IPv4 header checksum and the L4 checksum (a UDP zero checksum is valid) are right. */
    public static boolean checksumsValid(byte[] f) {
        if (checksum(f, 14, 20, 0) != 0) {
            return false;
        }
        int proto = f[23] & 0xff;
        int total = get16(f, 16);
        if (proto == 1) {
            return checksum(f, 34, total - 20, 0) == 0;
        }
        if (proto == 17 && get16(f, 40) == 0) {
            return true;
        }
        return pseudoSum(f) == 0;
    }

    static int l4Checksum(byte[] f) {
        return pseudoSum(f);
    }

    /** The ones' complement checksum over the pseudo-header and the L4 segment (0 when a filled-in checksum is right). */
    private static int pseudoSum(byte[] f) {
        int total = get16(f, 16), len = total - 20;
        long sum = 0;
        for (int i = 26; i < 34; i += 2) {
            sum += get16(f, i);
        }
        sum += f[23] & 0xff;
        sum += len;
        return checksum(f, 34, len, sum);
    }

    public static int checksum(byte[] d, int off, int len, long initial) {
        return Wire.checksum(d, off, len, initial);
    }

    public static byte[] addr(String ip) {
        String[] o = ip.split("\\.");
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) Integer.parseInt(o[i]);
        }
        return b;
    }

    public static String addrAt(byte[] f, int off) {
        return (f[off] & 0xff) + "." + (f[off + 1] & 0xff) + "." + (f[off + 2] & 0xff) + "." + (f[off + 3] & 0xff);
    }

    public static int get16(byte[] f, int off) {
        return ((f[off] & 0xff) << 8) | (f[off + 1] & 0xff);
    }

    static void put16(byte[] f, int off, int v) {
        f[off] = (byte) (v >>> 8);
        f[off + 1] = (byte) v;
    }
}

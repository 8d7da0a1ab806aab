package io.jvisor.modules.firewall;

import java.nio.ByteBuffer;

/** Builds Ethernet/IPv4 frames from {@link FirewallModel.Packet}s, for BPF_PROG_TEST_RUN. */
final class Frames {
    private Frames() {}

    static byte[] frame(FirewallModel.Packet p) {
        byte[] l4 = l4(p);
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        ip(b, p, l4.length);
        b.put(l4);
        return b.array();
    }

    private static void ip(ByteBuffer b, FirewallModel.Packet p, int payload) {
        int start = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + payload)).putShort((short) 1)
                .putShort((short) (p.fragment() ? 0x0010 : 0)).put((byte) 64).put((byte) p.proto()).putShort((short) 0)
                .putInt(p.src()).putInt(p.dst());
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += b.getShort(start + i) & 0xffff;
        }
        while (sum > 0xffff) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        b.putShort(start + 10, (short) ~sum);
    }

    private static byte[] l4(FirewallModel.Packet p) {
        if (p.fragment()) {
            return new byte[24];
        }
        return switch (p.proto()) {
            case 6 -> ByteBuffer.allocate(20).putShort((short) p.sport()).putShort((short) p.dport()).putInt(1).putInt(0)
                    .put((byte) 0x50).put((byte) p.flags()).putShort((short) 1024).putInt(0).array();
            case 17 -> ByteBuffer.allocate(16).putShort((short) p.sport()).putShort((short) p.dport()).putShort((short) 16)
                    .putShort((short) 0).putLong(0).array();
            case 1 -> {
                if (p.quoted() != null) {
                    byte[] inner = frame(p.quoted());
                    ByteBuffer b = ByteBuffer.allocate(8 + 28);
                    b.put((byte) p.icmpType()).put((byte) p.icmpCode()).putShort((short) 0).putInt(0);
                    b.put(inner, 14, 28); // the quoted IP header and 8 bytes of its payload
                    yield b.array();
                }
                yield ByteBuffer.allocate(16).put((byte) p.icmpType()).put((byte) p.icmpCode()).putShort((short) 0)
                        .putShort((short) p.icmpId()).putShort((short) 1).putLong(0).array();
            }
            default -> new byte[16];
        };
    }

    /** struct __sk_buff up to the end of cb[] (offset 68), with cb[0] = the port the packet enters on. */
    static byte[] skbContext(int inPort) {
        ByteBuffer b = ByteBuffer.allocate(68).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(48, inPort);
        return b.array();
    }
}

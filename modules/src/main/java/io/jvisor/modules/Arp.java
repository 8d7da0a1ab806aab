package io.jvisor.modules;

import java.nio.ByteBuffer;

/** ARP frames for IPv4 over Ethernet (RFC 826), as the control planes send them. */
public final class Arp {
    /** Operation codes. */
    public static final int REQUEST = 1, REPLY = 2;

    private Arp() {
    }

    /** The Ethernet broadcast address (a new array each time). */
    public static byte[] broadcast() {
        return new byte[] {-1, -1, -1, -1, -1, -1};
    }

    /**
     * A 42-byte ARP frame: Ethernet to {@code ethDst} from {@code smac}, operation {@code op}, sender
     * {@code smac}/{@code sip}, target {@code tmac}/{@code tip} (addresses in host order).
     */
    public static byte[] frame(int op, byte[] smac, int sip, byte[] tmac, int tip, byte[] ethDst) {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(ethDst).put(smac).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) op);
        b.put(smac).putInt(sip).put(tmac).putInt(tip);
        return b.array();
    }
}

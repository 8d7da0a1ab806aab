package io.jvisor.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The 16-byte {@code struct jv_peer} of module.h, the value of a port in {@code jv_ports}:
 * <pre>
 *   u32 kind    JV_PEER_NONE, JV_PEER_DEVICE or JV_PEER_INSTANCE
 *   u32 target  the device's ifindex, or the peer instance's slot
 *   instance:   u32 port, u32 flags (0)
 *   device:     u8 peer_mac[6], u16 dev_flags (JV_DEV_F_PEER_REDIRECT)
 * </pre>
 * Little-endian, as the host; the offsets are {@link Sdk.PeerLayout}'s, checked against module.h by
 * SdkTest.
 */
final class PeerCodec {
    private PeerCodec() {}

    /** The size of an encoded peer. */
    static final int SIZE = Sdk.PeerLayout.SIZE;

    /** A port's peer as the data plane sees it. */
    sealed interface Peer {
        /** An unconnected port. */
        Peer NONE = new None();
    }

    /** An unconnected port: the data plane drops what is forwarded to it (unconnected_port). */
    record None() implements Peer {}

    /**
     * A device, by ifindex. With a non-null {@code peerMac}, the device is a veth whose other end is
     * in another namespace and has that MAC: frames to it go by bpf_redirect_peer.
     */
    record Device(int ifindex, byte[] peerMac) implements Peer {
        Device {
            if (peerMac != null && peerMac.length != 6) {
                throw new IllegalArgumentException("a MAC has 6 bytes, not " + peerMac.length);
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Device d && d.ifindex == ifindex && Arrays.equals(d.peerMac, peerMac);
        }

        @Override
        public int hashCode() {
            return 31 * ifindex + Arrays.hashCode(peerMac);
        }

        @Override
        public String toString() {
            return "Device[ifindex=" + ifindex + (peerMac == null ? "" : ", peer redirect") + "]";
        }
    }

    /** Another instance's port, by that instance's slot. */
    record Instance(int slot, int port) implements Peer {}

    static byte[] encode(Peer peer) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        switch (peer) {
            case None n -> { }
            case Instance i -> b.putInt(Sdk.PeerLayout.KIND, Sdk.PEER_INSTANCE).putInt(Sdk.PeerLayout.TARGET, i.slot())
                    .putInt(Sdk.PeerLayout.PORT, i.port());
            case Device d -> {
                b.putInt(Sdk.PeerLayout.KIND, Sdk.PEER_DEVICE).putInt(Sdk.PeerLayout.TARGET, d.ifindex());
                if (d.peerMac() != null) {
                    b.put(Sdk.PeerLayout.PEER_MAC, d.peerMac())
                            .putShort(Sdk.PeerLayout.DEV_FLAGS, (short) Sdk.DEV_F_PEER_REDIRECT);
                }
            }
        }
        return b.array();
    }

    /** @throws IllegalArgumentException on a value of the wrong size or an unknown kind */
    static Peer decode(byte[] value) {
        if (value.length != SIZE) {
            throw new IllegalArgumentException("a jv_peer has " + SIZE + " bytes, not " + value.length);
        }
        ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        int kind = b.getInt(Sdk.PeerLayout.KIND);
        return switch (kind) {
            case Sdk.PEER_NONE -> Peer.NONE;
            case Sdk.PEER_INSTANCE -> new Instance(b.getInt(Sdk.PeerLayout.TARGET), b.getInt(Sdk.PeerLayout.PORT));
            case Sdk.PEER_DEVICE -> {
                boolean peerRedirect = (b.getShort(Sdk.PeerLayout.DEV_FLAGS) & Sdk.DEV_F_PEER_REDIRECT) != 0;
                yield new Device(b.getInt(Sdk.PeerLayout.TARGET), peerRedirect
                        ? Arrays.copyOfRange(value, Sdk.PeerLayout.PEER_MAC, Sdk.PeerLayout.PEER_MAC + 6) : null);
            }
            default -> throw new IllegalArgumentException("unknown jv_peer kind " + kind);
        };
    }
}

package io.jvisor.engine;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The jv_peer encoding, without a kernel. */
class PeerCodecTest {
    @Test
    void everyInstancePeerRoundTrips() {
        for (int slot = 0; slot < Sdk.MAX_SLOTS; slot++) {
            for (int port = 0; port < Sdk.MAX_PORTS; port++) {
                PeerCodec.Peer p = new PeerCodec.Instance(slot, port);
                assertThat(PeerCodec.decode(PeerCodec.encode(p))).isEqualTo(p);
            }
        }
    }

    @Test
    void devicePeersKeepThePeerRedirectMacOnlyWhenFlagged() {
        byte[] mac = {2, 0, 0, 0, 0, 7};
        PeerCodec.Peer redirect = new PeerCodec.Device(42, mac);
        PeerCodec.Peer plain = new PeerCodec.Device(42, null);
        byte[] v = PeerCodec.encode(redirect);
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(Sdk.PEER_DEVICE);
        assertThat(b.getInt(4)).isEqualTo(42);
        assertThat(b.getShort(14)).isEqualTo((short) Sdk.DEV_F_PEER_REDIRECT);
        assertThat(PeerCodec.decode(v)).isEqualTo(redirect).isNotEqualTo(plain);
        assertThat(PeerCodec.decode(PeerCodec.encode(plain))).isEqualTo(plain);
    }

    @Test
    void anUnconnectedPortIsSixteenZeroBytes() {
        assertThat(PeerCodec.encode(PeerCodec.Peer.NONE)).isEqualTo(new byte[16]);
        assertThat(PeerCodec.decode(new byte[16])).isEqualTo(PeerCodec.Peer.NONE);
    }

    @Test
    void badValuesAreRefusedByName() {
        assertThatThrownBy(() -> PeerCodec.decode(new byte[8])).hasMessageContaining("16 bytes, not 8");
        byte[] v = new byte[16];
        v[0] = 9;
        assertThatThrownBy(() -> PeerCodec.decode(v)).hasMessageContaining("unknown jv_peer kind 9");
        assertThatThrownBy(() -> new PeerCodec.Device(1, new byte[5])).hasMessageContaining("6 bytes");
    }
}

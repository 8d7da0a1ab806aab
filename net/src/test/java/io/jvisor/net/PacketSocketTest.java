package io.jvisor.net;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Fd;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A hand-built Ethernet/IPv4/UDP frame sent through a packet socket in namespace A reaches a UDP
 * socket in namespace B, and passes A's tc egress hook on the way out; a burst (sendmmsg) sends
 * each copy, and with PACKET_QDISC_BYPASS the frames skip that hook.
 */
@RequiresRoot
class PacketSocketTest {
    private static final int SOURCE_PORT = 40_123;

    @Test
    void aHandBuiltFrameReachesAUdpSocketInTheOtherNamespace() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap(); BpfProgram egress = Counters.tc(map, 0);
             PacketSocket socket = PacketSocket.open(w.a)) {
            w.rtnlA.ensureClsact(w.ifindexA);
            w.rtnlA.attachTcFilter(TcFilterSpec.of(w.ifindexA, TcDirection.EGRESS, 1, 1, egress));
            long before = w.received();
            int fdsBefore = Fd.openCount();

            byte[] payload = "jvisor slow path".getBytes(StandardCharsets.US_ASCII);
            byte[] frame = udpFrame(w.macB, w.macA, w.ipA, w.ipB, SOURCE_PORT, w.target().getPort(), payload);
            for (int i = 0; i < 3; i++) {
                assertThat(socket.send(w.ifindexA, frame)).isEqualTo(frame.length);
            }

            assertThat(w.awaitReceived(before + 3)).isEqualTo(before + 3);
            assertThat(w.lastPayload()).isEqualTo(payload);
            assertThat(w.lastSource()).isEqualTo(new InetSocketAddress(w.ipA, SOURCE_PORT));
            assertThat(Counters.settled(Counters.slot(map, 0))).as("seen by A's tc egress hook").isEqualTo(3);
            assertThat(Fd.openCount()).as("send allocates no descriptors").isEqualTo(fdsBefore);
        }
    }

    @Test
    void aBurstSendsEveryCopyAndQdiscBypassSkipsTheEgressHook() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap(); BpfProgram egress = Counters.tc(map, 0);
             PacketSocket socket = PacketSocket.open(w.a)) {
            w.rtnlA.ensureClsact(w.ifindexA);
            w.rtnlA.attachTcFilter(TcFilterSpec.of(w.ifindexA, TcDirection.EGRESS, 1, 1, egress));
            byte[] payload = "burst".getBytes(StandardCharsets.US_ASCII);
            byte[] frame = udpFrame(w.macB, w.macA, w.ipA, w.ipB, SOURCE_PORT, w.target().getPort(), payload);
            int fdsBefore = Fd.openCount();

            // through the qdisc: the egress hook sees every copy (64: within the sink's queues)
            long before = w.received();
            assertThat(socket.sendBurst(w.ifindexA, frame, 64)).isEqualTo(64);
            assertThat(w.awaitReceived(before + 64)).isEqualTo(before + 64);
            assertThat(w.lastPayload()).isEqualTo(payload);
            assertThat(Counters.settled(Counters.slot(map, 0))).as("seen by A's tc egress hook").isEqualTo(64);

            // straight to the driver: the copies arrive, the egress hook sees none of them
            socket.setQdiscBypass(true);
            before = w.received();
            assertThat(socket.sendBurst(w.ifindexA, frame, 32)).isEqualTo(32);
            assertThat(socket.send(w.ifindexA, frame)).isEqualTo(frame.length);
            assertThat(w.awaitReceived(before + 33)).isEqualTo(before + 33);
            assertThat(Counters.settled(Counters.slot(map, 0))).as("A's tc egress hook, bypassed").isEqualTo(64);

            socket.setQdiscBypass(false);
            assertThat(socket.sendBurst(w.ifindexA, frame, 1)).isEqualTo(1);
            assertThat(Counters.settled(Counters.slot(map, 0))).as("through the qdisc again").isEqualTo(65);
            assertThat(Fd.openCount()).as("bursts allocate no descriptors").isEqualTo(fdsBefore);

            assertThatThrownBy(() -> socket.sendBurst(w.ifindexA, frame, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> socket.sendBurst(w.ifindexA, frame, PacketSocket.MAX_BURST + 1))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> socket.sendBurst(9999, frame, 4))
                    .isInstanceOf(NetException.class)
                    .hasMessageContaining("burst of 4")
                    .hasMessageContaining("ENXIO")
                    .hasMessageContaining("no device with that ifindex");
        }
    }

    @Test
    void openedFromInsideANamespaceAndRefusals() {
        try (Wire w = Wire.create()) {
            PacketSocket socket = w.a.run(() -> PacketSocket.open()); // the caller's namespace: A
            try {
                byte[] frame = udpFrame(w.macB, w.macA, w.ipA, w.ipB, SOURCE_PORT, w.target().getPort(), new byte[8]);
                long before = w.received();
                socket.send(w.ifindexA, frame);
                assertThat(w.awaitReceived(before + 1)).isEqualTo(before + 1);

                assertThatThrownBy(() -> socket.send(9999, frame))
                        .isInstanceOf(NetException.class)
                        .hasMessageContaining("ifindex 9999")
                        .hasMessageContaining("ENXIO")
                        .hasMessageContaining("no device with that ifindex");
                assertThatThrownBy(() -> socket.send(w.ifindexA, new byte[9000]))
                        .isInstanceOf(NetException.class)
                        .hasMessageContaining("larger than the device's MTU");
                assertThatThrownBy(() -> socket.send(w.ifindexA, new byte[10]))
                        .isInstanceOf(IllegalArgumentException.class);
                w.rtnlA.setDown(Wire.DEV_A);
                assertThatThrownBy(() -> socket.send(w.ifindexA, frame))
                        .isInstanceOf(NetException.class)
                        .hasMessageContaining("ENETDOWN");
            } finally {
                socket.close();
            }
            socket.close(); // twice is fine
            assertThat(socket.fd().isClosed()).isTrue();
            assertThatThrownBy(() -> socket.send(w.ifindexA, new byte[60])).isInstanceOf(IllegalStateException.class);
        }
    }

    /** Ethernet + IPv4 (checksummed, DF, TTL 64) + UDP (checksum 0: none, as IPv4 allows). */
    static byte[] udpFrame(MacAddress dst, MacAddress src, InetAddress from, InetAddress to, int sport, int dport,
                           byte[] payload) {
        int ipLen = 20 + 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(14 + ipLen); // big-endian, as on the wire
        b.put(dst.bytes()).put(src.bytes()).putShort((short) 0x0800);
        int ip = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) ipLen).putShort((short) 0x1234).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(from.getAddress()).put(to.getAddress());
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += Short.toUnsignedInt(b.getShort(ip + i));
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        b.putShort(ip + 10, (short) ~sum);
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.array();
    }
}

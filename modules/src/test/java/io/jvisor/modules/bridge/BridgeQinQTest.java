package io.jvisor.modules.bridge;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.TestBed;
import io.jvisor.net.lab.Host;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 802.1ad (QinQ) frames from real hosts. A receiving device moves the outer tag of a frame out of band
 * before tc sees it, so this is the path the differential test (BPF_PROG_TEST_RUN, tags in the packet)
 * does not take: an outer 0x88a8 tag must be refused there too, not taken for an 802.1Q tag.
 */
@RequiresRoot
class BridgeQinQTest {
    /** Sends one frame: argv tpid vid; broadcast, EtherType 0x88b5 inside the tag. */
    static final String SEND = """
            import socket, struct, sys
            tpid, vid = int(sys.argv[1], 16), int(sys.argv[2])
            frame = b"\\xff" * 6 + bytes.fromhex("020000000004") + struct.pack("!HHH", tpid, vid, 0x88b5) + bytes(46)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("eth0", 0))
            s.send(frame)
            """;

    static void send(Host from, int tpid, int vid) throws Exception {
        Process p = from.exec(List.of("python3", "-c", SEND, Integer.toHexString(tpid), Integer.toString(vid)));
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    /** Waits until port's tx or the drop reason's counter reaches its target, at most 5 s. */
    static void await(Engine e, int port, long tx, long drops) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline
                && e.stats("br", port).txPackets() < tx && e.drops("br").getOrDefault("user_2", 0L) < drops) {
            Thread.sleep(20);
        }
    }

    @Test
    void anOuter8021adTagIsDroppedOnATrunk() throws Exception {
        try (TestBed bed = TestBed.create(4, Hook.TC)) {
            // h3 access VLAN 20; h4 on a trunk allowing 20 (native 10)
            Engine e = BridgeTest.bridge(bed, 4, Map.of("port.0.vlan", "10", "port.1.vlan", "10", "port.2.vlan", "20",
                    "port.3.trunk", "20", "port.3.native", "10"));
            Host h4 = BridgeTest.h(bed, 4);

            long tx = e.stats("br", 2).txPackets();
            long dropped = e.drops("br").getOrDefault("user_2", 0L);
            send(h4, 0x8100, 20);
            await(e, 2, tx + 1, Long.MAX_VALUE);
            assertThat(e.stats("br", 2).txPackets() - tx).as("an 802.1Q VLAN 20 broadcast reaches h3's port")
                    .isEqualTo(1);

            send(h4, 0x88a8, 20);
            await(e, 2, Long.MAX_VALUE, dropped + 1);
            assertThat(e.drops("br").getOrDefault("user_2", 0L) - dropped)
                    .as("an 802.1ad-tagged frame is dropped as a VLAN drop").isEqualTo(1);
            assertThat(e.stats("br", 2).txPackets() - tx).as("and never reaches VLAN 20").isEqualTo(1);
            assertThat(e.stats("br", 0).txPackets() + e.stats("br", 1).txPackets())
                    .as("nor the native VLAN").isZero();
        }
    }
}

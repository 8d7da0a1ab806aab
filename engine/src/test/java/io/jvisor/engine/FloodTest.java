package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A hub floods in the kernel: one broadcast reaches every other host, and never the sender's port. */
@RequiresRoot
class FloodTest {
    @Test
    void hubDeliversOneBroadcastToTheOtherThree() throws Exception {
        try (TestBed bed = TestBed.create(4, Hook.TC)) {
            Engine e = bed.start();
            Topology.Builder t = Topology.builder().instance("hub", "hub");
            for (int i = 1; i <= 4; i++) {
                t.connect("hub:" + (i - 1), bed.dev(i));
            }
            e.apply(t.build());
            int port = 40000 + (int) (Math.random() * 20000);
            List<DatagramSocket> receivers = new ArrayList<>();
            try {
                for (int i = 2; i <= 4; i++) {
                    Host h = bed.lab.host("h" + i);
                    receivers.add(h.netns().run(() -> {
                        DatagramSocket s = new DatagramSocket(null);
                        s.setReuseAddress(true);
                        s.bind(new InetSocketAddress(port));
                        s.setSoTimeout(3000);
                        return s;
                    }));
                }
                PortStats[] before = new PortStats[4];
                for (int p = 0; p < 4; p++) {
                    before[p] = e.stats("hub", p);
                }
                byte[] msg = "hello, everyone".getBytes(StandardCharsets.UTF_8);
                InetAddress broadcast = InetAddress.getByName(bed.net + "255");
                bed.lab.host("h1").netns().run(() -> {
                    try (DatagramSocket s = new DatagramSocket()) {
                        s.setBroadcast(true);
                        s.send(new DatagramPacket(msg, msg.length, broadcast, port));
                    }
                    return null;
                });
                for (DatagramSocket r : receivers) {
                    DatagramPacket got = new DatagramPacket(new byte[64], 64);
                    r.receive(got);
                    assertThat(new String(got.getData(), 0, got.getLength(), StandardCharsets.UTF_8))
                            .isEqualTo("hello, everyone");
                    r.setSoTimeout(300);
                    assertThat(receiveNothing(r)).as("exactly one copy").isTrue();
                }
                assertThat(e.stats("hub", 0).rxPackets() - before[0].rxPackets()).isEqualTo(1);
                assertThat(e.stats("hub", 0).txPackets() - before[0].txPackets()).as("not back to the sender").isZero();
                for (int p = 1; p < 4; p++) {
                    assertThat(e.stats("hub", p).txPackets() - before[p].txPackets()).as("copy out of port " + p)
                            .isEqualTo(1);
                }
            } finally {
                receivers.forEach(DatagramSocket::close);
            }
        }
    }

    private static boolean receiveNothing(DatagramSocket s) throws Exception {
        try {
            s.receive(new DatagramPacket(new byte[64], 64));
            return false;
        } catch (SocketTimeoutException expected) {
            return true;
        }
    }
}

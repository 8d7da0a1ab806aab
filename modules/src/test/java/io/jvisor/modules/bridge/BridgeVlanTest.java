package io.jvisor.modules.bridge;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.TestBed;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VLANs: h1, h2 access in VLAN 10; h3 access in VLAN 20; h4 on a trunk (native 10, allowed 20). Tagged
 * frames are sent and captured with python3 AF_PACKET sockets: the test kernel has no 8021q.
 */
@RequiresRoot
class BridgeVlanTest {
    @Test
    void accessAndTrunkPortsKeepVlansApart() throws Exception {
        try (TestBed bed = TestBed.create(4, Hook.TC)) {
            Engine e = BridgeTest.bridge(bed, 4, Map.of("port.0.vlan", "10", "port.1.vlan", "10", "port.2.vlan", "20",
                    "port.3.trunk", "20", "port.3.native", "10"));
            Host h1 = BridgeTest.h(bed, 1), h2 = BridgeTest.h(bed, 2), h3 = BridgeTest.h(bed, 3),
                    h4 = BridgeTest.h(bed, 4);

            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).as("h1 -> h2, VLAN 10").isTrue();
            assertThat(Ping.run(h1.netns(), h4.address(), 2).allReplied()).as("h1 -> h4, native VLAN 10").isTrue();
            assertThat(Ping.run(h2.netns(), h4.address(), 2).allReplied()).as("h2 -> h4, native VLAN 10").isTrue();
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(4), 10).orElseThrow().port()).isEqualTo(3);
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(1), 10).orElseThrow().port()).isEqualTo(0);

            long before = e.stats("br", 2).txPackets();
            assertThat(Ping.run(h1.netns(), h3.address(), 2).received()).as("h1 -/-> h3").isZero();
            assertThat(Ping.run(h3.netns(), h1.address(), 2).received()).as("h3 -/-> h1").isZero();
            assertThat(e.stats("br", 2).txPackets() - before).as("nothing of VLAN 10 reaches h3's port").isZero();
            assertThat(Ping.run(h3.netns(), h2.address(), 2).received()).as("h3 -/-> h2").isZero();
            assertThat(Ping.run(h3.netns(), h4.address(), 2).received()).as("h3 -/-> h4 (untagged is VLAN 10 there)")
                    .isZero();
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(3), 20).orElseThrow().port())
                    .as("h3 is learned in VLAN 20").isEqualTo(2);
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(3), 10)).as("FDB entries are per VLAN").isEmpty();
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(1), 20)).isEmpty();
        }
    }

    /** Receives one frame of EtherType 0x88b5 on eth0; prints its VLAN tag (or "untagged") and payload. */
    static final String RECEIVE = """
            import socket, struct, sys
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            s.bind(("eth0", 0))
            s.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA
            s.settimeout(4)
            print("ready", flush=True)
            while True:
                data, anc, flags, addr = s.recvmsg(2048, 1024)
                if addr[2] == 4:  # PACKET_OUTGOING
                    continue
                vlan = "untagged"
                for level, kind, d in anc:
                    if level == 263 and kind == 8:
                        status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", d[:20])
                        if status & 0x10:
                            vlan = "vlan %d" % (tci & 0xfff)
                etype = struct.unpack("!H", data[12:14])[0]
                if etype == 0x8100:
                    vlan = "inband %d" % (struct.unpack("!H", data[14:16])[0] & 0xfff)
                    etype = struct.unpack("!H", data[16:18])[0]
                    data = data[:12] + data[16:]
                if etype == 0x88b5:
                    print(vlan, data[14:19].decode(), flush=True)
                    break
            """;

    /** Sends one frame: argv dst src vid (0: untagged) payload. */
    static final String SEND = """
            import socket, struct, sys
            dst, src, vid, payload = bytes.fromhex(sys.argv[1].replace(":", "")), bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3]), sys.argv[4].encode()
            tag = struct.pack("!HH", 0x8100, vid) if vid else b""
            frame = dst + src + tag + struct.pack("!H", 0x88b5) + payload + bytes(46)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("eth0", 0))
            s.send(frame)
            """;

    static String transfer(Host from, Host to, String dst, String src, int vid, String payload) throws Exception {
        Process rx = to.exec(java.util.List.of("python3", "-c", RECEIVE));
        try {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(rx.getInputStream()));
            assertThat(out.readLine()).isEqualTo("ready");
            Process tx = from.exec(java.util.List.of("python3", "-c", SEND, dst, src, Integer.toString(vid), payload));
            assertThat(tx.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(tx.exitValue()).isZero();
            String line = out.readLine();
            rx.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            return line;
        } finally {
            rx.destroyForcibly();
        }
    }

    @Test
    void trunkPortsPopAndPushTags() throws Exception {
        try (TestBed bed = TestBed.create(4, Hook.TC)) {
            Engine e = BridgeTest.bridge(bed, 4, Map.of("port.0.vlan", "10", "port.2.vlan", "20",
                    "port.3.trunk", "20", "port.3.native", "10"));
            Host h3 = BridgeTest.h(bed, 3), h4 = BridgeTest.h(bed, 4);
            assertThat(transfer(h4, h3, BridgeTest.mac(3), BridgeTest.mac(4), 20, "hello"))
                    .as("tagged VLAN 20 from the trunk arrives untagged on the access port").isEqualTo("untagged hello");
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(4), 20).orElseThrow().port()).isEqualTo(3);
            assertThat(transfer(h3, h4, BridgeTest.mac(4), BridgeTest.mac(3), 0, "world"))
                    .as("VLAN 20 leaves the trunk tagged").isIn("vlan 20 world", "inband 20 world");
            assertThat(transfer(h3, h4, "ff:ff:ff:ff:ff:ff", BridgeTest.mac(3), 0, "flood"))
                    .as("a VLAN 20 flood leaves the trunk tagged").isIn("vlan 20 flood", "inband 20 flood");
            assertThat(transfer(BridgeTest.h(bed, 1), h4, "ff:ff:ff:ff:ff:ff", BridgeTest.mac(1), 0, "nativ"))
                    .as("the native VLAN leaves the trunk untagged").isEqualTo("untagged nativ");
        }
    }
}

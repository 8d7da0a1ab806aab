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
 * VLANs: h1, h2 access in VLAN 10; h3 access in VLAN 20; h4 on a trunk (native 10, allowed 20),
 * untagged. (Tagged traffic is not tested: the test kernel has no 8021q for VLAN interfaces.)
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
}

package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Ping;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A flood that reaches more instance peers than a packet can enter is counted, the same way at
 * both hooks: tc reaches every device and the first instance peer; XDP, which cannot clone, reaches
 * the devices when there are any and the first instance peer otherwise. Every instance peer left
 * out counts as a flood_limit drop; nothing is skipped silently.
 */
@RequiresRoot
class FloodLimitTest {
    private static void prepare(TestBed bed, Hook hook, int hosts) {
        if (hook == Hook.XDP) {
            bed.prepareHostsForXdp(hosts);
        }
    }

    /**
     * h1 - hubA:0; hubA:1 - hubB:0, hubA:2 - hubC:0 (hubC's other port is unconnected);
     * hubB:1 - h2. An ARP broadcast from h1 has no device to go to in hubA, so it enters hubB (the
     * first instance peer) and hubC's copy counts as a drop, at both hooks. h2's reply comes back
     * through hubB into hubA, which has a device port (h1): tc clones it there and sends the
     * original into hubC; XDP sends it to h1 and counts hubC's copy.
     */
    @ParameterizedTest
    @EnumSource(Hook.class)
    void instancePeersBeyondTheFirstAreCountedAsFloodLimitDrops(Hook hook) {
        try (TestBed bed = TestBed.create(2, hook)) {
            prepare(bed, hook, 2);
            Engine e = bed.start();
            e.apply(Topology.builder().instance("hubA", "hub").instance("hubB", "hub").instance("hubC", "hub")
                    .connect("hubA:0", bed.dev(1)).connect("hubA:1", "hubB:0").connect("hubA:2", "hubC:0")
                    .connect("hubB:1", bed.dev(2)).build());
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 3).allReplied()).isTrue();
            long floodLimit = e.drops("hubA").getOrDefault("flood_limit", 0L);
            long fromH1 = e.stats("hubA", 0).rxPackets();
            long fromB = e.stats("hubA", 1).rxPackets();
            assertThat(fromH1).isPositive();
            assertThat(fromB).isPositive();
            if (hook == Hook.TC) {
                // from h1: no other device, hubB first, hubC counted; from hubB: a clone to h1, the original to hubC
                assertThat(floodLimit).as("hubC's copy of each packet from h1").isEqualTo(fromH1);
                assertThat(e.stats("hubC", 0).rxPackets()).as("hubC takes the original from hubB").isEqualTo(fromB);
            } else {
                // from hubB: the device h1 takes the frame, and hubC's copy is counted too
                assertThat(floodLimit).as("hubC's copy of every packet hubA flooded").isEqualTo(fromH1 + fromB);
                assertThat(e.stats("hubC", 0).rxPackets()).as("hubC is never reached").isZero();
            }
        }
    }

    /**
     * hub:0..1 on h1, h2 and hub:2 to a second hub: with devices to flood to, tc still sends one copy
     * into the instance, XDP cannot and counts it.
     */
    @ParameterizedTest
    @EnumSource(Hook.class)
    void devicesAndAnInstancePeer(Hook hook) {
        try (TestBed bed = TestBed.create(2, hook)) {
            prepare(bed, hook, 2);
            Engine e = bed.start();
            e.apply(Topology.builder().instance("hub", "hub").instance("far", "hub")
                    .connect("hub:0", bed.dev(1)).connect("hub:1", bed.dev(2)).connect("hub:2", "far:0").build());
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 3).allReplied()).isTrue();
            long flooded = e.stats("hub", 0).rxPackets() + e.stats("hub", 1).rxPackets();
            assertThat(flooded).isPositive();
            assertThat(e.stats("hub", 0).txPackets() + e.stats("hub", 1).txPackets())
                    .as("each flooded packet leaves on the other device port, counted").isEqualTo(flooded);
            long limit = e.drops("hub").getOrDefault("flood_limit", 0L);
            if (hook == Hook.TC) {
                assertThat(e.stats("hub", 2).txPackets()).as("tc clones into the instance too").isEqualTo(flooded);
                assertThat(limit).isZero();
            } else {
                assertThat(e.stats("hub", 2).txPackets()).as("XDP cannot also enter the instance").isZero();
                assertThat(limit).as("so each such copy is counted").isEqualTo(flooded);
            }
        }
    }
}

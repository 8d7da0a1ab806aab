package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A counter goes in between a forwarder and a device, and out again, under traffic. */
@RequiresRoot
class TransparentInsertTest {
    @Test
    void insertAndRemoveACounterWithoutTouchingEitherPeerOrLosingAPacket() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = bed.start();
            Topology base = Topology.builder().instance("fwd", "forwarder")
                    .connect("fwd:0", bed.dev(1)).connect("fwd:1", bed.dev(2)).build();
            Topology withCounter = Topology.builder().instance("fwd", "forwarder").instance("cnt", "counter")
                    .connect("fwd:0", bed.dev(1)).connect("fwd:1", "cnt:0").connect("cnt:1", bed.dev(2)).build();
            e.apply(base);
            Host h1 = bed.lab.host("h1");
            Host h2 = bed.lab.host("h2");
            assertThat(Ping.run(h1.netns(), h2.address(), 1).allReplied()).isTrue();
            int fwdProgram = e.programId("fwd");
            var linksBefore = deviceLinkIds(bed);
            UdpStream.Report report;
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.start(50_000);
                sleep(200);
                Plan in = e.apply(withCounter);
                assertThat(in.toString()).contains("+ instance cnt").contains("~ port fwd:1 -> cnt:0")
                        .contains("=> cnt:1 (was fwd:1)");
                sleep(300);
                assertThat(ChainTest.udpCount(e, 0)).as("the counter sees the stream").isPositive();
                e.apply(base);
                sleep(200);
                udp.stop();
                report = udp.finish(Duration.ofSeconds(1));
            }
            assertThat(report.lost()).isZero();
            assertThat(report.received()).isEqualTo(report.sent());
            assertThat(e.programId("fwd")).as("the forwarder was not reloaded").isEqualTo(fwdProgram);
            assertThat(deviceLinkIds(bed)).as("the device links were updated, not replaced")
                    .isEqualTo(linksBefore);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * What identifies this test's device attachments: the ids of the tcx links pinned by the engine
     * (other tests make links too), or, attached through netlink, each device's cls_bpf filters
     * (priority and handle), which a swap replaces in place.
     */
    private static java.util.List<Object> deviceLinkIds(TestBed bed) {
        java.util.List<Object> ids = new java.util.ArrayList<>();
        for (int k = 1; k <= 2; k++) {
            String dev = bed.dev(k).substring("dev:".length());
            if (bed.engine.attachMethod() == AttachMethod.NETLINK) {
                try (io.jvisor.net.Rtnl rtnl = io.jvisor.net.Rtnl.open()) {
                    ids.add(rtnl.tcFilters(rtnl.ifindex(dev), io.jvisor.net.TcDirection.INGRESS).stream()
                            .map(f -> f.priority() + ":" + f.handle()).toList());
                }
                continue;
            }
            try (io.jvisor.bpf.link.BpfLink link = io.jvisor.bpf.link.BpfLink.openPinned(
                    bed.options.pinRoot().resolve("dev").resolve("-_" + dev).resolve("link"))) {
                ids.add(link.info().id());
            }
        }
        return ids;
    }
}

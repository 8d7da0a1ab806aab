package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.Rtnl;
import io.jvisor.net.TcDirection;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.features.Features;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Both attach methods on the tc hook (clsact + cls_bpf, AUTO's choice, and tcx links, where the
 * kernel has them), and IFLA_XDP: forwarding, live swap and transparent insertion under traffic,
 * and adoption. AUTO's choice per hook is checked too.
 */
@RequiresRoot
class NetlinkAttachTest {
    @Test
    void autoPicksClsBpfOnTcAndXdpLinksWhereTheKernelHasThem() {
        try (TestBed bed = TestBed.create(1, Hook.TC, AttachMethod.AUTO)) {
            Engine e = bed.start();
            assertThat(e.attachMethod()).isEqualTo(AttachMethod.NETLINK);
        }
        boolean xdpLinks = Features.probeLinkAttachType(AttachType.XDP).supported();
        try (TestBed bed = TestBed.create(1, Hook.XDP, AttachMethod.AUTO)) {
            Engine e = bed.start();
            assertThat(e.attachMethod()).isEqualTo(xdpLinks ? AttachMethod.LINK : AttachMethod.NETLINK);
        }
    }

    @ParameterizedTest
    @EnumSource(value = AttachMethod.class, names = {"NETLINK", "LINK"})
    void tcEntriesForwardSwapAndAreAdopted(AttachMethod method) {
        boolean tcx = Features.probeLinkAttachType(AttachType.TCX_INGRESS).supported();
        try (TestBed bed = TestBed.create(2, Hook.TC, method)) {
            if (method == AttachMethod.LINK && !tcx) {
                // a kernel without tcx (before 6.6) refuses the link by name, and nothing is attached
                Engine e = bed.start();
                assertThatThrownBy(() -> e.apply(ChainTest.chain(bed))).isInstanceOf(TopologyException.class)
                        .hasMessageContaining("cannot attach");
                assertThat(e.topology().instances()).isEmpty();
                return;
            }
            Engine e = bed.start();
            assertThat(e.attachMethod()).isEqualTo(method);
            e.apply(ChainTest.chain(bed));
            String p1 = bed.lab.rootDevice("p1");
            try (Rtnl rtnl = Rtnl.open()) {
                var filters = rtnl.tcFilters(rtnl.ifindex(p1), TcDirection.INGRESS);
                if (method == AttachMethod.NETLINK) {
                    assertThat(filters).as("a cls_bpf filter, not a tcx link, on " + p1).isNotEmpty();
                } else {
                    assertThat(filters).as("a tcx link, no cls_bpf filter, on " + p1).isEmpty();
                }
            }
            Host h1 = bed.lab.host("h1");
            Host h2 = bed.lab.host("h2");
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
            String v1 = TestModules.source("counter.c");
            UdpStream.Report r;
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.start(50_000);
                for (int i = 0; i < 10; i++) {
                    e.swap("cnt", new ModuleCode("counter.c", v1 + "\n/* v" + i + " */\n"));
                }
                // re-point the device entry: filter replace under traffic
                e.apply(Topology.builder().instance("fwd1", "forwarder").instance("cnt", "counter")
                        .instance("fwd2", "forwarder").instance("mid", "forwarder")
                        .connect("fwd1:0", bed.dev(1)).connect("fwd1:1", "cnt:0").connect("cnt:1", "fwd2:0")
                        .connect("fwd2:1", "mid:0").connect("mid:1", bed.dev(2)).build());
                udp.stop();
                r = udp.finish(Duration.ofSeconds(1));
            }
            assertThat(r.lost()).isZero();
            assertThat(r.received()).isEqualTo(r.sent());
            // the process "dies" (the Java side goes, the kernel side stays) and a new engine adopts
            e.close();
            Engine again = bed.start();
            assertThat(again.attachMethod()).isEqualTo(method);
            assertThat(again.plan(again.topology()).isEmpty()).isTrue();
            again.apply(ChainTest.chain(bed));
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
            for (String i : List.of("fwd1", "cnt", "fwd2")) {
                assertThat(again.missedTailCalls(i)).isZero();
            }
        }
        // destroy took the filters off: nothing of ours is left on the (now deleted) devices
    }

    @Test
    void iflaXdpEntriesForwardAndInsertUnderTraffic() {
        try (TestBed bed = TestBed.create(2, Hook.XDP, AttachMethod.NETLINK)) {
            bed.prepareHostsForXdp(2);
            Engine e = bed.start();
            e.apply(Topology.builder().instance("fwd", "forwarder")
                    .connect("fwd:0", bed.dev(1)).connect("fwd:1", bed.dev(2)).build());
            try (Rtnl rtnl = Rtnl.open()) {
                assertThat(rtnl.xdpProgramId(rtnl.ifindex(bed.lab.rootDevice("p1")))).isPresent();
            }
            Host h1 = bed.lab.host("h1");
            Host h2 = bed.lab.host("h2");
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
            UdpStream.Report r;
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.start(50_000);
                e.apply(Topology.builder().instance("fwd", "forwarder").instance("cnt", "counter")
                        .connect("fwd:0", bed.dev(1)).connect("fwd:1", "cnt:0").connect("cnt:1", bed.dev(2)).build());
                udp.stop();
                r = udp.finish(Duration.ofSeconds(1));
            }
            assertThat(r.lost()).isZero();
            assertThat(r.received()).isEqualTo(r.sent());
        }
    }
}

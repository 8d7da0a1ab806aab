package io.jvisor.bpf.link;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static io.jvisor.bpf.link.Counting.read;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * XDP links on the receiving end of a veth pair, in native (driver) mode: veth runs native XDP on
 * frames it receives from its peer (it switches to NAPI when a program is attached), so DRIVER
 * works here and no GENERIC fallback is needed. The witness is a tcx ingress program on the same
 * device, which sees every frame that XDP passed.
 */
@RequiresRoot
class XdpLinkTest extends DeviceLinkContract {
    @Override
    BpfProgram counter(BpfMap map, int slot) {
        return Counting.xdp(map, slot);
    }

    @Override
    BpfLink attach(BpfProgram p, int ifindex) {
        return BpfLink.xdp(p, ifindex, XdpMode.DRIVER);
    }

    @Override
    BpfProgram witness(BpfMap map, int slot) {
        return Counting.tc(map, slot);
    }

    @Override
    BpfLink attachWitness(BpfProgram witness, int ifindex) {
        return BpfLink.tcx(witness, ifindex, TcxDirection.INGRESS);
    }

    @Override
    void assertAttached(LinkInfo info, int ifindex, int programId) {
        assertThat(info).isInstanceOfSatisfying(LinkInfo.Xdp.class, x -> {
            assertThat(x.ifindex()).isEqualTo(ifindex);
            assertThat(x.programId()).isEqualTo(programId);
        });
    }

    @Override
    int ifindexOf(LinkInfo info) {
        return ((LinkInfo.Xdp) info).ifindex();
    }

    @Override
    void afterDetach(VethTestbed tb) {
        assertThat(tb.linkShowB()).doesNotContain("prog/xdp");
    }

    @Test
    void theDeviceReportsTheLinkedProgramInDriverMode() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p = counter(map, A)) {
            int ifindex = tb.ifindexB();
            assertThat(tb.linkShowB()).doesNotContain("prog/xdp");
            try (BpfLink link = tb.b.call(() -> attach(p, ifindex))) {
                // "xdp" alone is iproute2's word for native mode; generic shows as "xdpgeneric".
                assertThat(tb.linkShowB()).contains(" xdp ").doesNotContain("xdpgeneric")
                        .contains("prog/xdp id " + p.id());
                assertThat(link.toString()).contains("ifindex " + ifindex).contains("DRIVER");
            }
            assertThat(tb.linkShowB()).doesNotContain("prog/xdp");
        }
    }

    @Test
    void genericModeCountsToo() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p = counter(map, A)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> BpfLink.xdp(p, ifindex, XdpMode.GENERIC))) {
                assertThat(tb.linkShowB()).contains("xdpgeneric");
                assertAttached(link.info(), ifindex, p.id());
                tb.send(N, () -> read(map, A));
                assertThat(settled(map, A, N)).isEqualTo(N);
            }
        }
    }

    @Test
    void xdpAndTcxSeeTheSameFramesOneAfterTheOther() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram x = counter(map, A);
             BpfProgram t = witness(map, WITNESS)) {
            int ifindex = tb.ifindexB();
            try (BpfLink xl = tb.b.call(() -> attach(x, ifindex));
                 BpfLink tl = tb.b.call(() -> attachWitness(t, ifindex))) {
                assertThat(tl.info()).isInstanceOfSatisfying(LinkInfo.Tcx.class,
                        i -> assertThat(i.attachType()).isEqualTo(AttachType.TCX_INGRESS));
                tb.send(N, () -> read(map, WITNESS));
                assertThat(settled(map, A, N)).isEqualTo(N);
                assertThat(settled(map, WITNESS, N)).isEqualTo(N);
                assertThat(read(map, B)).isZero();
            }
        }
    }
}

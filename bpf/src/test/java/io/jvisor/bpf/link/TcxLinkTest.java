package io.jvisor.bpf.link;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static io.jvisor.bpf.link.Counting.TCX_NEXT;
import static io.jvisor.bpf.link.Counting.read;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * tcx ingress links on the receiving end of a veth pair. The witness is a program at the head of
 * the same chain that returns TCX_NEXT, so every packet goes on to the program under test.
 */
@RequiresRoot
class TcxLinkTest extends DeviceLinkContract {
    @Override
    BpfProgram counter(BpfMap map, int slot) {
        return Counting.tc(map, slot);
    }

    @Override
    BpfLink attach(BpfProgram p, int ifindex) {
        return BpfLink.tcx(p, ifindex, TcxDirection.INGRESS);
    }

    @Override
    BpfProgram witness(BpfMap map, int slot) {
        return Counting.tc(map, slot, TCX_NEXT);
    }

    @Override
    BpfLink attachWitness(BpfProgram witness, int ifindex) {
        return BpfLink.tcx(witness, ifindex, TcxDirection.INGRESS, Anchor.first());
    }

    @Override
    void assertAttached(LinkInfo info, int ifindex, int programId) {
        assertThat(info).isInstanceOfSatisfying(LinkInfo.Tcx.class, t -> {
            assertThat(t.ifindex()).isEqualTo(ifindex);
            assertThat(t.programId()).isEqualTo(programId);
            assertThat(t.attachType()).isEqualTo(AttachType.TCX_INGRESS);
        });
    }

    @Override
    int ifindexOf(LinkInfo info) {
        return ((LinkInfo.Tcx) info).ifindex();
    }

    /**
     * The chain runs until a program returns something other than TCX_NEXT, so which counters move
     * shows the order. Built as: last (slot 1, ends the chain), then first (slot 0, next), then
     * before(last program) (slot 2, ends the chain), then after(first link) (slot 3, next). The
     * chain must be 0, 3, 2, 1: slots 0, 3 and 2 see every packet and slot 1 none. Had first()
     * put its program at the tail, slot 0 would stay 0; had before() put its program after the
     * last one, slot 1 would count and slot 2 would not.
     */
    @Test
    void anchorsOrderTheChain() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram last = Counting.tc(map, 1);
             BpfProgram first = Counting.tc(map, 0, TCX_NEXT);
             BpfProgram beforeLast = Counting.tc(map, 2);
             BpfProgram afterFirst = Counting.tc(map, 3, TCX_NEXT)) {
            int ifindex = tb.ifindexB();
            try (BpfLink lastLink = tb.b.call(() -> BpfLink.tcx(last, ifindex, TcxDirection.INGRESS, Anchor.last()));
                 BpfLink firstLink = tb.b.call(() -> BpfLink.tcx(first, ifindex, TcxDirection.INGRESS, Anchor.first()));
                 BpfLink midLink = tb.b.call(() -> BpfLink.tcx(beforeLast, ifindex, TcxDirection.INGRESS,
                         Anchor.before(last)));
                 BpfLink afterLink = tb.b.call(() -> BpfLink.tcx(afterFirst, ifindex, TcxDirection.INGRESS,
                         Anchor.after(firstLink)))) {
                assertAttached(lastLink.info(), ifindex, last.id());
                assertAttached(firstLink.info(), ifindex, first.id());
                assertAttached(midLink.info(), ifindex, beforeLast.id());
                assertAttached(afterLink.info(), ifindex, afterFirst.id());

                tb.send(N, () -> read(map, 0));
                assertThat(settled(map, 0, N)).as("first").isEqualTo(N);
                assertThat(settled(map, 3, N)).as("after(first link)").isEqualTo(N);
                assertThat(settled(map, 2, N)).as("before(last program)").isEqualTo(N);
                assertThat(read(map, 1)).as("last, shadowed by before(last)").isZero();

                // Without the program that ended the chain early, the last one sees the packets.
                midLink.close();
                tb.send(N, () -> read(map, 0));
                assertThat(settled(map, 1, N)).as("last, once alone at the tail").isEqualTo(N);
                assertThat(read(map, 0)).isEqualTo(2L * N);
                assertThat(read(map, 2)).isEqualTo(N);
            }
        }
    }

    @Test
    void egressLinkReportsItsDirection() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p = counter(map, A)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> BpfLink.tcx(p, ifindex, TcxDirection.EGRESS))) {
                assertThat(link.info()).isInstanceOfSatisfying(LinkInfo.Tcx.class, t -> {
                    assertThat(t.attachType()).isEqualTo(AttachType.TCX_EGRESS);
                    assertThat(t.ifindex()).isEqualTo(ifindex);
                });
                // Traffic A -> B is ingress on B's end: an egress program there sees none of it.
                tb.send(N);
                Counting.sleep(200);
                assertThat(read(map, A)).isZero();
            }
        }
    }
}

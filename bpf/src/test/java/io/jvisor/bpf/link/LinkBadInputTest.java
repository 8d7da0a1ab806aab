package io.jvisor.bpf.link;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.Fd;
import io.jvisor.bpf.InvalidSpecException;
import io.jvisor.bpf.Pins;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.bpf.testing.TestNetns;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Link requests the kernel or jvisor must refuse, each with a message that names the culprit, and
 * without leaking a descriptor (checked here per test, and per class by FdLeakCheck) or a pin.
 */
@RequiresRoot
class LinkBadInputTest {
    private static final int MISSING_IFINDEX = 999999;

    @Test
    void xdpOnAMissingDeviceSaysNoSuchDevice() {
        List<String> fdsBefore = Fd.openDescriptions();
        try (TestNetns ns = TestNetns.create("jlx");
             BpfMap map = Counting.newMap();
             BpfProgram p = Counting.xdp(map, 0)) {
            for (XdpMode mode : XdpMode.values()) {
                // The kernel reports a missing device to an XDP link as EINVAL; the hint says what it means.
                assertThatThrownBy(() -> ns.call(() -> BpfLink.xdp(p, MISSING_IFINDEX, mode)))
                        .isExactlyInstanceOf(BpfException.class)
                        .hasMessageContaining("ifindex " + MISSING_IFINDEX)
                        .hasMessageContaining("no such device");
            }
        }
        assertThat(Fd.openDescriptions()).isEqualTo(fdsBefore);
    }

    @Test
    void tcxOnAMissingDeviceSaysNoSuchDevice() {
        List<String> fdsBefore = Fd.openDescriptions();
        try (TestNetns ns = TestNetns.create("jlx");
             BpfMap map = Counting.newMap();
             BpfProgram p = Counting.tc(map, 0)) {
            for (TcxDirection d : TcxDirection.values()) {
                assertThatThrownBy(() -> ns.call(() -> BpfLink.tcx(p, MISSING_IFINDEX, d)))
                        .isInstanceOfSatisfying(BpfException.class,
                                e -> assertThat(e.errnoConstant()).isEqualTo(Errno.ENODEV))
                        .hasMessageContaining("ifindex " + MISSING_IFINDEX)
                        .hasMessageContaining("no such device");
            }
        }
        assertThat(Fd.openDescriptions()).isEqualTo(fdsBefore);
    }

    @Test
    void programOfTheWrongTypeIsRefusedBeforeAnySyscall() {
        try (BpfMap map = Counting.newMap();
             BpfProgram tc = Counting.tc(map, 0);
             BpfProgram xdp = Counting.xdp(map, 0)) {
            assertThatThrownBy(() -> BpfLink.xdp(tc, 1, XdpMode.GENERIC))
                    .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("program"))
                    .hasMessageContaining("needs a xdp program, not sched_cls");
            assertThatThrownBy(() -> BpfLink.tcx(xdp, 1, TcxDirection.INGRESS))
                    .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("program"))
                    .hasMessageContaining("needs a sched_cls program, not xdp");
            assertThatThrownBy(() -> BpfLink.tcx(tc, 1, TcxDirection.INGRESS, Anchor.before(xdp)))
                    .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("anchor"))
                    .hasMessageContaining("not a sched_cls program");
            for (int bad : new int[] {0, -1}) {
                assertThatThrownBy(() -> BpfLink.xdp(xdp, bad, XdpMode.GENERIC))
                        .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("ifindex"));
                assertThatThrownBy(() -> BpfLink.tcx(tc, bad, TcxDirection.INGRESS))
                        .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("ifindex"));
            }
        }
    }

    @Test
    void aSecondXdpLinkOnTheSameDeviceIsRefusedWithTheReason() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p0 = Counting.xdp(map, 0);
             BpfProgram p1 = Counting.xdp(map, 1);
             BpfProgram tc = Counting.tc(map, 2)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> BpfLink.xdp(p0, ifindex, XdpMode.DRIVER))) {
                assertThatThrownBy(() -> tb.b.call(() -> BpfLink.xdp(p1, ifindex, XdpMode.DRIVER)))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.EBUSY))
                        .hasMessageContaining("already attached to ifindex " + ifindex)
                        .hasMessageContaining("BpfLink.update()");
                assertThatThrownBy(() -> tb.b.call(() -> BpfLink.xdp(p1, ifindex, XdpMode.GENERIC)))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.EEXIST))
                        .hasMessageContaining("native (driver) and generic XDP cannot be active");
                assertThatThrownBy(() -> link.update(tc))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.EINVAL))
                        .hasMessageContaining("does not match the link");
                assertThat(link.info().programId()).isEqualTo(p0.id());
            }
        }
    }

    @Test
    void nativeXdpOnLoopbackIsNotSupported() {
        try (TestNetns ns = TestNetns.create("jlx");
             BpfMap map = Counting.newMap();
             BpfProgram p = Counting.xdp(map, 0)) {
            int lo = ns.ifindex("lo");
            assertThatThrownBy(() -> ns.call(() -> BpfLink.xdp(p, lo, XdpMode.DRIVER)))
                    .isInstanceOf(BpfException.class)
                    .hasMessageContaining("no native XDP support")
                    .hasMessageContaining("XdpMode.GENERIC");
        }
    }

    @Test
    void tcxAnchorsAndDuplicatesAreRefusedWithTheReason() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram attached = Counting.tc(map, 0);
             BpfProgram other = Counting.tc(map, 1)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> BpfLink.tcx(attached, ifindex, TcxDirection.INGRESS))) {
                assertThatThrownBy(() -> tb.b.call(() -> BpfLink.tcx(attached, ifindex, TcxDirection.INGRESS)))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.EEXIST))
                        .hasMessageContaining("already in the tcx ingress chain of ifindex " + ifindex);
                assertThatThrownBy(() -> tb.b.call(() ->
                        BpfLink.tcx(other, ifindex, TcxDirection.INGRESS, Anchor.after(other))))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.ENOENT))
                        .hasMessageContaining("anchor program or link is not attached");
                // The anchor is attached, but to ingress; egress has no such program.
                assertThatThrownBy(() -> tb.b.call(() ->
                        BpfLink.tcx(other, ifindex, TcxDirection.EGRESS, Anchor.before(link))))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.ENOENT))
                        .hasMessageContaining("not attached to the tcx egress hook of ifindex " + ifindex);
            }
        }
    }

    @Test
    void badPinsLeaveNothingBehind() throws IOException {
        List<String> fdsBefore = Fd.openDescriptions();
        Path dir = Files.createDirectory(Pins.DEFAULT_BPFFS.resolve(Names.unique("jvlink")));
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p = Counting.tc(map, 0)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> BpfLink.tcx(p, ifindex, TcxDirection.INGRESS))) {
                assertThatThrownBy(() -> link.pin(dir.resolve("missing").resolve("link")))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.ENOENT))
                        .hasMessageContaining("parent directory");
                assertThatThrownBy(() -> link.pin(Path.of("/tmp", Names.unique("jvlink"))))
                        .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("path"))
                        .hasMessageContaining("not inside a bpf filesystem");
                Path linkPin = dir.resolve("link");
                link.pin(linkPin);
                assertThatThrownBy(() -> link.pin(linkPin))
                        .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errnoConstant()).isEqualTo(Errno.EEXIST));
                Pins.unpin(linkPin);
            }
            assertThatThrownBy(() -> BpfLink.openPinned(dir.resolve("nothing")))
                    .isInstanceOf(BpfException.class)
                    .hasMessageContaining("nothing is pinned");
            Path mapPin = dir.resolve("cnt");
            map.pin(mapPin);
            try {
                assertThatThrownBy(() -> BpfLink.openPinned(mapPin))
                        .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("path"))
                        .hasMessageContaining("is a map, not a link");
            } finally {
                Pins.unpin(mapPin);
            }
            assertThat(DeviceLinkContract.list(dir)).as("pins left").isEmpty();
        } finally {
            DeviceLinkContract.removePins(dir);
        }
        assertThat(dir).doesNotExist();
        assertThat(Fd.openDescriptions()).isEqualTo(fdsBefore);
    }
}

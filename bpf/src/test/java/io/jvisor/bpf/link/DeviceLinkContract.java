package io.jvisor.bpf.link;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.Pins;
import io.jvisor.bpf.testing.Names;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.jvisor.bpf.link.Counting.awaitAtLeast;
import static io.jvisor.bpf.link.Counting.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every device link (XDP, tcx) must do with real traffic: count every packet sent from
 * namespace A to B on B's end of a veth pair, swap programs atomically mid-stream, stop on detach
 * and on close, and survive its descriptors while pinned. Subclasses say how to attach.
 *
 * <p>Slots of the counter map: {@link #A} and {@link #B} for the programs under test,
 * {@link #WITNESS} for a second program on the same packet path that stays attached, so that
 * "this counter did not move" is only ever asserted after the witness proved the packets arrived.
 */
abstract class DeviceLinkContract {
    static final int N = 1000;
    static final int A = 0, B = 1, WITNESS = 2;
    /** How many packets each program must have judged before and after a mid-stream swap. */
    static final int SWAP_THRESHOLD = 2000;

    /** A program under test that counts into {@code slot}. */
    abstract BpfProgram counter(BpfMap map, int slot);

    /** Attaches {@code p} to B's end; called on B's namespace thread. */
    abstract BpfLink attach(BpfProgram p, int ifindex);

    /** A program that counts into {@code slot} and does not hide packets from {@link #counter}. */
    abstract BpfProgram witness(BpfMap map, int slot);

    /** Attaches the witness to B's end; called on B's namespace thread. */
    abstract BpfLink attachWitness(BpfProgram witness, int ifindex);

    /** Checks that {@code info} is this hook's kind of link, on {@code ifindex}, running {@code programId}. */
    abstract void assertAttached(LinkInfo info, int ifindex, int programId);

    /** The ifindex a link reports (0 once detached). */
    abstract int ifindexOf(LinkInfo info);

    /** Waits for {@code slot} to reach {@code n}, then a little longer so an excess would show. */
    static long settled(BpfMap map, int slot, long n) {
        awaitAtLeast(map, slot, n);
        Counting.sleep(100);
        return read(map, slot);
    }

    @Test
    void countsEveryPacketSentFromTheOtherNamespace() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p = counter(map, A)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> attach(p, ifindex))) {
                LinkInfo info = link.info();
                assertAttached(info, ifindex, p.id());
                assertThat(info.id()).isPositive();

                long sent = tb.send(N, () -> read(map, A));

                assertThat(settled(map, A, sent)).as(tb::diagnostics).isEqualTo(N);
                assertThat(read(map, B)).isZero();
            }
        }
    }

    @Test
    void updateSwapsProgramsMidStreamAndEveryPacketIsJudgedByExactlyOne() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram pa = counter(map, A);
             BpfProgram pb = counter(map, B)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> attach(pa, ifindex))) {
                long sent;
                long aAtSwap;
                try (VethTestbed.Stream stream = tb.startStream(() -> read(map, A) + read(map, B))) {
                    assertThat(awaitAtLeast(map, A, SWAP_THRESHOLD)).isGreaterThanOrEqualTo(SWAP_THRESHOLD);
                    long sentBeforeSwap = stream.sent();

                    link.update(pb, pa);

                    assertThat(link.info().programId()).isEqualTo(pb.id());
                    assertThat(awaitAtLeast(map, B, SWAP_THRESHOLD)).isGreaterThanOrEqualTo(SWAP_THRESHOLD);
                    // A handles nothing once replaced: it is frozen while the stream goes on.
                    aAtSwap = read(map, A);
                    assertThat(awaitAtLeast(map, B, read(map, B) + SWAP_THRESHOLD)).isPositive();
                    assertThat(read(map, A)).as("old program after the swap").isEqualTo(aAtSwap);
                    sent = stream.stop();
                    assertThat(sent).isGreaterThan(sentBeforeSwap);
                }
                Counting.awaitSum(map, A, B, sent);
                Counting.sleep(100);
                long a = read(map, A);
                long b = read(map, B);
                assertThat(a).isEqualTo(aAtSwap).isPositive();
                assertThat(b).isPositive();
                assertThat(a + b).as(() -> "slot0 + slot1 against " + sent + " sent\n" + tb.diagnostics())
                        .isEqualTo(sent);
                assertAttached(link.info(), ifindex, pb.id());
            }
        }
    }

    @Test
    void updateWithTheWrongExpectedProgramFailsAndKeepsTheCurrentOne() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram pa = counter(map, A);
             BpfProgram pb = counter(map, B)) {
            int ifindex = tb.ifindexB();
            try (BpfLink link = tb.b.call(() -> attach(pa, ifindex))) {
                assertThatThrownBy(() -> link.update(pb, pb))
                        .isInstanceOfSatisfying(BpfException.class,
                                e -> assertThat(e.errnoConstant()).isEqualTo(Errno.EPERM))
                        .hasMessageContaining("BPF_LINK_UPDATE")
                        .hasMessageContaining("does not run the expected " + pb)
                        .hasMessageContaining("it runs program id " + pa.id());
                assertThat(link.info().programId()).isEqualTo(pa.id());

                long sent = tb.send(N, () -> read(map, A));
                assertThat(settled(map, A, sent)).isEqualTo(N);
                assertThat(read(map, B)).isZero();
            }
        }
    }

    @Test
    void detachStopsCountingButKeepsTheDescriptor() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p = counter(map, A);
             BpfProgram w = witness(map, WITNESS)) {
            int ifindex = tb.ifindexB();
            try (BpfLink witness = tb.b.call(() -> attachWitness(w, ifindex));
                 BpfLink link = tb.b.call(() -> attach(p, ifindex))) {
                tb.send(N, () -> read(map, A));
                assertThat(settled(map, A, N)).isEqualTo(N);
                assertThat(settled(map, WITNESS, N)).isEqualTo(N);

                link.detach();

                assertThat(ifindexOf(link.info())).as("ifindex of a detached link").isZero();
                assertThatThrownBy(() -> link.update(p))
                        .isInstanceOfSatisfying(BpfException.class,
                                e -> assertThat(e.errnoConstant()).isEqualTo(Errno.ENOLINK))
                        .hasMessageContaining("detached");
                tb.send(N, () -> read(map, WITNESS));
                assertThat(settled(map, WITNESS, 2L * N)).as("witness: the packets arrived").isEqualTo(2L * N);
                assertThat(read(map, A)).as("detached counter").isEqualTo(N);
                afterDetach(tb);
            }
        }
    }

    @Test
    void closeDetachesAnUnpinnedLink() {
        try (VethTestbed tb = VethTestbed.create();
             BpfMap map = Counting.newMap();
             BpfProgram p = counter(map, A);
             BpfProgram w = witness(map, WITNESS)) {
            int ifindex = tb.ifindexB();
            try (BpfLink witness = tb.b.call(() -> attachWitness(w, ifindex))) {
                BpfLink link = tb.b.call(() -> attach(p, ifindex));
                try {
                    tb.send(N, () -> read(map, A));
                    assertThat(settled(map, A, N)).isEqualTo(N);
                } finally {
                    link.close();
                }
                assertThat(link.fd().isClosed()).isTrue();
                tb.send(N, () -> read(map, WITNESS));
                assertThat(settled(map, WITNESS, 2L * N)).as("witness: the packets arrived").isEqualTo(2L * N);
                assertThat(read(map, A)).as("counter of the closed link").isEqualTo(N);
                afterDetach(tb);
            }
        }
    }

    @Test
    void pinnedLinkKeepsCountingWithoutDescriptorsUntilUnpinnedAndClosed() throws IOException {
        Path dir = Files.createDirectory(Pins.DEFAULT_BPFFS.resolve(Names.unique("jvlink")));
        try (VethTestbed tb = VethTestbed.create()) {
            Path linkPin = dir.resolve("link");
            Path mapPin = dir.resolve("cnt");
            int ifindex = tb.ifindexB();
            int programId;
            int linkId;
            try (BpfMap map = Counting.newMap();
                 BpfProgram p = counter(map, A);
                 BpfLink link = tb.b.call(() -> attach(p, ifindex))) {
                link.pin(linkPin);
                map.pin(mapPin);
                programId = p.id();
                linkId = link.info().id();
            }
            // No descriptor of the link or its program is left: only the pin holds them. The map is
            // opened again from its pin just to read the counter.
            try (BpfMap map = BpfMap.openPinned(mapPin)) {
                tb.send(N, () -> read(map, A));
                assertThat(settled(map, A, N)).as("counted while only pinned").isEqualTo(N);
                try (BpfProgram w = witness(map, WITNESS);
                     BpfLink witness = tb.b.call(() -> attachWitness(w, ifindex))) {
                    try (BpfLink reopened = BpfLink.openPinned(linkPin)) {
                        LinkInfo info = reopened.info();
                        assertThat(info.id()).isEqualTo(linkId);
                        assertThat(info.programId()).isEqualTo(programId);
                        assertAttached(info, ifindex, programId);
                        Pins.unpin(linkPin);
                        assertThat(linkPin).doesNotExist();
                    }
                    // The pin is gone and the last descriptor closed: the link detached.
                    tb.send(N, () -> read(map, WITNESS));
                    assertThat(settled(map, WITNESS, N)).as("witness: the packets arrived").isEqualTo(N);
                    assertThat(read(map, A)).as("counter after unpin and close").isEqualTo(N);
                    afterDetach(tb);
                }
            }
        } finally {
            removePins(dir);
        }
    }

    /** Hook-specific checks once the link under test is gone; the witness is still attached. */
    void afterDetach(VethTestbed tb) {}

    /** Removes every pin in {@code dir}, then {@code dir}. */
    static void removePins(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Pins.unpin(p);
            }
            Files.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }

    /** Lists {@code dir} (for "no pin left" checks). */
    static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}

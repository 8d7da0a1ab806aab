package io.jvisor.modules.nat;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Hook;
import io.jvisor.modules.DeviceFixture;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Packet fixtures through the NAT with BPF_PROG_TEST_RUN, at both hooks: a frame goes in through the
 * device entry program (as a packet arrives on the device), and the frame that comes out is checked
 * field by field, with its IPv4 and L4 checksums recomputed from scratch. At the tc hook this checks
 * the use of the kernel's checksum helpers; at the XDP hook, the RFC 1624 arithmetic (both through
 * jv_ipv4_rewrite in jvisor/module.h).
 */
@RequiresRoot
class NatFixtureTest {
    static final String IN = "10.0.1.2", PUB = "192.0.2.1", REMOTE = "198.51.100.7";

    @ParameterizedTest
    @EnumSource(Hook.class)
    void translationsKeepChecksumsRight(Hook hook) throws Exception {
        try (DeviceFixture fx = DeviceFixture.start("jvnf", hook)) {
            fx.apply("n", "nat", Map.of("snat.0", "10.0.1.0/24 to " + PUB, "ports", "20000-20999",
                    "dnat.0", "tcp " + PUB + ":8080 to " + IN + ":80"));
            try (BpfProgram inside = fx.entry(0); BpfProgram outside = fx.entry(1)) {
                int redirect = fx.redirect();
                for (int proto : new int[] {6, 17, 1}) {
                    for (boolean udpSum : proto == 17 ? new boolean[] {true, false} : new boolean[] {true}) {
                        int sport = udpSum ? 40000 + proto : 41000;
                        // out: the source becomes the public address and a port from the range
                        byte[] out = run(inside, Frames.ipv4(proto, IN, sport, REMOTE, proto == 1 ? 0 : 443, udpSum),
                                redirect);
                        assertThat(Frames.addrAt(out, 26)).isEqualTo(PUB);
                        assertThat(Frames.addrAt(out, 30)).isEqualTo(REMOTE);
                        int natPort = Frames.get16(out, proto == 1 ? 38 : 34);
                        assertThat(natPort).as("proto %d", proto).isBetween(20000, 20999);
                        assertThat(Frames.checksumsValid(out)).as("proto %d, out", proto).isTrue();
                        if (proto == 17 && !udpSum) {
                            assertThat(Frames.get16(out, 40)).as("a zero UDP checksum stays zero").isZero();
                        }
                        // back: the reply to the public address and port goes to the inside host
                        byte[] back = run(outside, Frames.ipv4(proto, REMOTE, proto == 1 ? natPort : 443, PUB,
                                proto == 1 ? 1 : natPort, udpSum), redirect);
                        assertThat(Frames.addrAt(back, 26)).isEqualTo(REMOTE);
                        assertThat(Frames.addrAt(back, 30)).isEqualTo(IN);
                        assertThat(Frames.get16(back, proto == 1 ? 38 : 36)).isEqualTo(sport);
                        assertThat(Frames.checksumsValid(back)).as("proto %d, back", proto).isTrue();
                    }
                }
                // DNAT: the public port forwards to the inside service, and its reply comes back from it
                byte[] in = run(outside, Frames.ipv4(6, REMOTE, 50000, PUB, 8080, true), redirect);
                assertThat(Frames.addrAt(in, 30)).isEqualTo(IN);
                assertThat(Frames.get16(in, 36)).isEqualTo(80);
                assertThat(Frames.checksumsValid(in)).isTrue();
                byte[] reply = run(inside, Frames.ipv4(6, IN, 80, REMOTE, 50000, true), redirect);
                assertThat(Frames.addrAt(reply, 26)).isEqualTo(PUB);
                assertThat(Frames.get16(reply, 34)).isEqualTo(8080);
                assertThat(Frames.checksumsValid(reply)).isTrue();

                icmpErrorsAreTranslatedBack(inside, outside, redirect);
            }
        }
    }

    /** ICMP errors about translated packets reach the inside (SNAT) or the outside (DNAT) translated back. */
    static void icmpErrorsAreTranslatedBack(BpfProgram inside, BpfProgram outside, int redirect) {
        String router = "203.0.113.1";
        // UDP: port unreachable from the remote host itself, quoting the whole translated datagram
        byte[] udp = run(inside, Frames.ipv4(17, IN, 45000, REMOTE, 53, true), redirect);
        int natPort = Frames.get16(udp, 34);
        byte[] err = run(outside, Frames.icmpError(3, 3, REMOTE, PUB, udp, udp.length - 14), redirect);
        assertThat(Frames.addrAt(err, 26)).isEqualTo(REMOTE);
        assertThat(Frames.addrAt(err, 30)).isEqualTo(IN);
        byte[] q = Frames.quoted(err);
        assertThat(Frames.addrAt(q, 26)).isEqualTo(IN);
        assertThat(Frames.get16(q, 34)).isEqualTo(45000);
        assertThat(Frames.addrAt(q, 30)).isEqualTo(REMOTE);
        assertThat(Frames.get16(q, 36)).isEqualTo(53);
        assertThat(Frames.checksumsValid(q)).as("quoted IPv4 and UDP checksums").isTrue();
        assertThat(Frames.checksum(err, 14, 20, 0)).as("outer IPv4 checksum").isZero();
        assertThat(Frames.checksum(err, 34, err.length - 34, 0)).as("ICMP checksum").isZero();
        assertThat(natPort).isNotEqualTo(45000).isBetween(20000, 20999);

        // ICMP echo: time exceeded from a router on the way, quoting the translated request
        byte[] echo = run(inside, Frames.ipv4(1, IN, 777, REMOTE, 0, true), redirect);
        byte[] te = run(outside, Frames.icmpError(11, 0, router, PUB, echo, echo.length - 14), redirect);
        assertThat(Frames.addrAt(te, 26)).isEqualTo(router);
        assertThat(Frames.addrAt(te, 30)).isEqualTo(IN);
        byte[] qe = Frames.quoted(te);
        assertThat(Frames.addrAt(qe, 26)).isEqualTo(IN);
        assertThat(Frames.get16(qe, 38)).as("the quoted identifier").isEqualTo(777);
        assertThat(Frames.checksumsValid(qe)).isTrue();
        assertThat(Frames.checksum(te, 34, te.length - 34, 0)).isZero();

        // TCP: fragmentation needed from a router, quoting the IPv4 header and 8 bytes (RFC 792's minimum)
        byte[] syn = run(inside, Frames.ipv4(6, IN, 46000, REMOTE, 443, true), redirect);
        byte[] fn = run(outside, Frames.icmpError(3, 4, router, PUB, syn, 28), redirect);
        byte[] qt = Frames.quoted(fn);
        assertThat(Frames.addrAt(fn, 30)).isEqualTo(IN);
        assertThat(Frames.addrAt(qt, 26)).isEqualTo(IN);
        assertThat(Frames.get16(qt, 34)).isEqualTo(46000);
        assertThat(Frames.checksum(qt, 14, 20, 0)).isZero();
        assertThat(Frames.checksum(fn, 14, 20, 0)).isZero();
        assertThat(Frames.checksum(fn, 34, fn.length - 34, 0)).isZero();

        // DNAT: the inside server's host answers an outside client with an error: it leaves with the
        // public address, quoting the client's packet as the client sent it
        byte[] toSrv = run(outside, Frames.ipv4(6, REMOTE, 51000, PUB, 8080, true), redirect);
        byte[] back = run(inside, Frames.icmpError(3, 3, IN, REMOTE, toSrv, 28), redirect);
        assertThat(Frames.addrAt(back, 26)).isEqualTo(PUB);
        assertThat(Frames.addrAt(back, 30)).isEqualTo(REMOTE);
        byte[] qd = Frames.quoted(back);
        assertThat(Frames.addrAt(qd, 30)).isEqualTo(PUB);
        assertThat(Frames.get16(qd, 36)).isEqualTo(8080);
        assertThat(Frames.get16(qd, 34)).isEqualTo(51000);
        assertThat(Frames.checksum(qd, 14, 20, 0)).isZero();
        assertThat(Frames.checksum(back, 14, 20, 0)).isZero();
        assertThat(Frames.checksum(back, 34, back.length - 34, 0)).isZero();

        // an error about no known connection crosses unchanged
        byte[] stray = Frames.icmpError(3, 1, router, PUB, Frames.ipv4(17, PUB, 20999, "198.51.100.99", 9, true), 28);
        assertThat(run(outside, stray, redirect)).isEqualTo(stray);
    }

    static byte[] run(BpfProgram p, byte[] frame, int expect) {
        return DeviceFixture.run(p, frame, expect, 0);
    }
}

package io.jvisor.modules.nat;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.bpf.testing.TestNetns;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Packet fixtures through the NAT with BPF_PROG_TEST_RUN, at both hooks: a frame goes in through the
 * device entry program (as a packet arrives on the device), and the frame that comes out is checked
 * field by field, with its IPv4 and L4 checksums recomputed from scratch. At the tc hook this checks
 * the use of the kernel's checksum helpers; at the XDP hook, the NAT's own RFC 1624 arithmetic.
 */
@RequiresRoot
class NatFixtureTest {
    static final String IN = "10.0.1.2", PUB = "192.0.2.1", REMOTE = "198.51.100.7";

    @ParameterizedTest
    @EnumSource(Hook.class)
    void translationsKeepChecksumsRight(Hook hook) throws Exception {
        Path state = Files.createTempDirectory("jvisor-nat-fixture");
        EngineOptions options = EngineOptions.named(Names.unique("jvnf")).withStateDir(state).withHook(hook);
        try (TestNetns ns = TestNetns.create("jvnf")) {
            ns.ip("link", "add", "a0", "type", "veth", "peer", "name", "b0");
            ns.ip("link", "set", "a0", "up");
            ns.ip("link", "set", "b0", "up");
            Engine engine = Engine.start(options, ModuleCatalog.discover());
            try {
                engine.apply(Topology.builder()
                        .instance("n", "nat", Map.of("snat.0", "10.0.1.0/24 to " + PUB, "ports", "20000-20999",
                                "dnat.0", "tcp " + PUB + ":8080 to " + IN + ":80"))
                        .connect("n:0", "dev:" + ns.name() + "/a0").connect("n:1", "dev:" + ns.name() + "/b0")
                        .build());
                Path pins = options.pinRoot().resolve("dev");
                try (BpfProgram inside = BpfProgram.openPinned(pins.resolve(ns.name() + "_a0").resolve("prog"));
                        BpfProgram outside = BpfProgram.openPinned(pins.resolve(ns.name() + "_b0").resolve("prog"))) {
                    int redirect = hook == Hook.TC ? 7 : 4; // TC_ACT_REDIRECT, XDP_REDIRECT
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
                }
            } finally {
                try {
                    engine.destroy();
                } finally {
                    Engine.purge(options);
                    NatTest.deleteTree(state);
                }
            }
        }
    }

    static byte[] run(BpfProgram p, byte[] frame, int expect) {
        TestRun.Result r = p.testRun(TestRun.of(frame).withRepeat(1));
        assertThat(r.returnValue()).isEqualTo(expect);
        // XDP: the output starts with the metadata area the device entry program put in front
        byte[] out = r.data();
        return java.util.Arrays.copyOfRange(out, out.length - frame.length, out.length);
    }
}

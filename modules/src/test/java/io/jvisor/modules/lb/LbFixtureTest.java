package io.jvisor.modules.lb;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.modules.DeviceFixture;
import io.jvisor.modules.nat.Frames;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Packet fixtures through the LB with BPF_PROG_TEST_RUN, at both hooks, through the device entry
 * programs: DNAT (backend address, port and MAC; the reply gets the VIP back) and DSR (the IPIP
 * header), with every checksum recomputed from scratch. Also what the established-flow fast path
 * must not keep: a backend MAC learned anew, and a removed service.
 */
@RequiresRoot
class LbFixtureTest {
    static final String CLIENT = "10.0.9.9", VIP = "10.0.2.100", BACKEND = "10.0.2.11", DSR_SRC = "10.0.2.200";
    static final byte[] BACKEND_MAC = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

    @ParameterizedTest
    @EnumSource(Hook.class)
    void dnatAndDsrFrames(Hook hook) throws Exception {
        try (DeviceFixture fx = DeviceFixture.start("jvlf", hook)) {
            long started = System.nanoTime(); // before the first packet of the flow
            Engine engine = fx.engine;
            fx.apply("lb", "lb", Map.of("service.web", "tcp " + VIP + ":80", "backend.web.a", BACKEND + ":8080",
                    "service.dns", "udp " + VIP + ":53 mode dsr", "backend.dns.a", BACKEND,
                    "dsr.source", DSR_SRC, "table.size", "251"));
            BpfMap neigh = engine.map("lb", "lb_neigh");
            neigh.update(Frames.addr(BACKEND), Arrays.copyOf(BACKEND_MAC, 8));
            try (BpfProgram clients = fx.entry(0); BpfProgram backends = fx.entry(1)) {
                int redirect = fx.redirect();
                // DNAT, there and back
                byte[] in = Frames.ipv4(6, CLIENT, 40000, VIP, 80, true);
                byte[] out = run(clients, in, redirect, 0);
                assertThat(Arrays.copyOf(out, 6)).isEqualTo(BACKEND_MAC);
                assertThat(Frames.addrAt(out, 30)).isEqualTo(BACKEND);
                assertThat(Frames.get16(out, 36)).isEqualTo(8080);
                assertThat(Frames.addrAt(out, 26)).isEqualTo(CLIENT);
                assertThat(Frames.checksumsValid(out)).isTrue();
                byte[] back = run(backends, Frames.ipv4(6, BACKEND, 8080, CLIENT, 40000, true), redirect, 0);
                assertThat(Frames.addrAt(back, 26)).isEqualTo(VIP);
                assertThat(Frames.get16(back, 34)).isEqualTo(80);
                assertThat(Frames.checksumsValid(back)).isTrue();

                // the established flow's entry caches the backend's MAC: a MAC learned anew (the
                // backend's ARP through port 1) must reach the flow's very next packet
                byte[] newMac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x66};
                run(backends, arpRequest(newMac, BACKEND, "10.0.2.1"), redirect, 0);
                byte[] again = run(clients, in, redirect, 0);
                assertThat(Arrays.copyOf(again, 6)).isEqualTo(newMac);
                assertThat(Frames.addrAt(again, 30)).isEqualTo(BACKEND);
                assertThat(Frames.checksumsValid(again)).isTrue();
                run(backends, arpRequest(BACKEND_MAC, BACKEND, "10.0.2.1"), redirect, 0);
                assertThat(Arrays.copyOf(run(clients, in, redirect, 0), 6)).isEqualTo(BACKEND_MAC);
                // the flow's idle time counts from a packet of this test (a monotonic bound, not a timing threshold)
                var flow = handler(engine).connections().stream()
                        .filter(c -> c.client().equals(CLIENT + ":40000")).findFirst().orElseThrow();
                assertThat(flow.backend()).isEqualTo(BACKEND + ":8080");
                assertThat(flow.idleNanos()).isBetween(0L, System.nanoTime() - started);

                // DSR: an outer IPv4 header, protocol 4, from dsr.source to the backend; inner untouched
                byte[] q = Frames.ipv4(17, CLIENT, 40001, VIP, 53, true);
                byte[] enc = run(clients, q, redirect, 20);
                assertThat(enc).hasSize(q.length + 20);
                assertThat(Arrays.copyOf(enc, 6)).isEqualTo(BACKEND_MAC);
                assertThat(Frames.get16(enc, 12)).isEqualTo(0x0800);
                assertThat(enc[14]).isEqualTo((byte) 0x45);
                assertThat(enc[23]).isEqualTo((byte) 4);
                assertThat(Frames.get16(enc, 16)).isEqualTo(q.length - 14 + 20);
                assertThat(Frames.addrAt(enc, 26)).isEqualTo(DSR_SRC);
                assertThat(Frames.addrAt(enc, 30)).isEqualTo(BACKEND);
                assertThat(Frames.checksum(enc, 14, 20, 0)).isZero();
                assertThat(Arrays.copyOfRange(enc, 34, enc.length)).isEqualTo(Arrays.copyOfRange(q, 14, q.length));


                // removing the service ends its established flow: the next packet crosses untranslated
                fx.apply("lb", "lb", Map.of("service.dns", "udp " + VIP + ":53 mode dsr", "backend.dns.a", BACKEND,
                        "dsr.source", DSR_SRC, "table.size", "251"));
                assertThat(run(clients, in, redirect, 0)).isEqualTo(in);
            }
        }
    }

    static LbHandler handler(Engine engine) {
        return ((LbModule) engine.catalog().get("lb")).instance("lb");
    }

    /** A broadcast ARP request from {@code sha}/{@code spa} for {@code tpa}. */
    static byte[] arpRequest(byte[] sha, String spa, String tpa) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(60);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(sha).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        b.put(sha).put(Frames.addr(spa)).put(new byte[6]).put(Frames.addr(tpa));
        return b.array();
    }

    static byte[] run(BpfProgram p, byte[] frame, int expect, int grow) {
        return DeviceFixture.run(p, frame, expect, grow);
    }
}

package io.jvisor.modules.router;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.modules.DifferentialHarness;
import io.jvisor.modules.DifferentialHarness.Lane;
import io.jvisor.modules.Expected;
import io.jvisor.modules.Wire;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Differential test of the router: random and edge-case frames run through the real {@code router.c}
 * with BPF_PROG_TEST_RUN (see {@link DifferentialHarness}), every verdict, drop reason, slow-path
 * reason, forwarded frame (port, MACs, TTL, checksum) and every answer of the control plane (ARP
 * replies and requests, echo replies, ICMP errors) compared with {@link RouterModel}, frame after
 * frame, so that the neighbour table the router learns from ARP is checked as a sequence.
 *
 * <p>Packet count: {@code -Djvisor.diff.packets=N}; the default is the 100,000 (about 10 s;
 * it took 287 s while {@code Engine.transmit} opened and closed a packet socket per answer). The
 * seed is printed and can be set with {@code -Djvisor.diff.seed=S}.
 */
@RequiresRoot
class RouterDifferentialTest {
    static final int P0 = ip(10, 0, 0, 1), P1 = ip(10, 0, 1, 1), P2 = ip(10, 0, 2, 1), P3 = ip(192, 168, 7, 1);
    static final long[] MACS = {0x02_aa_00_00_00_00L, 0x02_aa_00_00_00_01L, 0x02_aa_00_00_00_02L, 0x02_aa_00_00_00_03L};

    static int ip(int a, int b, int c, int d) {
        return (a << 24) | (b << 16) | (c << 8) | d;
    }

    @Test
    void routesLikeTheModel() {
        Map<String, String> config = new TreeMap<>(Map.of(
                "port.0", "10.0.0.1/24 mac 02:aa:00:00:00:00",
                "port.1", "10.0.1.1/24 mac 02:aa:00:00:00:01",
                "port.2", "10.0.2.1/30 mac 02:aa:00:00:00:02",
                "port.3", "192.168.7.1/16 mac 02:aa:00:00:00:03",
                "route.0", "172.16.0.0/12 via 10.0.1.254",
                "route.1", "172.16.5.0/24 via 10.0.2.2 metric 5",
                "route.2", "172.16.5.0/24 via 10.0.0.254 metric 1",
                "route.3", "10.0.1.0/24 via 10.0.0.254",
                "route.4", "172.16.5.128/25 via 10.0.2.2 metric 9",
                "route.5", "198.51.100.7/32 via 10.0.2.2"));
        config.put("neighbour.timeout", "1000000"); // no aging probes during the run
        RouterModel model = new RouterModel(List.of(
                new RouterModel.Port(0, P0, 24, MACS[0]), new RouterModel.Port(1, P1, 24, MACS[1]),
                new RouterModel.Port(2, P2, 30, MACS[2]), new RouterModel.Port(3, P3, 16, MACS[3])),
                List.of(new RouterModel.StaticRoute(ip(172, 16, 0, 0), 12, ip(10, 0, 1, 254), 0),
                        new RouterModel.StaticRoute(ip(172, 16, 5, 0), 24, ip(10, 0, 2, 2), 5),
                        new RouterModel.StaticRoute(ip(172, 16, 5, 0), 24, ip(10, 0, 0, 254), 1),
                        new RouterModel.StaticRoute(ip(10, 0, 1, 0), 24, ip(10, 0, 0, 254), 0),
                        new RouterModel.StaticRoute(ip(172, 16, 5, 128), 25, ip(10, 0, 2, 2), 9),
                        new RouterModel.StaticRoute(ip(198, 51, 100, 7), 32, ip(10, 0, 2, 2), 0)));
        int count = DifferentialHarness.packets();
        long seed = DifferentialHarness.seed("router");
        Random r = new Random(seed);
        Generator g = new Generator(r);
        long t0 = System.nanoTime();
        // port 4 is connected but has no address
        try (DifferentialHarness h = DifferentialHarness.start(new RouterModule(), config, 5, false)) {
            long setUp = System.nanoTime() - t0;
            long t1 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                int in = r.nextInt(20) == 0 ? 4 : r.nextInt(4);
                byte[] frame = g.frame(in);
                DifferentialHarness.Observation o = h.run(Lane.DEVICES, in, frame);
                Expected e = model.receive(in, frame, o.packetInNanos());
                for (Expected.Emitted opt : e.frames()) {
                    if (opt.optional() && o.recorded().stream().anyMatch(x -> Arrays.equals(x.wire(), opt.wire()))) {
                        model.requestSeen(Wire.u32(opt.wire(), 38), o.packetInNanos());
                    }
                }
                String diff = DifferentialHarness.compare(e, o, Lane.DEVICES, false);
                if (diff == null && e.action() == Expected.Action.CONTROLLER
                        && (!Arrays.equals(o.packetIns().getFirst().data(), frame)
                        || o.packetIns().getFirst().inPort() != in)) {
                    diff = "the control plane got " + Wire.hex(o.packetIns().getFirst().data()) + " on port "
                            + o.packetIns().getFirst().inPort() + ", not the frame on port " + in;
                }
                if (diff != null) {
                    fail("router: seed %d, packet %d, in port %d%n  input:    %s%n  expected: %s%n  actual:   %s%n  "
                            + "differences:%n    %s", seed, i, in, Wire.hex(frame), e, o, diff);
                }
            }
            long took = System.nanoTime() - t1;
            System.out.println("[" + "router" + "] " + h.timings());
            assertThat(h.stragglers()).as("frames recorded after their packet was checked").isEmpty();
            System.out.printf("[router] %d frames, all matched the model: %.1f s (%.1f us per frame), set-up %.1f s, "
                    + "%d neighbours learned%n", count, took / 1e9, took / 1e3 / count, setUp / 1e9,
                    model.neighbours().size());
        }
    }

    /** Random and edge-case frames for the router's ports. */
    static final class Generator {
        private final Random r;
        private final int[] neighbourIps = {ip(10, 0, 0, 2), ip(10, 0, 0, 3), ip(10, 0, 0, 9), ip(10, 0, 0, 254),
                ip(10, 0, 1, 2), ip(10, 0, 1, 7), ip(10, 0, 1, 254), ip(10, 0, 2, 2), ip(192, 168, 3, 4),
                ip(192, 168, 200, 9)};
        private final long[] hostMacs = new long[10];

        Generator(Random r) {
            this.r = r;
            for (int i = 0; i < hostMacs.length; i++) {
                hostMacs[i] = 0x02_00_00_00_00_40L + i;
            }
        }

        /** An address: mostly ones that route; the rest own, unroutable, special and random ones. */
        int addr() {
            int p = r.nextInt(100);
            if (p < 35) {
                return neighbourIps[r.nextInt(neighbourIps.length)];
            } else if (p < 43) {
                return new int[] {P0, P1, P2, P3}[r.nextInt(4)];
            } else if (p < 68) {
                return ip(172, 16 + r.nextInt(16), r.nextBoolean() ? 5 : r.nextInt(256), r.nextInt(256));
            } else if (p < 72) {
                return r.nextBoolean() ? ip(198, 51, 100, 7) : ip(198, 51, 100, 8);
            } else if (p < 76) {
                return ip(203, 0, 113, r.nextInt(256)); // no route
            } else if (p < 79) {
                return new int[] {-1, ip(10, 0, 0, 255), ip(224, 0, 0, 5), 0, ip(127, 0, 0, 1)}[r.nextInt(5)];
            } else if (p < 95) {
                return ip(10, 0, r.nextInt(3), r.nextInt(256));
            }
            return r.nextInt();
        }

        long dmac(int in) {
            int p = r.nextInt(100);
            if (p < 85) {
                return MACS[Math.min(in, 3)];
            } else if (p < 90) {
                return MACS[r.nextInt(4)];
            } else if (p < 95) {
                return 0xff_ff_ff_ff_ff_ffL;
            }
            return hostMacs[r.nextInt(hostMacs.length)];
        }

        long smac() {
            return r.nextInt(30) == 0 ? 0x01_00_5e_00_00_09L : hostMacs[r.nextInt(hostMacs.length)];
        }

        byte[] frame(int in) {
            int kind = r.nextInt(100);
            if (kind < 20) {
                return arp(in);
            } else if (kind < 25) {
                return other(in);
            }
            return ipv4(in);
        }

        private byte[] arp(int in) {
            int myAddr = new int[] {P0, P1, P2, P3, P0}[in];
            int op = r.nextInt(10) < 5 ? 1 : r.nextInt(10) < 9 ? 2 : r.nextInt(5);
            int tpa = r.nextInt(3) > 0 ? myAddr : addr();
            int spa = r.nextInt(8) > 0 ? neighbourIps[r.nextInt(neighbourIps.length)] : r.nextBoolean() ? 0 : addr();
            long sha = r.nextInt(20) == 0 ? 0x01_00_5e_00_00_01L : hostMacs[r.nextInt(hostMacs.length)];
            ByteBuffer b = ByteBuffer.allocate(60);
            b.put(Wire.mac(r.nextBoolean() ? 0xff_ff_ff_ff_ff_ffL : dmac(in))).put(Wire.mac(sha))
                    .putShort((short) Wire.ETH_P_ARP);
            b.putShort((short) (r.nextInt(30) == 0 ? 6 : 1)).putShort((short) (r.nextInt(30) == 0 ? 0x86dd : 0x0800))
                    .put((byte) (r.nextInt(30) == 0 ? 8 : 6)).put((byte) (r.nextInt(30) == 0 ? 16 : 4))
                    .putShort((short) op);
            b.put(Wire.mac(sha)).putInt(spa).put(Wire.mac(op == 2 ? MACS[Math.min(in, 3)] : 0)).putInt(tpa);
            int len = r.nextInt(10) == 0 ? 14 + r.nextInt(28) : r.nextBoolean() ? 42 : 60; // some cut short
            return Arrays.copyOf(b.array(), len);
        }

        private byte[] other(int in) {
            ByteBuffer b = ByteBuffer.allocate(100);
            b.put(Wire.mac(dmac(in))).put(Wire.mac(smac()));
            switch (r.nextInt(3)) {
                case 0 -> b.putShort((short) Wire.ETH_P_8021Q).putShort((short) 10).putShort((short) Wire.ETH_P_IP);
                case 1 -> b.putShort((short) Wire.ETH_P_IPV6);
                default -> b.putShort((short) r.nextInt(0x10000));
            }
            int len = b.position() + 40 + r.nextInt(40);
            for (int i = b.position(); i < len; i++) {
                b.put((byte) r.nextInt(256));
            }
            return Arrays.copyOf(b.array(), len);
        }

        private byte[] ipv4(int in) {
            int ihlWords = r.nextInt(10) == 0 ? r.nextInt(16) : r.nextInt(8) == 0 ? 5 + r.nextInt(11) : 5;
            int proto = new int[] {1, 1, 1, 17, 6, r.nextInt(256)}[r.nextInt(6)];
            int payload = r.nextInt(12) == 0 ? r.nextInt(1200) : r.nextInt(48);
            int headerBytes = Math.max(20, ihlWords * 4);
            if (r.nextInt(20) == 0) {
                headerBytes = 20; // IHL says more than the frame holds, sometimes
                payload = r.nextInt(8);
            }
            ByteBuffer b = ByteBuffer.allocate(14 + headerBytes + payload + 8);
            b.put(Wire.mac(dmac(in))).put(Wire.mac(smac())).putShort((short) Wire.ETH_P_IP);
            int version = r.nextInt(40) == 0 ? 6 : 4;
            int ttl = r.nextInt(10) > 0 ? 64 : new int[] {0, 1, 2, 255}[r.nextInt(4)];
            int frag = r.nextInt(10) == 0 ? r.nextInt(0x10000) : r.nextBoolean() ? 0x4000 : 0;
            int total = 14 + headerBytes + payload;
            int totalLen = r.nextInt(15) == 0 ? r.nextInt(0x10000) : headerBytes + payload;
            b.put((byte) ((version << 4) | ihlWords)).put((byte) r.nextInt(256)).putShort((short) totalLen)
                    .putShort((short) r.nextInt(0x10000)).putShort((short) frag).put((byte) ttl).put((byte) proto)
                    .putShort((short) 0).putInt(addr()).putInt(addr());
            for (int i = 20; i < headerBytes; i++) {
                b.put((byte) (i == 20 ? 0x94 : r.nextInt(256))); // router alert, then noise
            }
            int l4 = b.position();
            for (int i = 0; i < payload; i++) {
                b.put((byte) r.nextInt(256));
            }
            byte[] f = Arrays.copyOf(b.array(), total);
            if (proto == 1 && payload >= 8) {
                f[l4] = (byte) new int[] {8, 8, 8, 0, 3, 11, 13, 5, r.nextInt(256)}[r.nextInt(9)];
                f[l4 + 1] = 0;
                f[l4 + 2] = 0;
                f[l4 + 3] = 0;
                int c = Wire.checksum(f, l4, payload);
                f[l4 + 2] = (byte) (c >>> 8);
                f[l4 + 3] = (byte) c;
            }
            int hc = Wire.checksum(f, 14, Math.min(headerBytes, 20 + 40));
            if (r.nextInt(20) == 0) {
                // a wrong checksum stays wrong; these are the edges of ones' complement arithmetic
                hc = r.nextBoolean() ? r.nextInt(0x10000) : new int[] {0xfeff, 0xffff, 0x0000, 0xff00, 0x00ff}[r.nextInt(5)];
            }
            f[24] = (byte) (hc >>> 8);
            f[25] = (byte) hc;
            return f;
        }
    }
}

package io.jvisor.modules.bridge;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.modules.DifferentialHarness;
import io.jvisor.modules.DifferentialHarness.Lane;
import io.jvisor.modules.Expected;
import io.jvisor.modules.Wire;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Differential test of the bridge: random and edge-case frames run through the real {@code bridge.c}
 * with BPF_PROG_TEST_RUN (see {@link DifferentialHarness} for how output ports and VLAN tags are
 * observed), every verdict, drop reason, output port and output frame compared with {@link
 * BridgeModel}, frame after frame, so that learning, moves, aging and static entries are checked as a
 * sequence.
 *
 * <p>Packet count: {@code -Djvisor.diff.packets=N} frames in all for the bridge, split 40/60 between
 * a bridge without VLANs and one with access ports, trunks and a native VLAN (the VLAN one runs each
 * frame through two instances, see the harness). The default is the 100,000 the issue asks for: they
 * took 25 s (plus 14 s to set up) on a 2-core machine with a load average of 9 from other builds, so
 * they stay in CI. The seed is printed and can be set with {@code -Djvisor.diff.seed=S}.
 */
@RequiresRoot
class BridgeDifferentialTest {
    static final long AGING_SECONDS = 3600;

    static int packets() {
        return DifferentialHarness.packets();
    }

    static final long STATIC_A = 0x02_00_00_00_ab_01L, STATIC_B = 0x02_00_00_00_ab_02L;

    @Test
    void withoutVlans() {
        run("bridge, no VLANs", 4, Map.of("agingSeconds", Long.toString(AGING_SECONDS)), Map.of(), false,
                packets() * 2 / 5, List.of(new long[] {STATIC_A, 0, 2}, new long[] {STATIC_B, 0, 3}));
    }

    @Test
    void withVlans() {
        Map<String, String> cfg = new HashMap<>(Map.of("agingSeconds", Long.toString(AGING_SECONDS),
                "port.0.vlan", "10", "port.1.vlan", "10", "port.2.vlan", "20",
                "port.3.trunk", "10,20,30", "port.3.native", "10", "port.4.trunk", "20,30"));
        // port 5 has no mode: an access port in VLAN 1
        Map<Integer, BridgeModel.PortMode> modes = Map.of(0, BridgeModel.PortMode.access(10),
                1, BridgeModel.PortMode.access(10), 2, BridgeModel.PortMode.access(20),
                3, BridgeModel.PortMode.trunk(10, 10, 20, 30), 4, BridgeModel.PortMode.trunk(0, 20, 30));
        // a static entry on a port outside its VLAN: frames to it are dropped as not member
        run("bridge, VLANs", 6, cfg, modes, true, packets() - packets() * 2 / 5,
                List.of(new long[] {STATIC_A, 10, 1}, new long[] {STATIC_B, 20, 0}, new long[] {STATIC_B, 30, 4}));
    }

    private void run(String what, int ports, Map<String, String> config, Map<Integer, BridgeModel.PortMode> modes,
                     boolean instanceLane, int count, List<long[]> statics) {
        long seed = DifferentialHarness.seed(what);
        Random r = new Random(seed);
        long t0 = System.nanoTime();
        try (DifferentialHarness h = DifferentialHarness.start(new Bridge(), config, ports, instanceLane)) {
            Set<Integer> connected = new HashSet<>();
            IntStream.range(0, ports).forEach(connected::add);
            Map<Lane, BridgeModel> models = new HashMap<>();
            for (Lane lane : h.lanes()) {
                BridgeModel m = new BridgeModel(connected, modes);
                for (long[] s : statics) {
                    Bridge.addStatic(h.engine(), DifferentialHarness.instance(lane), Wire.macString(s[0]), (int) s[1],
                            (int) s[2]);
                    m.addStatic(s[0], (int) s[1], (int) s[2]);
                }
                models.put(lane, m);
            }
            long setUp = System.nanoTime() - t0;
            Generator g = new Generator(r, modes.isEmpty() ? List.of(0) : List.of(1, 10, 20, 30), !modes.isEmpty());
            long t1 = System.nanoTime();
            int runs = 0;
            for (int i = 0; i < count; i++) {
                if (i % 400 == 399) {
                    ageOne(h, models, r);
                }
                int in = r.nextInt(ports);
                byte[] frame = g.frame();
                for (Lane lane : h.lanes()) {
                    Expected e = models.get(lane).receive(in, frame);
                    DifferentialHarness.Observation o = h.run(lane, in, frame);
                    runs++;
                    String diff = DifferentialHarness.compare(e, o, lane, !modes.isEmpty());
                    if (diff != null) {
                        fail("%s: seed %d, packet %d, lane %s, in port %d%n  input:    %s%n  expected: %s%n  actual:   %s%n  "
                                        + "differences:%n    %s", what, seed, i, lane, in, Wire.hex(frame), e, o, diff);
                    }
                }
            }
            long took = System.nanoTime() - t1;
            System.out.println("[" + what + "] " + h.timings());
            assertThat(h.stragglers()).as("frames recorded after their packet was checked").isEmpty();
            for (Lane lane : h.lanes()) {
                Set<String> kernel = new HashSet<>();
                for (Bridge.FdbEntry fe : Bridge.fdb(h.engine(), DifferentialHarness.instance(lane))) {
                    if (!fe.isStatic()) {
                        kernel.add(fe.mac() + "@" + fe.vlan() + "->" + fe.port());
                    }
                }
                Set<String> model = new HashSet<>();
                BridgeModel m = models.get(lane);
                for (long[] le : m.learnedEntries()) {
                    if (!m.isAged(le[1], (int) le[0])) {
                        model.add(Wire.macString(le[1]) + "@" + le[0] + "->" + le[2]);
                    }
                }
                assertThat(kernel).as("the FDB after the run, lane " + lane).isEqualTo(model);
            }
            System.out.printf("[%s] %d frames, %d test runs, all matched the model: %.1f s (%.1f us per test run), "
                    + "set-up %.1f s%n", what, count, runs, took / 1e9, took / 1e3 / runs, setUp / 1e9);
        }
    }

    /** Ages one learned entry in the model and in every lane's FDB (its last-seen time far in the past). */
    private static void ageOne(DifferentialHarness h, Map<Lane, BridgeModel> models, Random r) {
        List<long[]> entries = new ArrayList<>(models.get(Lane.DEVICES).learnedEntries());
        if (entries.isEmpty()) {
            return;
        }
        entries.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        long[] pick = entries.get(r.nextInt(entries.size()));
        long old = KernelClock.now() - 2 * KernelClock.secondsToTicks(AGING_SECONDS); // in jiffies, as bridge.c stamps
        for (Lane lane : h.lanes()) {
            BridgeModel m = models.get(lane);
            m.age(pick[1], (int) pick[0]);
            byte[] value = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt((int) pick[2]).putInt(0)
                    .putLong(old).array();
            h.engine().map(DifferentialHarness.instance(lane), "fdb").update(
                    Bridge.key(Wire.macString(pick[1]), (int) pick[0]), value);
        }
    }

    /** Random and edge-case frames. */
    static final class Generator {
        private final Random r;
        private final List<Integer> vlans;
        private final long[] hosts = new long[10];
        private final boolean cutTags;

        /**
         * @param cutTags whether to make frames whose 802.1Q tag is cut short: only where the bridge
         *     drops them, since a receiving kernel discards such a frame before the recorder could see it
         */
        Generator(Random r, List<Integer> vlans, boolean cutTags) {
            this.r = r;
            this.vlans = vlans;
            this.cutTags = cutTags;
            for (int i = 0; i < hosts.length; i++) {
                hosts[i] = 0x02_00_00_00_00_10L + i;
            }
        }

        long dst() {
            int p = r.nextInt(100);
            if (p < 50) {
                return hosts[r.nextInt(hosts.length)];
            } else if (p < 62) {
                return 0xff_ff_ff_ff_ff_ffL;
            } else if (p < 70) {
                return r.nextBoolean() ? 0x01_00_5e_00_00_00L | r.nextInt(1 << 23) : 0x33_33_00_00_00_00L | r.nextInt();
            } else if (p < 80) {
                return (r.nextLong() & 0xfe_ff_ff_ff_ff_ffL) | 0x02_00_00_00_00_00L; // unknown unicast
            }
            return r.nextBoolean() ? STATIC_A : STATIC_B;
        }

        long src() {
            int p = r.nextInt(100);
            if (p < 86) {
                return hosts[r.nextInt(hosts.length)];
            } else if (p < 91) {
                return 0x01_00_5e_00_00_01L; // a group address is never learned
            } else if (p < 95) {
                return r.nextBoolean() ? STATIC_A : STATIC_B; // a static MAC seen elsewhere stays put
            }
            return 0x02_00_00_00_00_10L + 10 + r.nextInt(5); // hosts that show up rarely
        }

        int vid() {
            int p = r.nextInt(100);
            if (p < 70) {
                return vlans.get(r.nextInt(vlans.size()));
            } else if (p < 78) {
                return 0;
            } else if (p < 84) {
                return 4095;
            } else if (p < 90) {
                return 99;
            }
            return r.nextInt(4096);
        }

        byte[] frame() {
            ByteBuffer b = ByteBuffer.allocate(1600);
            b.put(Wire.mac(dst())).put(Wire.mac(src()));
            int shape = r.nextInt(100);
            if (shape < 45) {
                // untagged
            } else if (shape < 80) {
                b.putShort((short) Wire.ETH_P_8021Q).putShort((short) ((r.nextInt(16) << 12) | vid()));
            } else if (shape < 86) { // two 802.1Q tags
                b.putShort((short) Wire.ETH_P_8021Q).putShort((short) vid());
                b.putShort((short) Wire.ETH_P_8021Q).putShort((short) vid());
            } else if (shape < 91) { // 802.1ad outer tag
                b.putShort((short) Wire.ETH_P_8021AD).putShort((short) vid());
                if (r.nextBoolean()) {
                    b.putShort((short) Wire.ETH_P_8021Q).putShort((short) vid());
                }
            } else { // an 802.1Q tag cut short, or a bare Ethernet header
                int cut = r.nextInt(5);
                if (cut < 4 && cutTags) {
                    b.putShort((short) Wire.ETH_P_8021Q);
                    for (int i = 0; i < cut; i++) {
                        b.put((byte) r.nextInt(256));
                    }
                    return slice(b);
                }
                int type = r.nextInt(1 << 16);
                // BPF_PROG_TEST_RUN refuses IPv4 and IPv6 EtherTypes without room for the header
                b.putShort((short) (type == Wire.ETH_P_IP || type == Wire.ETH_P_IPV6 ? 0x88b5 : type));
                return slice(b);
            }
            int[] types = {Wire.ETH_P_IP, Wire.ETH_P_ARP, Wire.ETH_P_IPV6, 0x88b5, 0x0042};
            int type = types[r.nextInt(types.length)];
            b.putShort((short) type);
            int len = r.nextInt(10) == 0 ? r.nextInt(1400) : r.nextInt(64);
            if (b.position() == 14) {
                // BPF_PROG_TEST_RUN refuses an skb whose EtherType says IPv4 or IPv6 without room for the header
                len = Math.max(len, type == Wire.ETH_P_IP ? 20 : type == Wire.ETH_P_IPV6 ? 40 : 0);
            }
            if (!cutTags) {
                // a receiving kernel discards a tagged frame shorter than 20 bytes (skb_vlan_untag)
                len = Math.max(len, 20 - b.position());
            }
            for (int i = 0; i < len; i++) {
                b.put((byte) r.nextInt(256));
            }
            return slice(b);
        }

        private static byte[] slice(ByteBuffer b) {
            byte[] out = new byte[b.position()];
            b.flip().get(out);
            return out;
        }
    }
}

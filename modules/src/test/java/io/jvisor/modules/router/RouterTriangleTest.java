package io.jvisor.modules.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.modules.EngineLab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.WireSpec;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Three routers wired in a triangle, each with a host: a loop in the instance graph that TTL ends,
 * so the engine accepts it, and every host reaches every other across the triangle.
 */
@RequiresRoot
class RouterTriangleTest {
    /** hK at a.K.2/24 (gateway .1) on router rK's port 0; rI:J -- rJ:I over the transit subnet a.IJ.0/24. */
    static final class Bed extends EngineLab {
        Bed() throws Exception {
            super("router", "jvt3", ModuleCatalog.discover(), net -> {
                LabSpec spec = LabSpec.empty();
                for (int i = 1; i <= 3; i++) {
                    spec = spec.withHost(host("h" + i, net + i + ".2/24", net + i + ".1"))
                            .withWire(WireSpec.toRoot("h" + i + ":eth0", "t" + i, null));
                }
                return spec;
            });
        }

        /** Transit subnet between routers i and j (i < j): a.1I J.0/24, router k's address there is .k. */
        String transit(int i, int j, int k) {
            return net + (10 * Math.min(i, j) + Math.max(i, j)) + "." + k;
        }

        /** Router k's port for its link to router j (the two others in order: 1 and 2). */
        static int portTo(int k, int j) {
            int first = k == 1 ? 2 : 1;
            return j == first ? 1 : 2;
        }

        Map<String, String> config(int k) {
            Map<String, String> c = new TreeMap<>();
            c.put("port.0", net + k + ".1/24");
            int route = 0;
            for (int j = 1; j <= 3; j++) {
                if (j == k) {
                    continue;
                }
                c.put("port." + portTo(k, j), transit(k, j, k) + "/24");
                c.put("route." + route++, net + j + ".0/24 via " + transit(k, j, j));
            }
            return c;
        }

        void apply() {
            Topology.Builder t = Topology.builder();
            for (int k = 1; k <= 3; k++) {
                t.instance("r" + k, "router", config(k)).connect("r" + k + ":0", "dev:" + lab.rootDevice("t" + k));
            }
            t.connect("r1:" + portTo(1, 2), "r2:" + portTo(2, 1));
            t.connect("r1:" + portTo(1, 3), "r3:" + portTo(3, 1));
            t.connect("r2:" + portTo(2, 3), "r3:" + portTo(3, 2));
            engine.apply(t.build());
        }
    }

    static long transitRx(Bed bed, int k) {
        long n = 0;
        for (int j = 1; j <= 3; j++) {
            if (j != k) {
                n += bed.engine.stats("r" + k, Bed.portTo(k, j)).rxPackets();
            }
        }
        return n;
    }

    @Test
    void aTriangleOfRoutersIsAcceptedAndForwardsBetweenEveryPairOfHosts() throws Exception {
        try (Bed bed = new Bed()) {
            bed.apply();
            assertThat(bed.engine.topology().connections()).hasSize(6);
            for (int a = 1; a <= 3; a++) {
                for (int b = 1; b <= 3; b++) {
                    if (a == b) {
                        continue;
                    }
                    // the first pings may be lost while each router resolves its next hop (drop, no queue)
                    Ping.run(bed.h("h" + a).netns(), bed.ip(b + ".2"), 2);
                    assertThat(Ping.run(bed.h("h" + a).netns(), bed.ip(b + ".2"), 3).allReplied())
                            .as("h%d -> h%d across the triangle", a, b).isTrue();
                }
            }
            // h1 <-> h2 takes the direct wire r1 -- r2, never the way around through r3
            long before = transitRx(bed, 3);
            assertThat(Ping.run(bed.h("h1").netns(), bed.ip("2.2"), 5).allReplied()).isTrue();
            assertThat(transitRx(bed, 3) - before).as("packets r3 received from r1 or r2 meanwhile").isZero();
        }
    }
}

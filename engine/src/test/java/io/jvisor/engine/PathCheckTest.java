package io.jvisor.engine;

import io.jvisor.engine.PathCheck.Verdict;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static io.jvisor.engine.Forwarding.L2;
import static io.jvisor.engine.Forwarding.L3;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loops and path lengths of instance graphs ({@link PathCheck}); no kernel. */
class PathCheckTest {
    /** A graph under construction: instances in insertion order, then wires. */
    private static final class G {
        final Map<String, Forwarding> instances = new LinkedHashMap<>();
        final List<InstanceGraph.Wire> wires = new ArrayList<>();

        G add(Forwarding f, String... names) {
            for (String n : names) {
                instances.put(n, f);
            }
            return this;
        }

        G wire(String a, String b) {
            wires.add(new InstanceGraph.Wire(a, b));
            return this;
        }

        G chain(String... names) {
            for (int i = 1; i < names.length; i++) {
                wire(names[i - 1], names[i]);
            }
            return this;
        }

        InstanceGraph graph() {
            return new InstanceGraph(instances, wires);
        }

        Verdict verdict() {
            return PathCheck.verdict(graph());
        }

        TopologyException refusal() {
            try {
                PathCheck.check(graph());
            } catch (TopologyException e) {
                return e;
            }
            throw new AssertionError("accepted: " + verdict());
        }
    }

    private static String[] names(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + i).toArray(String[]::new);
    }

    @Test
    void aTriangleOfRoutersIsAccepted() {
        G g = new G().add(L3, "r1", "r2", "r3").chain("r1", "r2", "r3", "r1");
        assertThat(g.verdict()).isInstanceOf(Verdict.Accepted.class);
        PathCheck.check(g.graph());
    }

    @Test
    void aTriangleOfBridgesIsRefusedNamingTheLoop() {
        TopologyException e = new G().add(L2, "b1", "b2", "b3").chain("b1", "b2", "b3", "b1").refusal();
        assertThat(e.element()).isEqualTo("path b1 -> b2 -> b3 -> b1");
        assertThat(e.getMessage()).contains("loop on which none decrements a TTL")
                .contains("a frame would circle until the kernel's tail-call limit drops it");
    }

    @Test
    void theLoopIsNamedFromItsFirstInstanceWhicheverWireClosesIt() {
        G g = new G().add(L2, "a", "b", "c", "d").chain("c", "d", "a", "b", "c");
        assertThat(g.verdict()).isEqualTo(new Verdict.Loop(List.of("a", "b", "c", "d", "a")));
    }

    @Test
    void aLoopWithOneRouterIsAccepted() {
        G g = new G().add(L2, "b1", "b2").add(L3, "r").add(L2, "fw").chain("b1", "b2", "fw", "r", "b1");
        assertThat(g.verdict()).isInstanceOf(Verdict.Accepted.class);
    }

    @Test
    void anL2LoopIsRefusedEvenBesideRouterLoops() {
        G g = new G().add(L3, "r1", "r2", "r3").add(L2, "b1", "b2", "b3")
                .chain("r1", "r2", "r3", "r1")     // accepted
                .chain("r1", "b1", "b2", "r2")     // through routers: accepted
                .chain("b2", "b3", "b1");          // b1 b2 b3: bridges only
        assertThat(g.verdict()).isEqualTo(new Verdict.Loop(List.of("b1", "b2", "b3", "b1")));
    }

    @Test
    void twoWiresBetweenTwoBridgesAreALoop() {
        TopologyException e = new G().add(L2, "b1", "b2").wire("b1", "b2").wire("b2", "b1").refusal();
        assertThat(e.element()).isEqualTo("path b1 -> b2 -> b1");
        assertThat(e.getMessage()).contains("two connections join b1 and b2");
    }

    @Test
    void twoWiresBetweenABridgeAndARouterAreAccepted() {
        assertThat(new G().add(L2, "b").add(L3, "r").wire("b", "r").wire("r", "b").verdict())
                .isInstanceOf(Verdict.Accepted.class);
    }

    @Test
    void aWireBetweenTwoPortsOfOneInstanceIsALoopUnlessItIsARouter() {
        TopologyException e = new G().add(L2, "b").wire("b", "b").refusal();
        assertThat(e.element()).isEqualTo("path b -> b");
        assertThat(e.getMessage()).contains("a connection joins two ports of b");
        assertThat(new G().add(L3, "r").wire("r", "r").verdict()).isInstanceOf(Verdict.Accepted.class);
    }

    @Test
    void aChainOfThirtyThreeIsAcceptedAndOfThirtyFourRefusedNamingThePath() {
        String[] ok = names("i", Sdk.MAX_TAIL_CALLS);
        Verdict v = new G().add(L2, ok).chain(ok).verdict();
        assertThat(v).isEqualTo(new Verdict.Accepted(List.of(ok)));

        String[] tooLong = names("i", Sdk.MAX_TAIL_CALLS + 1);
        TopologyException e = new G().add(L2, tooLong).chain(tooLong).refusal();
        assertThat(e.element()).isEqualTo("path " + String.join(" -> ", tooLong));
        assertThat(e.getMessage()).contains("it chains 34 instances, more than the kernel's limit of 33 tail calls");
    }

    @Test
    void theChainIsNamedFromItsFirstInstanceWhateverTheWireOrder() {
        String[] chain = names("i", 40);
        G g = new G().add(L2, chain);
        for (int i = chain.length - 1; i > 0; i--) {
            g.wire(chain[i], chain[i - 1]);
        }
        assertThat(g.verdict()).isEqualTo(new Verdict.TooLong(List.of(chain)));
    }

    @Test
    void aTreeWhoseDiameterExceedsTheLimitIsRefusedNamingLeafToLeaf() {
        // a centre with three arms; the two longest, 17 each, make a path of 35 instances
        G g = new G().add(L2, "centre");
        String[] left = names("l", 17), right = names("r", 17), shortArm = names("s", 5);
        g.add(L2, left).add(L2, right).add(L2, shortArm);
        g.chain(left).chain(right).chain(shortArm).wire("centre", "l0").wire("centre", "r0").wire("centre", "s0");
        Verdict v = g.verdict();
        assertThat(v).isInstanceOf(Verdict.TooLong.class);
        List<String> path = ((Verdict.TooLong) v).path();
        assertThat(path).hasSize(35).startsWith("l16", "l15").endsWith("r15", "r16").contains("centre");

        // arms of 16 make 33: accepted
        G ok = new G().add(L2, "centre");
        String[] l = names("l", 16), r = names("r", 16);
        ok.add(L2, l).add(L2, r).chain(l).chain(r).wire("centre", "l0").wire("centre", "r0");
        assertThat(((Verdict.Accepted) ok.verdict()).longestPath()).hasSize(33);
    }

    @Test
    void aFullMeshOfThirtyRoutersIsAcceptedAndOfThirtyBridgesRefused() {
        String[] r = names("r", 30);
        G routers = new G().add(L3, r);
        G bridges = new G().add(L2, r);
        for (int i = 0; i < r.length; i++) {
            for (int j = i + 1; j < r.length; j++) {
                routers.wire(r[i], r[j]);
                bridges.wire(r[i], r[j]);
            }
        }
        assertThat(routers.verdict()).isEqualTo(new Verdict.Accepted(List.of("r0", "r1")));
        assertThat(bridges.verdict()).isEqualTo(new Verdict.Loop(List.of("r0", "r1", "r2", "r0")));
    }

    @Test
    void aChainOfAThousandIsRefusedWithThePathElidedAfterTheLimit() {
        String[] chain = names("i", 1000);
        G g = new G().add(L2, chain).chain(chain);
        assertThat(g.verdict()).isEqualTo(new Verdict.TooLong(List.of(chain)));
        TopologyException e = g.refusal();
        assertThat(e.element()).isEqualTo("path " + String.join(" -> ", List.of(chain).subList(0, 34))
                + " -> ... -> i999");
        assertThat(e.getMessage()).contains("it chains 1000 instances").contains("no shorter path joins i0 and i999");
    }

    @Test
    void aRingOfRoutersIsCheckedByItsShortestPaths() {
        // a ring of 64: every two routers are at most 33 instances apart the short way round
        String[] ring = names("r", 64);
        G ok = new G().add(L3, ring).chain(ring).wire("r63", "r0");
        assertThat(((Verdict.Accepted) ok.verdict()).longestPath()).hasSize(33);
        // a ring of 66: r0 and r33 are 34 instances apart either way
        String[] big = names("r", 66);
        Verdict v = new G().add(L3, big).chain(big).wire("r65", "r0").verdict();
        assertThat(v).isInstanceOf(Verdict.TooLong.class);
        assertThat(((Verdict.TooLong) v).path()).hasSize(34);
    }

    @Test
    void treesHangingOffARouterLoopAreMeasuredExactly() {
        // two chains of 15 bridges on opposite routers of a ring of four: 15 + 3 + 15 = 33
        G g = new G().add(L3, "r0", "r1", "r2", "r3").chain("r0", "r1", "r2", "r3", "r0");
        String[] a = names("a", 15), b = names("b", 15);
        g.add(L2, a).add(L2, b).chain(a).chain(b).wire("a0", "r0").wire("b0", "r2");
        assertThat(((Verdict.Accepted) g.verdict()).longestPath()).hasSize(33);
        // one more bridge on one chain: 34
        g.add(L2, "b15").wire("b14", "b15");
        Verdict v = g.verdict();
        assertThat(v).isInstanceOf(Verdict.TooLong.class);
        assertThat(((Verdict.TooLong) v).path()).hasSize(34).startsWith("a14").endsWith("b15");
    }

    @Test
    void separateComponentsAreCheckedEachAndTheLongestNamed() {
        String[] shortChain = names("s", 10), longChain = names("l", 35);
        G g = new G().add(L2, shortChain).add(L2, longChain).add(L3, "alone").chain(shortChain).chain(longChain);
        assertThat(g.verdict()).isEqualTo(new Verdict.TooLong(List.of(longChain)));
    }

    @Test
    void anEmptyGraphAndLoneInstancesAreAccepted() {
        assertThat(new G().verdict()).isEqualTo(new Verdict.Accepted(List.of()));
        assertThat(new G().add(L2, "a", "b").verdict()).isEqualTo(new Verdict.Accepted(List.of("a")));
    }

    @Test
    void theGraphOfATopologyHasItsInstanceWiresOnlyAndTheTypesForwarding() {
        Topology t = Topology.builder().instance("r", "router").instance("b", "bridge").instance("c", "bridge")
                .connect("r:0", "b:0").connect("b:1", "c:0").connect("c:1", "b:2").connect("r:1", "dev:eth0").build();
        InstanceGraph g = InstanceGraph.of(t, type -> type.equals("router") ? L3 : L2);
        assertThat(g.instances()).containsExactly(Map.entry("r", L3), Map.entry("b", L2), Map.entry("c", L2));
        assertThat(g.wires()).containsExactly(new InstanceGraph.Wire("r", "b"), new InstanceGraph.Wire("b", "c"),
                new InstanceGraph.Wire("c", "b"));
        assertThat(PathCheck.verdict(g)).isEqualTo(new Verdict.Loop(List.of("b", "c", "b")));
    }

    @Test
    void aWireToAnUnknownInstanceIsAProgrammingError() {
        assertThatThrownBy(() -> new G().add(L2, "a").wire("a", "ghost").graph())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no instance named 'ghost'");
    }
}

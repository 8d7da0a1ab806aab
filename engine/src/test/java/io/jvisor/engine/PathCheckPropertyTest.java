package io.jvisor.engine;

import io.jvisor.engine.PathCheck.Verdict;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link PathCheck} against exhaustive oracles on random graphs: the engine's former check (every
 * simple path from every instance) on forests, a brute-force search for loops of L2 instances on
 * small multigraphs, and all-pairs shortest paths on graphs of routers.
 */
class PathCheckPropertyTest {

    /** On forests the new check refuses exactly what the old exhaustive one refused. */
    @Property(tries = 400)
    void onForestsTheCheckAgreesWithTheOldExhaustiveOne(@ForAll long seed) {
        Random rnd = new Random(seed);
        InstanceGraph g = randomForest(rnd);
        Verdict v = PathCheck.verdict(g);

        boolean oldRefuses;
        try {
            OldCheck.check(g);
            oldRefuses = false;
        } catch (TopologyException e) {
            assertThat(e.getMessage()).contains("more than the kernel's limit"); // a forest has no loop
            oldRefuses = true;
        }
        assertThat(v instanceof Verdict.TooLong).as("refused, for %s", v).isEqualTo(oldRefuses);
        assertThat(v).isNotInstanceOf(Verdict.Loop.class);
        List<String> path = v instanceof Verdict.TooLong t ? t.path() : ((Verdict.Accepted) v).longestPath();
        assertThat(path).hasSize(OldCheck.longestSimplePath(g));
        assertIsSimplePath(g, path);
    }

    /** A loop is refused exactly when some loop passes through L2 instances only. */
    @Property(tries = 1000)
    void loopsOfL2InstancesOnlyAreFoundAndNamed(@ForAll long seed) {
        Random rnd = new Random(seed);
        int n = 1 + rnd.nextInt(7);
        Map<String, Forwarding> instances = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            instances.put("n" + i, rnd.nextInt(3) == 0 ? Forwarding.L3 : Forwarding.L2);
        }
        List<InstanceGraph.Wire> wires = new ArrayList<>();
        int m = rnd.nextInt(11);
        for (int i = 0; i < m; i++) {
            wires.add(new InstanceGraph.Wire("n" + rnd.nextInt(n), "n" + rnd.nextInt(n)));
        }
        InstanceGraph g = new InstanceGraph(instances, wires);
        Verdict v = PathCheck.verdict(g);
        assertThat(v instanceof Verdict.Loop).as("loop found, for %s in %s", v, g).isEqualTo(hasL2Loop(g));
        if (v instanceof Verdict.Loop l) {
            assertIsL2Loop(g, l.cycle());
        }
    }

    /** Among routers, the check refuses exactly when two of them are further apart than the limit. */
    @Property(tries = 300)
    void amongRoutersTheCheckFollowsShortestPaths(@ForAll long seed) {
        Random rnd = new Random(seed);
        int n = 1 + rnd.nextInt(90);
        Map<String, Forwarding> instances = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            instances.put("r" + i, Forwarding.L3);
        }
        List<InstanceGraph.Wire> wires = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            if (rnd.nextInt(10) != 0) {
                wires.add(new InstanceGraph.Wire("r" + (i - 1 - rnd.nextInt(Math.min(i, 3))), "r" + i));
            }
        }
        int extra = rnd.nextInt(n / 4 + 1);
        for (int i = 0; i < extra; i++) {
            wires.add(new InstanceGraph.Wire("r" + rnd.nextInt(n), "r" + rnd.nextInt(n)));
        }
        InstanceGraph g = new InstanceGraph(instances, wires);
        int[][] d = allPairs(g);
        int diameter = 0;
        for (int[] row : d) {
            for (int x : row) {
                if (x < Integer.MAX_VALUE / 2) {
                    diameter = Math.max(diameter, x);
                }
            }
        }
        Verdict v = PathCheck.verdict(g);
        assertThat(v instanceof Verdict.TooLong).isEqualTo(diameter + 1 > Sdk.MAX_TAIL_CALLS);
        List<String> path = v instanceof Verdict.TooLong t ? t.path() : ((Verdict.Accepted) v).longestPath();
        assertThat(path).hasSize(diameter + 1);
        assertIsSimplePath(g, path);
        List<String> names = List.copyOf(g.instances().keySet());
        assertThat(d[names.indexOf(path.getFirst())][names.indexOf(path.getLast())]).isEqualTo(diameter);
    }

    // ---- generators and oracles -----------------------------------------------------------------

    /** A random forest with long paths, its names, wire order and wire directions shuffled. */
    private static InstanceGraph randomForest(Random rnd) {
        int n = 1 + rnd.nextInt(90);
        int reach = 1 + rnd.nextInt(4); // a parent among the few nodes before: long paths
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("x" + i);
        }
        Collections.shuffle(names, rnd);
        Map<String, Forwarding> instances = new LinkedHashMap<>();
        for (String name : names) {
            instances.put(name, rnd.nextBoolean() ? Forwarding.L2 : Forwarding.L3);
        }
        List<InstanceGraph.Wire> wires = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            if (rnd.nextInt(12) == 0) {
                continue; // a new tree
            }
            int parent = Math.max(0, i - 1 - rnd.nextInt(reach));
            wires.add(rnd.nextBoolean() ? new InstanceGraph.Wire(names.get(parent), names.get(i))
                    : new InstanceGraph.Wire(names.get(i), names.get(parent)));
        }
        Collections.shuffle(wires, rnd);
        return new InstanceGraph(instances, wires);
    }

    private static Map<String, List<String>> adjacency(InstanceGraph g) {
        Map<String, List<String>> adj = new HashMap<>();
        g.instances().keySet().forEach(n -> adj.put(n, new ArrayList<>()));
        for (InstanceGraph.Wire w : g.wires()) {
            adj.get(w.a()).add(w.b());
            adj.get(w.b()).add(w.a());
        }
        return adj;
    }

    private static void assertIsSimplePath(InstanceGraph g, List<String> path) {
        Map<String, List<String>> adj = adjacency(g);
        assertThat(new HashSet<>(path)).hasSameSizeAs(path);
        for (int i = 1; i < path.size(); i++) {
            assertThat(adj.get(path.get(i - 1))).as("wire %s -- %s", path.get(i - 1), path.get(i)).contains(path.get(i));
        }
    }

    private static void assertIsL2Loop(InstanceGraph g, List<String> cycle) {
        assertThat(cycle.getFirst()).isEqualTo(cycle.getLast());
        List<String> ring = cycle.subList(0, cycle.size() - 1);
        assertThat(new HashSet<>(ring)).hasSameSizeAs(ring);
        ring.forEach(n -> assertThat(g.instances().get(n)).isEqualTo(Forwarding.L2));
        // each step uses its own wire: two steps between the same pair need two wires
        Map<List<String>, Integer> wires = new HashMap<>();
        for (InstanceGraph.Wire w : g.wires()) {
            wires.merge(pair(w.a(), w.b()), 1, Integer::sum);
        }
        Map<List<String>, Integer> steps = new HashMap<>();
        for (int i = 1; i < cycle.size(); i++) {
            steps.merge(pair(cycle.get(i - 1), cycle.get(i)), 1, Integer::sum);
        }
        steps.forEach((pair, k) -> assertThat(wires.getOrDefault(pair, 0)).as("wires %s", pair).isGreaterThanOrEqualTo(k));
    }

    private static List<String> pair(String a, String b) {
        return a.compareTo(b) <= 0 ? List.of(a, b) : List.of(b, a);
    }

    /** Brute force: a cycle of distinct L2 instances, each step on a wire not used before. */
    private static boolean hasL2Loop(InstanceGraph g) {
        for (String s : g.instances().keySet()) {
            if (g.instances().get(s) == Forwarding.L2 && loopFrom(g, s, s, new HashSet<>(Set.of(s)), new HashSet<>())) {
                return true;
            }
        }
        return false;
    }

    private static boolean loopFrom(InstanceGraph g, String start, String at, Set<String> visited, Set<Integer> used) {
        for (int e = 0; e < g.wires().size(); e++) {
            InstanceGraph.Wire w = g.wires().get(e);
            if (used.contains(e) || !(w.a().equals(at) || w.b().equals(at))) {
                continue;
            }
            String next = w.a().equals(at) ? w.b() : w.a();
            if (g.instances().get(next) != Forwarding.L2) {
                continue;
            }
            if (next.equals(start)) {
                return true;
            }
            if (visited.add(next)) {
                used.add(e);
                if (loopFrom(g, start, next, visited, used)) {
                    return true;
                }
                used.remove(e);
                visited.remove(next);
            }
        }
        return false;
    }

    /** Floyd-Warshall over the instances, in the graph's order; unreachable pairs are huge. */
    private static int[][] allPairs(InstanceGraph g) {
        List<String> names = List.copyOf(g.instances().keySet());
        int n = names.size();
        int[][] d = new int[n][n];
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(d[i], Integer.MAX_VALUE / 2);
            d[i][i] = 0;
        }
        for (InstanceGraph.Wire w : g.wires()) {
            int a = names.indexOf(w.a()), b = names.indexOf(w.b());
            if (a != b) {
                d[a][b] = 1;
                d[b][a] = 1;
            }
        }
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    d[i][j] = Math.min(d[i][j], d[i][k] + d[k][j]);
                }
            }
        }
        return d;
    }

    /**
     * The engine's check before {@link PathCheck}, copied from Engine.validate/checkPaths/longest:
     * a second wire between two instances, or any loop, is refused; so is any simple path of more
     * than {@link Sdk#MAX_TAIL_CALLS} instances, found by walking every path from every instance.
     */
    static final class OldCheck {
        static void check(InstanceGraph g) {
            Map<String, Set<String>> graph = new HashMap<>();
            for (InstanceGraph.Wire w : g.wires()) {
                if (!graph.computeIfAbsent(w.a(), k -> new HashSet<>()).add(w.b())) {
                    throw new TopologyException("path " + w.a() + " -> " + w.b() + " -> " + w.a(),
                            "two connections join these instances, so they form a loop; a packet "
                                    + "could circle until the tail-call limit drops it");
                }
                graph.computeIfAbsent(w.b(), k -> new HashSet<>()).add(w.a());
            }
            for (String start : graph.keySet()) {
                Deque<String> path = new ArrayDeque<>();
                longest(graph, start, null, path, new HashSet<>());
            }
        }

        private static void longest(Map<String, Set<String>> g, String node, String from, Deque<String> path,
                                    Set<String> onPath) {
            path.addLast(node);
            onPath.add(node);
            if (path.size() > Sdk.MAX_TAIL_CALLS) {
                throw new TopologyException("path " + String.join(" -> ", path), "it chains " + path.size()
                        + " instances, more than the kernel's limit of " + Sdk.MAX_TAIL_CALLS + " tail calls");
            }
            for (String next : g.getOrDefault(node, Set.of())) {
                if (next.equals(from)) {
                    continue;
                }
                if (onPath.contains(next)) {
                    throw new TopologyException("path " + String.join(" -> ", path) + " -> " + next,
                            "the instances form a loop; a packet could circle until the tail-call limit drops it");
                }
                longest(g, next, node, path, onPath);
            }
            onPath.remove(node);
            path.removeLast();
        }

        /** The number of instances on the longest simple path, with no limit (exhaustive; forests only). */
        static int longestSimplePath(InstanceGraph g) {
            Map<String, List<String>> adj = adjacency(g);
            int best = g.instances().isEmpty() ? 0 : 1;
            for (String s : g.instances().keySet()) {
                best = Math.max(best, deepest(adj, s, null));
            }
            return best;
        }

        private static int deepest(Map<String, List<String>> adj, String node, String from) {
            int best = 0;
            for (String next : adj.get(node)) {
                if (!next.equals(from)) {
                    best = Math.max(best, deepest(adj, next, node));
                }
            }
            return best + 1;
        }
    }
}

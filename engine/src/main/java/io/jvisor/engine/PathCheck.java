package io.jvisor.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the loops and path lengths of a topology's {@link InstanceGraph}: a pure function of the
 * graph, with no kernel involved.
 *
 * <p><b>Tail calls.</b> A packet entering from a device takes one tail call into the first instance
 * and one more for each wire it crosses, so crossing k instances takes k tail calls; the kernel
 * allows {@link Sdk#MAX_TAIL_CALLS} in a chain and drops the packet at the next one.
 *
 * <p><b>Loops.</b> A loop (a cycle of the undirected multigraph: two wires between the same two
 * instances, or a wire between two ports of one instance, count) is accepted when at least one
 * instance on it {@linkplain Forwarding#endsLoops() ends a packet that goes round} (a router, which
 * decrements the TTL). A loop of {@link Forwarding#L2} instances only is refused, naming it as a path
 * {@code a -> b -> c -> a}: a frame would circle until the tail-call limit drops it, and a flooded
 * one would do so again for every frame. Such a loop exists exactly when the subgraph of the L2
 * instances, with every wire between two of them, has a cycle, which union-find finds in
 * O(E &alpha;(V)); the loop named is the first wire, in topology order, that closes one, with the
 * spanning-forest path between its ends.
 *
 * <p><b>Path lengths.</b> The rule: any two connected instances must be joined by a path of at most
 * {@link Sdk#MAX_TAIL_CALLS} instances, else the topology is refused, naming the shortest path
 * between the two farthest-apart instances.
 * <ul>
 *   <li>A path whose wires are on no loop (bridges of the graph) is the only path between its
 *       ends, so it is checked exactly, as before: no such path may chain more than the limit,
 *       whether its component has loops elsewhere or not. On a loop-free component that covers
 *       every path; the longest is the tree's diameter, found by two breadth-first passes in
 *       O(V + E).</li>
 *   <li>On a component with (accepted) loops, the longest simple path is NP-hard to find
 *       (Hamiltonian path), and it is not what a packet takes: the routers on those loops forward
 *       along routes, which a working configuration keeps shorter than detours. The check refuses
 *       only what cannot work whatever the routes: two instances that no path within the limit
 *       joins. A packet that does take a longer way (a detour, or a routing loop that its TTL of up
 *       to 255 does not end first) is dropped by the kernel at the first tail call past the limit,
 *       and counted as a {@code tail_call_limit} drop of the instance that tried to hand it on.
 *       The distances come from one breadth-first pass per instance of such a component:
 *       O(V (V + E)), at most 1,024 instances and 16,384 wires.</li>
 * </ul>
 */
public final class PathCheck {
    private PathCheck() {}

    /** What {@link #verdict} says about a graph. */
    public sealed interface Verdict {
        /**
         * The graph is fine.
         *
         * @param longestPath the longest of the shortest paths between two instances (on a loop-free
         *     component, the longest path there is), or empty when there are no instances
         */
        record Accepted(List<String> longestPath) implements Verdict {
            public Accepted {
                longestPath = List.copyOf(longestPath);
            }
        }

        /**
         * The graph has a loop on which no instance ends a packet that goes round.
         *
         * @param cycle the loop, its first instance repeated at the end ({@code a, b, a} for two
         *     wires between a and b; {@code a, a} for a wire between two ports of a)
         */
        record Loop(List<String> cycle) implements Verdict {
            public Loop {
                cycle = List.copyOf(cycle);
            }
        }

        /**
         * Two instances are joined by no path within the kernel's tail-call limit.
         *
         * @param path the shortest path between them, more than {@link Sdk#MAX_TAIL_CALLS} instances
         */
        record TooLong(List<String> path) implements Verdict {
            public TooLong {
                path = List.copyOf(path);
            }
        }
    }

    /**
     * Refuses a graph that {@link #verdict} does not accept.
     *
     * @throws TopologyException whose element names the loop or path ({@code path a -> b -> a}) and
     *     whose message says why it is refused
     */
    public static void check(InstanceGraph graph) {
        switch (verdict(graph)) {
            case Verdict.Accepted a -> { }
            case Verdict.Loop l -> throw new TopologyException("path " + String.join(" -> ", l.cycle()), loopReason(l.cycle()));
            case Verdict.TooLong t -> throw new TopologyException("path " + describe(t.path()), "it chains "
                    + t.path().size() + " instances, more than the kernel's limit of " + Sdk.MAX_TAIL_CALLS
                    + " tail calls, and no shorter path joins " + t.path().getFirst() + " and " + t.path().getLast());
        }
    }

    /** The verdict on a graph: loops first, then path lengths. */
    public static Verdict verdict(InstanceGraph graph) {
        Indexed g = new Indexed(graph);
        List<String> loop = l2Loop(g);
        if (loop != null) {
            return new Verdict.Loop(loop);
        }
        List<String> longest = longestShortestPath(g);
        return longest.size() > Sdk.MAX_TAIL_CALLS ? new Verdict.TooLong(longest) : new Verdict.Accepted(longest);
    }

    private static String loopReason(List<String> cycle) {
        String why = "the instances form a loop on which none decrements a TTL (all forward frames as they are), "
                + "so a frame would circle until the kernel's tail-call limit drops it";
        if (cycle.size() == 2) {
            return why + " (a connection joins two ports of " + cycle.getFirst() + ")";
        }
        if (cycle.size() == 3) {
            return why + " (two connections join " + cycle.get(0) + " and " + cycle.get(1) + ")";
        }
        return why;
    }

    /** The path, with the part after the instance the limit stops a packet at elided when it is long. */
    private static String describe(List<String> path) {
        int shown = Sdk.MAX_TAIL_CALLS + 1;
        if (path.size() <= shown + 1) {
            return String.join(" -> ", path);
        }
        return String.join(" -> ", path.subList(0, shown)) + " -> ... -> " + path.getLast();
    }

    /** The graph by index: names in topology order, wires as index pairs, adjacency as arrays. */
    private static final class Indexed {
        final String[] names;
        final boolean[] endsLoops;
        final int[] from;
        final int[] to;
        /** adjacency in CSR form: the neighbours of v are adj[start[v] .. start[v + 1]). */
        final int[] start;
        final int[] adj;

        Indexed(InstanceGraph graph) {
            int n = graph.instances().size();
            names = new String[n];
            endsLoops = new boolean[n];
            Map<String, Integer> index = new HashMap<>(n * 2);
            int i = 0;
            for (var e : graph.instances().entrySet()) {
                names[i] = e.getKey();
                endsLoops[i] = e.getValue().endsLoops();
                index.put(e.getKey(), i++);
            }
            int m = graph.wires().size();
            from = new int[m];
            to = new int[m];
            start = new int[n + 1];
            for (int w = 0; w < m; w++) {
                from[w] = index.get(graph.wires().get(w).a());
                to[w] = index.get(graph.wires().get(w).b());
                start[from[w] + 1]++;
                start[to[w] + 1]++;
            }
            for (int v = 0; v < n; v++) {
                start[v + 1] += start[v];
            }
            adj = new int[2 * m];
            int[] fill = Arrays.copyOf(start, n);
            for (int w = 0; w < m; w++) {
                adj[fill[from[w]]++] = to[w];
                adj[fill[to[w]]++] = from[w];
            }
        }

        int size() {
            return names.length;
        }

        List<String> names(List<Integer> path) {
            List<String> out = new ArrayList<>(path.size());
            for (int v : path) {
                out.add(names[v]);
            }
            return out;
        }
    }

    // ---- loops -----------------------------------------------------------------------------------

    /** The first loop of L2 instances only, or null when there is none. */
    private static List<String> l2Loop(Indexed g) {
        int n = g.size();
        int[] parent = new int[n];
        Arrays.setAll(parent, v -> v);
        // The spanning forest built so far, to name the loop the closing wire makes.
        List<List<Integer>> forest = new ArrayList<>(n);
        for (int v = 0; v < n; v++) {
            forest.add(new ArrayList<>(2));
        }
        for (int w = 0; w < g.from.length; w++) {
            int a = g.from[w], b = g.to[w];
            if (g.endsLoops[a] || g.endsLoops[b]) {
                continue;
            }
            int ra = find(parent, a), rb = find(parent, b);
            if (ra == rb) {
                return g.names(canonical(forestPath(forest, a, b)));
            }
            parent[ra] = rb;
            forest.get(a).add(b);
            forest.get(b).add(a);
        }
        return null;
    }

    /**
     * The loop through the nodes of {@code ring} (each joined to the next, the last to the first),
     * starting at its first instance in topology order and going on to the earlier of that one's two
     * neighbours, the start repeated at the end: {@code a -> b -> c -> a}.
     */
    private static List<Integer> canonical(List<Integer> ring) {
        int k = ring.size();
        int at = ring.indexOf(java.util.Collections.min(ring));
        List<Integer> out = new ArrayList<>(k + 1);
        boolean forward = ring.get((at + 1) % k) <= ring.get((at - 1 + k) % k);
        for (int i = 0; i < k; i++) {
            out.add(ring.get(forward ? (at + i) % k : (at - i + k) % k));
        }
        out.add(out.getFirst());
        return out;
    }

    private static int find(int[] parent, int v) {
        while (parent[v] != v) {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        return v;
    }

    /** The path from a to b in the forest (they are in one tree of it). */
    private static List<Integer> forestPath(List<List<Integer>> forest, int a, int b) {
        int[] prev = new int[forest.size()];
        Arrays.fill(prev, -1);
        prev[a] = a;
        IntQueue queue = new IntQueue(forest.size());
        queue.add(a);
        while (!queue.isEmpty() && prev[b] < 0) {
            int v = queue.poll();
            for (int u : forest.get(v)) {
                if (prev[u] < 0) {
                    prev[u] = v;
                    queue.add(u);
                }
            }
        }
        List<Integer> path = new ArrayList<>();
        for (int v = b; v != a; v = prev[v]) {
            path.add(v);
        }
        path.add(a);
        return path.reversed();
    }

    // ---- path lengths ----------------------------------------------------------------------------

    /** The longest shortest path over every component, oriented from its lower-indexed end. */
    private static List<String> longestShortestPath(Indexed g) {
        int n = g.size();
        int[] component = new int[n];
        Arrays.fill(component, -1);
        int[] dist = new int[n];
        int[] prev = new int[n];
        IntQueue queue = new IntQueue(n);
        List<Integer> best = List.of();
        for (int s = 0; s < n; s++) {
            if (component[s] >= 0) {
                continue;
            }
            // The component of s, in BFS order; a first pass from s also gives a tree's farthest node.
            List<Integer> members = new ArrayList<>();
            bfs(g, s, dist, prev, queue, members);
            int endpointDegrees = 0;
            for (int v : members) {
                component[v] = s;
                endpointDegrees += g.start[v + 1] - g.start[v];
            }
            boolean tree = endpointDegrees / 2 == members.size() - 1;
            List<Integer> longest;
            if (tree) {
                int a = farthest(members, dist);
                bfs(g, a, dist, prev, queue, null);
                longest = pathTo(prev, a, farthest(members, dist));
            } else {
                longest = List.of(s);
                for (int a : members) {
                    bfs(g, a, dist, prev, queue, null);
                    int b = farthest(members, dist);
                    if (dist[b] + 1 > longest.size()) {
                        longest = pathTo(prev, a, b);
                    }
                }
            }
            if (longest.size() > best.size()) {
                best = longest.getFirst() <= longest.getLast() ? longest : longest.reversed();
            }
        }
        return g.names(best);
    }

    /** Breadth-first from s: dist and prev for the nodes reached (others are left as they were). */
    private static void bfs(Indexed g, int s, int[] dist, int[] prev, IntQueue queue, List<Integer> reached) {
        // Marks are reset for the nodes of this component only, so one pass costs O(its size).
        queue.clear();
        dist[s] = 0;
        prev[s] = s;
        queue.add(s);
        int stamp = ++queue.epoch;
        queue.seen(s, stamp);
        while (!queue.isEmpty()) {
            int v = queue.poll();
            if (reached != null) {
                reached.add(v);
            }
            for (int i = g.start[v]; i < g.start[v + 1]; i++) {
                int u = g.adj[i];
                if (!queue.seen(u, stamp)) {
                    dist[u] = dist[v] + 1;
                    prev[u] = v;
                    queue.add(u);
                }
            }
        }
    }

    /** The member at the greatest distance, the first such in members' order. */
    private static int farthest(List<Integer> members, int[] dist) {
        int best = members.getFirst();
        for (int v : members) {
            if (dist[v] > dist[best]) {
                best = v;
            }
        }
        return best;
    }

    private static List<Integer> pathTo(int[] prev, int a, int b) {
        List<Integer> path = new ArrayList<>();
        for (int v = b; v != a; v = prev[v]) {
            path.add(v);
        }
        path.add(a);
        return path.reversed();
    }

    /** A FIFO of ints over a fixed array, with visit stamps so that a pass needs no clearing. */
    private static final class IntQueue {
        private final int[] items;
        private final int[] stamps;
        private int head;
        private int tail;
        int epoch;

        IntQueue(int capacity) {
            items = new int[Math.max(capacity, 1)];
            stamps = new int[Math.max(capacity, 1)];
        }

        void clear() {
            head = 0;
            tail = 0;
        }

        void add(int v) {
            items[tail++] = v; // each node enters once per pass, so the array never overflows
        }

        int poll() {
            return items[head++];
        }

        boolean isEmpty() {
            return head == tail;
        }

        /** True when v was already seen in pass {@code stamp}; marks it seen. */
        boolean seen(int v, int stamp) {
            if (stamps[v] == stamp) {
                return true;
            }
            stamps[v] = stamp;
            return false;
        }
    }
}

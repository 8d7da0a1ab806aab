package io.jvisor.bench;

import io.jvisor.engine.Forwarding;
import io.jvisor.engine.InstanceGraph;
import io.jvisor.engine.PathCheck;
import io.jvisor.engine.Sdk;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The planner's loop and path-length check ({@link PathCheck#verdict}) on large topologies, no
 * kernel: a full mesh of 30 routers, a chain of 1,000 bridges (refused: too long), and the largest
 * graph an engine can hold, 1,024 routers with every one of their 32 ports wired (a ring plus random
 * wires, 16,384 in all), where the check runs one breadth-first pass per instance.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@State(Scope.Thread)
public class PathCheckBench {
    /** The topology's shape. */
    @Param({"mesh30", "chain1000", "routers1024"})
    public String shape;

    private InstanceGraph graph;

    @Setup
    public void setUp() {
        graph = switch (shape) {
            case "mesh30" -> mesh(30);
            case "chain1000" -> chain(1000);
            case "routers1024" -> wiredRouters(Sdk.MAX_SLOTS, Sdk.MAX_PORTS);
            default -> throw new IllegalArgumentException(shape);
        };
    }

    @Benchmark
    public PathCheck.Verdict verdict() {
        return PathCheck.verdict(graph);
    }

    static InstanceGraph mesh(int n) {
        Map<String, Forwarding> instances = new LinkedHashMap<>();
        List<InstanceGraph.Wire> wires = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            instances.put("r" + i, Forwarding.L3);
            for (int j = 0; j < i; j++) {
                wires.add(new InstanceGraph.Wire("r" + j, "r" + i));
            }
        }
        return new InstanceGraph(instances, wires);
    }

    static InstanceGraph chain(int n) {
        Map<String, Forwarding> instances = new LinkedHashMap<>();
        List<InstanceGraph.Wire> wires = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            instances.put("b" + i, Forwarding.L2);
            if (i > 0) {
                wires.add(new InstanceGraph.Wire("b" + (i - 1), "b" + i));
            }
        }
        return new InstanceGraph(instances, wires);
    }

    /** n routers in a ring, then random wires between routers with free ports until none is left. */
    static InstanceGraph wiredRouters(int n, int ports) {
        Map<String, Forwarding> instances = new LinkedHashMap<>();
        List<InstanceGraph.Wire> wires = new ArrayList<>();
        int[] used = new int[n];
        for (int i = 0; i < n; i++) {
            instances.put("r" + i, Forwarding.L3);
            wires.add(new InstanceGraph.Wire("r" + i, "r" + (i + 1) % n));
            used[i] += 2;
        }
        Random rnd = new Random(1);
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int p = used[i]; p < ports; p++) {
                free.add(i);
            }
        }
        java.util.Collections.shuffle(free, rnd);
        for (int k = 0; k + 1 < free.size(); k += 2) {
            wires.add(new InstanceGraph.Wire("r" + free.get(k), "r" + free.get(k + 1)));
        }
        return new InstanceGraph(instances, wires);
    }
}

package io.jvisor.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The instances of a topology and the wires between them, as {@link PathCheck} sees them: an
 * undirected multigraph. Devices are not in it (a packet enters from a device into one instance and
 * leaves to a device from one), and neither are ports: two wires between the same two instances are
 * two edges, and a wire between two ports of one instance is a loop on it.
 *
 * @param instances each instance's name and how its type forwards, in the topology's order (which
 *     makes the paths named in errors deterministic)
 * @param wires the connections between two instance ports, by instance name
 */
public record InstanceGraph(Map<String, Forwarding> instances, List<Wire> wires) {
    /** A connection between a port of instance {@code a} and a port of instance {@code b}. */
    public record Wire(String a, String b) {
        public Wire {
            Objects.requireNonNull(a, "a");
            Objects.requireNonNull(b, "b");
        }
    }

    /**
     * @throws IllegalArgumentException when a wire names an instance the graph does not have
     */
    public InstanceGraph {
        instances = Collections.unmodifiableMap(new LinkedHashMap<>(instances));
        wires = List.copyOf(wires);
        for (Wire w : wires) {
            for (String end : List.of(w.a(), w.b())) {
                if (!instances.containsKey(end)) {
                    throw new IllegalArgumentException("wire " + w.a() + " -- " + w.b() + ": no instance named '"
                            + end + "'");
                }
            }
        }
        instances.values().forEach(f -> Objects.requireNonNull(f, "forwarding"));
    }

    /**
     * The graph of a topology whose instances and connections are already checked (unique names,
     * known types, ports in range).
     *
     * @param forwardingOfType how each instance's module type forwards, by type name
     */
    public static InstanceGraph of(Topology topology, Function<String, Forwarding> forwardingOfType) {
        Map<String, Forwarding> instances = new LinkedHashMap<>();
        for (Topology.Instance i : topology.instances()) {
            instances.put(i.name(), forwardingOfType.apply(i.type()));
        }
        List<Wire> wires = new ArrayList<>();
        for (Topology.Connection c : topology.connections()) {
            if (c.b() instanceof Endpoint.Port p) {
                wires.add(new Wire(c.a().instance(), p.instance()));
            }
        }
        return new InstanceGraph(instances, wires);
    }
}

package io.jvisor.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A desired topology: named instances of module types and the connections between their ports and
 * devices. Immutable; {@link Engine#apply(Topology)} makes the kernel match it.
 *
 * @param instances the instances
 * @param connections the wires; each endpoint appears in at most one
 */
public record Topology(List<Instance> instances, List<Connection> connections) {
    /**
     * An instance of a module type.
     *
     * @param name unique name, 1-32 of {@code [A-Za-z0-9_-]}
     * @param type the module type name
     * @param config the instance's configuration
     */
    public record Instance(String name, String type, Map<String, String> config) {
        public Instance {
            config = config == null ? Map.of() : Map.copyOf(new TreeMap<>(config));
        }
    }

    /**
     * A wire from an instance's port to another instance's port or to a device.
     *
     * @param a the instance port
     * @param b the other end
     */
    public record Connection(Endpoint.Port a, Endpoint b) {
        @Override
        public String toString() {
            return a + " -- " + b;
        }
    }

    public Topology {
        instances = List.copyOf(instances);
        connections = List.copyOf(connections);
    }

    /** The empty topology. */
    public static final Topology EMPTY = new Topology(List.of(), List.of());

    /** A builder, for topologies written in Java. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Topology}. */
    public static final class Builder {
        private final List<Instance> instances = new ArrayList<>();
        private final List<Connection> connections = new ArrayList<>();

        /** Adds an instance with no configuration. */
        public Builder instance(String name, String type) {
            return instance(name, type, Map.of());
        }

        /** Adds an instance. */
        public Builder instance(String name, String type, Map<String, String> config) {
            instances.add(new Instance(name, type, config));
            return this;
        }

        /** Connects two endpoints written as {@code inst:port} or {@code dev:[netns/]name}. */
        public Builder connect(String a, String b) {
            Endpoint ea = Endpoint.parse(a);
            Endpoint eb = Endpoint.parse(b);
            if (ea instanceof Endpoint.Port p) {
                connections.add(new Connection(p, eb));
            } else if (eb instanceof Endpoint.Port p) {
                connections.add(new Connection(p, ea));
            } else {
                throw new IllegalArgumentException("a connection needs at least one instance port: " + a + " -- " + b);
            }
            return this;
        }

        /** The topology. */
        public Topology build() {
            return new Topology(instances, connections);
        }
    }

    /** The instance named {@code name}, or null. */
    public Instance instance(String name) {
        for (Instance i : instances) {
            if (i.name().equals(name)) {
                return i;
            }
        }
        return null;
    }
}

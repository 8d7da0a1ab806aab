package io.jvisor.server;

import io.jvisor.engine.Endpoint;
import io.jvisor.engine.Engine;
import io.jvisor.engine.PortStats;
import io.jvisor.engine.Topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The engine's counters, per instance and connected port, read from the kernel. */
public final class Counters {
    private Counters() {}

    /**
     * One port's counters.
     *
     * @param instance the instance
     * @param port the port
     * @param peer what the port is connected to
     * @param rxPackets packets in
     * @param rxBytes bytes in
     * @param txPackets packets out
     * @param txBytes bytes out
     */
    public record PortRow(String instance, int port, String peer, long rxPackets, long rxBytes, long txPackets,
                          long txBytes) {}

    /**
     * One instance's counters.
     *
     * @param instance the instance
     * @param type its module type
     * @param ports its connected ports
     * @param drops drops by reason
     * @param missedTailCalls packets that fell through a failed tail call into it
     */
    public record InstanceRow(String instance, String type, List<PortRow> ports, Map<String, Long> drops,
                              long missedTailCalls) {}

    /** Every instance of the engine's topology, with its connected ports. */
    public static List<InstanceRow> read(Engine engine) {
        Topology t = engine.topology();
        Map<String, Map<Integer, String>> peers = new LinkedHashMap<>();
        for (Topology.Connection c : t.connections()) {
            peers.computeIfAbsent(c.a().instance(), k -> new TreeMap<>()).put(c.a().port(), c.b().toString());
            if (c.b() instanceof Endpoint.Port p) {
                peers.computeIfAbsent(p.instance(), k -> new TreeMap<>()).put(p.port(), c.a().toString());
            }
        }
        List<InstanceRow> out = new ArrayList<>();
        for (Topology.Instance i : t.instances()) {
            out.add(read(engine, i, peers.getOrDefault(i.name(), Map.of())));
        }
        return out;
    }

    /** One instance, or null when there is no such instance. */
    public static InstanceRow read(Engine engine, String instance) {
        for (InstanceRow r : read(engine)) {
            if (r.instance().equals(instance)) {
                return r;
            }
        }
        return null;
    }

    private static InstanceRow read(Engine engine, Topology.Instance i, Map<Integer, String> peers) {
        List<PortRow> ports = new ArrayList<>();
        for (var e : peers.entrySet()) {
            PortStats s = engine.stats(i.name(), e.getKey());
            ports.add(new PortRow(i.name(), e.getKey(), e.getValue(), s.rxPackets(), s.rxBytes(), s.txPackets(),
                    s.txBytes()));
        }
        return new InstanceRow(i.name(), i.type(), ports, engine.drops(i.name()), engine.missedTailCalls(i.name()));
    }
}

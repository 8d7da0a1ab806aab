package io.jvisor.engine;

import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The engine's books: what runs in the kernel now, by name, by slot and by port. Changed only
 * under the engine's lock, by the executor (inside a transaction) and by adoption; the slow path
 * reads {@link #bySlot} without the lock.
 */
final class LiveState {
    final Map<String, LiveInstance> instances = new LinkedHashMap<>();
    final Map<Integer, LiveInstance> bySlot = new ConcurrentHashMap<>();
    final Map<Endpoint.Port, Endpoint> peers = new HashMap<>();
    final Map<Endpoint.Device, LiveDevice> devices = new HashMap<>();
    final BitSet slots = new BitSet(Sdk.MAX_SLOTS);
    Topology current = Topology.EMPTY;

    void add(LiveInstance li) {
        instances.put(li.name, li);
        bySlot.put(li.slot, li);
    }

    void remove(LiveInstance li) {
        instances.remove(li.name);
        bySlot.remove(li.slot);
    }

    /** @throws TopologyException when there is no such instance */
    LiveInstance live(String instance) {
        LiveInstance li = instances.get(instance);
        if (li == null) {
            throw new TopologyException("instance '" + instance + "'", "no such instance");
        }
        return li;
    }

    /** What the planner needs to know of the live state, as plain values. */
    LiveView view() {
        Map<String, LiveView.InstanceView> iv = new LinkedHashMap<>();
        for (LiveInstance li : instances.values()) {
            iv.put(li.name, new LiveView.InstanceView(li.type, li.code.hash(), li.config));
        }
        Map<Endpoint.Device, Endpoint.Port> dv = new LinkedHashMap<>();
        for (var e : devices.entrySet()) {
            dv.put(e.getKey(), e.getValue().target);
        }
        return new LiveView(Collections.unmodifiableMap(iv), Map.copyOf(peers), Collections.unmodifiableMap(dv),
                slots.cardinality());
    }
}

package io.jvisor.engine;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validation and planning, pure: a desired {@link Topology} and the {@link LiveView} in, a
 * {@link Plan} out. The only outside facts it asks for come through two small interfaces, a
 * device's ifindex and whether a module's map sizes fit its code, so that it runs without root.
 */
final class Planner {
    /**
     * Looks up a device the live state does not know yet (the engine passes one apply's
     * {@link DeviceDirectory}, which keeps the answer for the executor).
     */
    @FunctionalInterface
    interface DeviceResolver {
        /** @throws TopologyException naming element when there is no such device */
        int ifindex(Endpoint.Device device, String element);
    }

    /** Checks that a module type's map sizes name maps of its own code. */
    @FunctionalInterface
    interface SizeCheck {
        /** @throws TopologyException naming element when they do not */
        void check(ModuleType type, Map<String, Integer> sizes, String element);
    }

    private final ModuleCatalog catalog;
    private final SizeCheck sizeCheck;

    Planner(ModuleCatalog catalog, SizeCheck sizeCheck) {
        this.catalog = catalog;
        this.sizeCheck = sizeCheck;
    }

    /**
     * What it takes to go from live to desired, in the order the executor must apply it: new and
     * swapped code first, new instances wired before anything leads into them, detaches and
     * deletes last. Every device it attaches that the live state does not have is looked up
     * through devices.
     *
     * @throws TopologyException naming the element at fault when desired is invalid
     */
    Plan plan(Topology desired, LiveView live, DeviceResolver devices) {
        Validated r = validate(desired, live, devices);
        List<Plan.Change> creates = new ArrayList<>();
        List<Plan.Change> swaps = new ArrayList<>();
        List<Plan.Change> reconfigs = new ArrayList<>();
        List<Plan.Change> deletes = new ArrayList<>();
        Set<String> fresh = new HashSet<>();
        for (Topology.Instance i : desired.instances()) {
            LiveView.InstanceView li = live.instances().get(i.name());
            ModuleType type = catalog.get(i.type());
            if (li == null) {
                creates.add(new Plan.CreateInstance(i.name(), i.type(), type.code().hash()));
                fresh.add(i.name());
            } else {
                if (!li.type().equals(i.type()) || !li.codeHash().equals(type.code().hash())) {
                    swaps.add(new Plan.SwapInstance(i.name(), i.type(), li.codeHash(), type.code().hash()));
                }
                if (!li.config().equals(i.config())) {
                    reconfigs.add(new Plan.Reconfigure(i.name()));
                }
            }
        }
        for (String name : live.instances().keySet()) {
            if (desired.instance(name) == null) {
                deletes.add(new Plan.DeleteInstance(name));
            }
        }
        List<Plan.Change> setsFresh = new ArrayList<>();
        List<Plan.Change> sets = new ArrayList<>();
        List<Plan.Change> clears = new ArrayList<>();
        for (var e : r.peers.entrySet()) {
            Endpoint old = live.peers().get(e.getKey());
            if (!e.getValue().equals(old)) {
                Plan.SetPeer s = new Plan.SetPeer(e.getKey(), e.getValue(), old);
                (fresh.contains(e.getKey().instance()) ? setsFresh : sets).add(s);
            }
        }
        for (var e : live.peers().entrySet()) {
            if (!r.peers.containsKey(e.getKey())) {
                clears.add(new Plan.ClearPeer(e.getKey(), e.getValue()));
            }
        }
        List<Plan.Change> attaches = new ArrayList<>();
        List<Plan.Change> detaches = new ArrayList<>();
        for (var e : r.devices.entrySet()) {
            Endpoint.Port old = live.devices().get(e.getKey());
            if (!e.getValue().equals(old)) {
                attaches.add(new Plan.AttachDevice(e.getKey(), e.getValue(), old));
            }
        }
        for (var e : live.devices().entrySet()) {
            if (!r.devices.containsKey(e.getKey())) {
                detaches.add(new Plan.DetachDevice(e.getKey(), e.getValue()));
            }
        }
        List<Plan.Change> all = new ArrayList<>();
        all.addAll(creates);
        all.addAll(swaps);
        all.addAll(reconfigs);
        all.addAll(setsFresh); // new instances are wired before anything leads into them
        all.addAll(sets);
        all.addAll(attaches);
        all.addAll(detaches);
        all.addAll(clears);
        all.addAll(deletes);
        return new Plan(all);
    }

    private record Validated(Map<Endpoint.Port, Endpoint> peers, Map<Endpoint.Device, Endpoint.Port> devices) {}

    private Validated validate(Topology t, LiveView live, DeviceResolver resolver) {
        Map<String, Topology.Instance> byName = new LinkedHashMap<>();
        for (Topology.Instance i : t.instances()) {
            String el = "instance '" + i.name() + "'";
            if (i.name() == null || !i.name().matches("[A-Za-z0-9_-]{1,32}")) {
                throw new TopologyException(el, "the name must be 1-32 of [A-Za-z0-9_-]");
            }
            if (byName.put(i.name(), i) != null) {
                throw new TopologyException(el, "defined twice");
            }
            ModuleType type = catalog.get(i.type());
            if (type == null) {
                throw new TopologyException(el, "unknown module type '" + i.type() + "' (known: "
                        + catalog.all().keySet() + ")");
            }
            String bad = type.validateConfig(i.config());
            if (bad != null) {
                throw new TopologyException(el + " config", bad);
            }
            Map<String, Integer> sizes;
            try {
                sizes = type.mapSizes(i.config());
            } catch (RuntimeException e) {
                throw new TopologyException(el + " config", "its map sizes: " + e.getMessage(), e);
            }
            if (!sizes.isEmpty()) {
                sizeCheck.check(type, sizes, el); // refuses a size of a map the module lacks
            }
        }
        long newOnes = t.instances().stream().filter(i -> !live.instances().containsKey(i.name())).count();
        long freed = live.instances().keySet().stream().filter(n -> !byName.containsKey(n)).count();
        if (live.usedSlots() - freed + newOnes > Sdk.MAX_SLOTS) {
            throw new TopologyException("topology", "more than " + Sdk.MAX_SLOTS + " instances");
        }
        Map<Endpoint.Port, Endpoint> peerMap = new LinkedHashMap<>();
        Map<Endpoint.Device, Endpoint.Port> deviceMap = new LinkedHashMap<>();
        Set<Endpoint> used = new HashSet<>();
        for (Topology.Connection c : t.connections()) {
            String el = "connection " + c;
            for (Endpoint e : List.of(c.a(), c.b())) {
                if (e instanceof Endpoint.Port p) {
                    Topology.Instance inst = byName.get(p.instance());
                    if (inst == null) {
                        throw new TopologyException(el, "no instance named '" + p.instance() + "'");
                    }
                    int ports = catalog.get(inst.type()).ports();
                    if (p.port() >= ports) {
                        throw new TopologyException(el, p.instance() + " (" + inst.type() + ") has ports 0.."
                                + (ports - 1) + ", not " + p.port());
                    }
                }
                if (!used.add(e)) {
                    throw new TopologyException(el, e + " is connected twice");
                }
            }
            if (c.b() instanceof Endpoint.Port p) {
                if (p.equals(c.a())) {
                    throw new TopologyException(el, "a port cannot be connected to itself");
                }
                peerMap.put(c.a(), p);
                peerMap.put(p, c.a());
            } else {
                Endpoint.Device d = (Endpoint.Device) c.b();
                peerMap.put(c.a(), d);
                deviceMap.put(d, c.a());
            }
        }
        // loops that no TTL ends, and paths longer than the kernel's tail-call limit
        PathCheck.check(InstanceGraph.of(t, type -> catalog.get(type).forwarding()));
        for (Endpoint.Device d : deviceMap.keySet()) {
            if (!live.devices().containsKey(d)) {
                resolver.ifindex(d, "connection " + deviceMap.get(d) + " -- " + d); // it must exist
            }
        }
        return new Validated(peerMap, deviceMap);
    }
}

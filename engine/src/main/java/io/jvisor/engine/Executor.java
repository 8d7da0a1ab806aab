package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.elf.CollectionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a {@link Plan} in one {@link Transaction}: every change to the kernel and to the books
 * registers its undo, the new state is saved last, and on any failure everything is undone, so the
 * kernel, the books and the saved state are exactly as before. Runs under the engine's lock.
 */
final class Executor {
    private final EngineOptions options;
    private final ModuleCatalog catalog;
    private final LiveState state;
    private final CodeCache code;
    private final ModuleLoader loader;
    private final SharedMaps shared;
    private final PatchPanel panel;
    private final DeviceAttacher devices;
    private final Persistence persistence;
    private final HookSettings settings;
    private final LiveInstance.PortTransmitter transmitter;

    Executor(EngineOptions options, ModuleCatalog catalog, LiveState state, CodeCache code, ModuleLoader loader,
             SharedMaps shared, PatchPanel panel, DeviceAttacher devices, Persistence persistence,
             HookSettings settings, LiveInstance.PortTransmitter transmitter) {
        this.options = options;
        this.catalog = catalog;
        this.state = state;
        this.code = code;
        this.loader = loader;
        this.shared = shared;
        this.panel = panel;
        this.devices = devices;
        this.persistence = persistence;
        this.settings = settings;
        this.transmitter = transmitter;
    }

    /**
     * Makes the kernel match desired by applying plan, all of it or none of it; the control planes
     * of new instances start after the commit. Devices are looked up through directory, which the
     * planner filled.
     *
     * @throws TopologyException naming the element at fault, after the rollback
     */
    void apply(Plan plan, Topology desired, DeviceDirectory directory) {
        Transaction tx = new Transaction();
        Run run = new Run(desired, tx, directory);
        long creates = plan.changes().stream().filter(c -> c instanceof Plan.CreateInstance).count();
        try (ParallelLoads loads = new ParallelLoads(ParallelLoads.threadsFor((int) creates), options.name())) {
            run.loadAhead(plan, loads);
            for (Plan.Change c : plan.changes()) {
                run.execute(c);
            }
            Topology before = state.current;
            state.current = desired;
            tx.onUndo(() -> state.current = before);
            persistence.save(state, settings);
        } catch (RuntimeException e) {
            tx.rollback();
            if (e instanceof TopologyException te) {
                throw te;
            }
            throw new TopologyException("apply", e.getMessage(), e);
        }
        tx.commit();
        run.started.forEach(LiveInstance::startControlPlane);
    }

    /** One apply's steps, sharing its transaction and the devices the planner looked up. */
    private final class Run {
        final Topology desired;
        final Transaction tx;
        final DeviceDirectory directory;
        final List<LiveInstance> started = new ArrayList<>();
        /** The slots of the new instances, chosen before their code is loaded ahead. */
        final Map<String, Integer> slotOf = new HashMap<>();
        /** The instances this apply deletes. */
        final Set<String> deleting = new HashSet<>();
        ParallelLoads loads;

        Run(Topology desired, Transaction tx, DeviceDirectory directory) {
            this.desired = desired;
            this.tx = tx;
            this.directory = directory;
        }

        void execute(Plan.Change change) {
            switch (change) {
                case Plan.CreateInstance c -> started.add(create(desired.instance(c.name())));
                case Plan.SwapInstance s -> reload(state.instances.get(s.name()), catalog.get(s.type()).code(),
                        s.type(), catalog.get(s.type()).mapSizes(desired.instance(s.name()).config()));
                case Plan.Reconfigure r -> reconfigure(state.instances.get(r.name()), desired.instance(r.name()));
                case Plan.SetPeer s -> setPeer(s.port(), s.peer());
                case Plan.ClearPeer c -> clearPeer(c.port());
                case Plan.AttachDevice a -> attach(a.device(), a.port());
                case Plan.DetachDevice d -> detach(d.device());
                case Plan.DeleteInstance d -> delete(state.instances.get(d.name()));
            }
        }

        /**
         * Notes the instances the plan deletes, gives every new instance its slot, in plan order, and
         * starts compiling (once per distinct
         * code, see CodeCache) and loading its code into it on the loader threads; create takes the
         * result when it comes to the instance, so a failure is reported for the first instance in
         * plan order that failed.
         */
        void loadAhead(Plan plan, ParallelLoads ahead) {
            this.loads = ahead;
            for (Plan.Change c : plan.changes()) {
                if (c instanceof Plan.DeleteInstance d) {
                    deleting.add(d.name());
                }
                if (c instanceof Plan.CreateInstance ci) {
                    Topology.Instance spec = desired.instance(ci.name());
                    String el = "instance '" + spec.name() + "'";
                    ModuleType type = catalog.get(spec.type());
                    int slot = state.slots.nextClearBit(0);
                    state.slots.set(slot);
                    tx.onUndo(() -> state.slots.clear(slot));
                    slotOf.put(spec.name(), slot);
                    Map<String, Integer> sizes = type.mapSizes(spec.config());
                    ahead.submit(spec.name(), () -> loader.load(type.code(), sizes, slot, Map.of(), el));
                }
            }
        }

        LiveInstance create(Topology.Instance spec) {
            ModuleType type = catalog.get(spec.type());
            int slot = slotOf.get(spec.name());
            ModuleLoader.Loaded loaded = loads.take(spec.name());
            LiveInstance li = new LiveInstance(transmitter, spec.name(), spec.type(), type.code(), slot, spec.config(),
                    loaded.maps(), loaded.program(), type.handler(spec.config()));
            tx.onUndo(li::closeFds);
            shared.resetSlot(slot);
            Path dir = persistence.pins().instance(spec.name());
            pinInstance(li, dir);
            tx.onUndo(() -> PinLayout.deleteTree(dir));
            panel.setProgram(slot, li.program);
            tx.onUndo(() -> panel.clearProgram(slot));
            panel.setFloodDevices(slot, li.maps.get(Sdk.FLOOD_DEVS_MAP));
            tx.onUndo(() -> panel.setFloodDevices(slot, null));
            state.add(li);
            tx.onUndo(() -> state.remove(li));
            return li;
        }

        /**
         * Loads code into an instance's slot, keeping its maps that the new code has with the same
         * name and shape (sizes applied), and switches the slot to it atomically.
         */
        void reload(LiveInstance li, ModuleCode newCode, String typeName, Map<String, Integer> sizes) {
            String el = "instance '" + li.name + "'";
            CollectionSpec newSpec = CodeCache.sized(code.compile(newCode, el), sizes, el);
            CollectionSpec oldSpec = code.compile(li.code, el);
            Map<String, MapMigration> migrations = catalog.get(typeName) == null ? Map.of()
                    : catalog.get(typeName).mapMigrations();
            // Keep every map whose name, shape and BTF layout the new code shares; a changed layout
            // needs the module's migration for that map, else the swap is refused.
            Map<String, BpfMap> keep = new LinkedHashMap<>();
            Map<String, MapMigration.Convert> converts = new LinkedHashMap<>();
            for (var e : li.maps.entrySet()) {
                String name = e.getKey();
                var om = newSpec.map(name).orElse(null);
                if (om == null) {
                    continue;
                }
                MapSpec s = om.spec();
                BpfMap m = e.getValue();
                boolean sameShape = s.type() == m.type() && s.keySize() == m.keySize() && s.valueSize() == m.valueSize()
                        && s.maxEntries() == m.maxEntries();
                var difference = MapLayoutCheck.difference(name, oldSpec, newSpec);
                if (difference.isEmpty()) {
                    if (sameShape) {
                        keep.put(name, m);
                    }
                    continue;
                }
                switch (migrations.get(name)) {
                    case null -> throw new TopologyException(el, difference.get() + "; the module declares no "
                            + "migration for map '" + name + "' (ModuleType.mapMigrations), so its entries cannot "
                            + "be carried over and the swap is refused");
                    case MapMigration.StartEmpty x -> { } // a new map of that name
                    case MapMigration.KeepBytes x -> {
                        if (!sameShape) {
                            throw new TopologyException(el, difference.get() + "; its migration keeps the bytes, "
                                    + "but the map's type, key size, value size or capacity changed too");
                        }
                        keep.put(name, m);
                    }
                    case MapMigration.Convert c -> converts.put(name, c);
                }
            }
            ModuleLoader.Loaded loaded = loader.load(newCode, sizes, li.slot, keep, el);
            try {
                for (var c : converts.entrySet()) {
                    migrate(c.getKey(), c.getValue(), li.maps.get(c.getKey()), loaded.maps().get(c.getKey()));
                }
            } catch (RuntimeException ex) {
                loaded.program().close();
                loaded.maps().values().stream().filter(m -> !keep.containsValue(m)).forEach(BpfMap::close);
                throw ex;
            }
            BpfProgram oldProgram = li.program;
            Map<String, BpfMap> oldMaps = li.maps;
            ModuleCode oldCode = li.code;
            String oldType = li.type;
            li.program = loaded.program();
            li.maps = loaded.maps();
            li.code = newCode;
            li.type = typeName;
            tx.onUndo(() -> {
                li.program.close();
                li.maps.values().stream().filter(m -> !oldMaps.containsValue(m)).forEach(BpfMap::close);
                li.program = oldProgram;
                li.maps = oldMaps;
                li.code = oldCode;
                li.type = oldType;
            });
            li.handler.migrate(li, oldCode.hash(), newCode.hash());
            // The slot now runs the new code (one atomic step); packets in flight finish on the old.
            panel.setProgram(li.slot, li.program);
            tx.onUndo(() -> panel.setProgram(li.slot, oldProgram));
            // Then every port that leads into it, one atomic entry at a time: until its entry is
            // rewritten, a port's packets still enter the old code, which stays loaded until commit.
            for (Endpoint.Port from : portsInto(li)) {
                LiveInstance a = state.instances.get(from.instance());
                panel.setNext(a, from.port(), li.program);
                tx.onUndo(() -> panel.setNext(a, from.port(), oldProgram));
            }
            if (!keep.containsKey(Sdk.NEXT_MAP)) {
                // new code with a program array of its own: fill it (code kept the old one's entries)
                for (var e : state.peers.entrySet()) {
                    BpfProgram next = nextProgram(e.getValue());
                    if (e.getKey().instance().equals(li.name) && next != null) {
                        panel.setNext(li, e.getKey().port(), next);
                    }
                }
            }
            BpfMap oldFloodDevs = oldMaps.get(Sdk.FLOOD_DEVS_MAP);
            panel.setFloodDevices(li.slot, li.maps.get(Sdk.FLOOD_DEVS_MAP));
            tx.onUndo(() -> panel.setFloodDevices(li.slot, oldFloodDevs));
            Path dir = persistence.pins().instance(li.name);
            tx.onCommit(() -> {
                pinInstance(li, dir);
                oldProgram.close();
                oldMaps.values().stream().filter(m -> !li.maps.containsValue(m)).forEach(BpfMap::close);
            });
        }

        void reconfigure(LiveInstance li, Topology.Instance spec) {
            Map<String, String> old = li.config;
            ModuleHandler oldHandler = li.handler;
            ModuleType type = catalog.get(spec.type());
            li.config = spec.config();
            li.handler = type.handler(spec.config());
            tx.onUndo(() -> {
                li.config = old;
                li.handler = oldHandler;
            });
            // A map cannot be resized in place: a changed size reloads the code with a new map of that size.
            Map<String, Integer> sizes = type.mapSizes(spec.config());
            String el = "instance '" + li.name + "'";
            CollectionSpec want = CodeCache.sized(code.compile(li.code, el), sizes, el);
            // Only maps the type sizes, now or in the old configuration: the kernel adjusts the size of some
            // map types by itself (perf event arrays, per-CPU LRU), and those must not cause a reload.
            Set<String> named = new HashSet<>(sizes.keySet());
            try {
                named.addAll(type.mapSizes(old).keySet());
            } catch (RuntimeException e) {
                // the old configuration was another type's: only the new sizes count
            }
            boolean resized = li.maps.entrySet().stream().anyMatch(e -> named.contains(e.getKey())
                    && want.map(e.getKey()).map(om -> om.spec().maxEntries() != e.getValue().maxEntries()).orElse(false));
            if (resized) {
                reload(li, li.code, li.type, sizes);
            }
            tx.onCommit(() -> {
                try {
                    oldHandler.onStop(li);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(Executor.class).warn("instance '{}' failed to stop", li.name, e);
                }
                li.startControlPlane();
            });
        }

        /** The program a port wired to peer enters directly: the peer instance's, or none. */
        BpfProgram nextProgram(Endpoint peer) {
            return peer instanceof Endpoint.Port p && state.instances.get(p.instance()) instanceof LiveInstance to
                    ? to.program : null;
        }

        /** The instance ports wired into li. */
        List<Endpoint.Port> portsInto(LiveInstance li) {
            List<Endpoint.Port> out = new ArrayList<>();
            for (var e : state.peers.entrySet()) {
                if (e.getValue() instanceof Endpoint.Port p && p.instance().equals(li.name)
                        && state.instances.containsKey(e.getKey().instance())) {
                    out.add(e.getKey());
                }
            }
            return out;
        }

        /** Empties port's direct-jump entry: its packets take the patch panel, as jv_ports says. */
        void unlinkNext(LiveInstance li, Endpoint.Port port, Endpoint before) {
            BpfProgram oldNext = nextProgram(before);
            if (oldNext != null) {
                panel.setNext(li, port.port(), null);
                tx.onUndo(() -> panel.setNext(li, port.port(), oldNext));
            }
        }

        void setPeer(Endpoint.Port port, Endpoint peer) {
            LiveInstance li = state.instances.get(port.instance());
            PeerCodec.Peer old = panel.peer(li.slot, port.port());
            PeerCodec.Peer value = switch (peer) {
                case Endpoint.Port p -> new PeerCodec.Instance(state.instances.get(p.instance()).slot, p.port());
                case Endpoint.Device d -> devices.devicePeer(d, ifindex(d), directory);
            };
            // the order that keeps every packet on a consistent path: see PatchPanel
            unlinkNext(li, port, state.peers.get(port));
            panel.setPeer(li.slot, port.port(), value);
            tx.onUndo(() -> panel.setPeer(li.slot, port.port(), old));
            BpfProgram next = nextProgram(peer);
            if (next != null) {
                panel.setNext(li, port.port(), next);
                tx.onUndo(() -> panel.setNext(li, port.port(), null));
            }
            setFloodDevice(li, port.port(), peer instanceof Endpoint.Device d ? d : null,
                    state.peers.get(port) instanceof Endpoint.Device d ? d : null);
            Endpoint before = state.peers.put(port, peer);
            tx.onUndo(() -> {
                if (before == null) {
                    state.peers.remove(port);
                } else {
                    state.peers.put(port, before);
                }
            });
        }

        void clearPeer(Endpoint.Port port) {
            LiveInstance li = state.instances.get(port.instance());
            Endpoint before = state.peers.remove(port);
            tx.onUndo(() -> state.peers.put(port, before));
            if (li == null || deleting.contains(li.name)) {
                // An instance this apply deletes keeps its wiring until its slot is vacated at commit:
                // emptying its jv_next entries would wait an RCU grace period each (the kernel
                // unpatches a direct jump only after one), for a program that is about to go.
                return;
            }
            unlinkNext(li, port, before);
            PeerCodec.Peer old = panel.peer(li.slot, port.port());
            panel.setPeer(li.slot, port.port(), PeerCodec.Peer.NONE);
            tx.onUndo(() -> panel.setPeer(li.slot, port.port(), old));
            setFloodDevice(li, port.port(), null, before instanceof Endpoint.Device d ? d : null);
        }

        /**
         * XDP floods with one devmap broadcast over the instance's device ports (jv_flood_devs, keyed by
         * port); tc floods from jv_ports and needs nothing here.
         */
        void setFloodDevice(LiveInstance li, int port, Endpoint.Device device, Endpoint.Device previous) {
            BpfMap flood = li.maps.get(Sdk.FLOOD_DEVS_MAP);
            if (options.hook() != Hook.XDP || flood == null) {
                return;
            }
            writeFloodDevice(flood, port, device);
            tx.onUndo(() -> writeFloodDevice(flood, port, previous));
        }

        void writeFloodDevice(BpfMap flood, int port, Endpoint.Device device) {
            byte[] key = BpfMapKeys.u32(port);
            if (device == null) {
                flood.delete(key);
            } else {
                // a devmap resolves the ifindex in the namespace of the thread that writes it
                byte[] value = BpfMapKeys.u32(ifindex(device));
                directory.inNamespace(device, () -> {
                    flood.update(key, value);
                    return null;
                });
            }
        }

        int ifindex(Endpoint.Device d) {
            LiveDevice ld = state.devices.get(d);
            if (ld != null) {
                return ld.ifindex;
            }
            return directory.ifindex(d, "device " + d); // looked up by the planner already
        }

        void attach(Endpoint.Device d, Endpoint.Port port) {
            LiveInstance li = state.instances.get(port.instance());
            LiveDevice existing = state.devices.get(d);
            LiveDevice ld = devices.attach(d, existing == null ? ifindex(d) : existing.ifindex, port, li.slot,
                    existing, tx, directory);
            if (existing == null) {
                state.devices.put(d, ld);
                tx.onUndo(() -> state.devices.remove(d));
            }
        }

        void detach(Endpoint.Device d) {
            LiveDevice ld = state.devices.remove(d);
            tx.onUndo(() -> state.devices.put(d, ld));
            devices.detach(ld, tx, directory);
        }

        void delete(LiveInstance li) {
            state.remove(li);
            tx.onUndo(() -> state.add(li));
            tx.onCommit(() -> {
                li.stopControlPlane();
                panel.clearProgram(li.slot);
                panel.setFloodDevices(li.slot, null);
                li.closeFds();
                PinLayout.deleteTree(persistence.pins().instance(li.name));
                state.slots.clear(li.slot);
            });
        }
    }

    /** Fills a new map with the converted entries of the old one, before the new code takes traffic. */
    private static void migrate(String name, MapMigration.Convert migration, BpfMap from, BpfMap to) {
        int valueSize = to.type().isPerCpu() ? io.jvisor.bpf.Cpus.possible() * ((to.valueSize() + 7) / 8 * 8)
                : to.valueSize();
        for (BpfMap.Entry e : MapMigration.convertAll(name, migration, from.lookupBatch(256), to.keySize(), valueSize)) {
            if (to.type().isPerCpu()) {
                to.updatePerCpu(e.key(), splitPerCpu(e.value(), (to.valueSize() + 7) / 8 * 8, to.valueSize()),
                        io.jvisor.bpf.UpdateFlag.ANY);
            } else {
                to.update(e.key(), e.value());
            }
        }
    }

    private static java.util.List<byte[]> splitPerCpu(byte[] all, int stride, int size) {
        java.util.List<byte[]> out = new ArrayList<>();
        for (int off = 0; off + stride <= all.length; off += stride) {
            out.add(java.util.Arrays.copyOfRange(all, off, off + size));
        }
        return out;
    }

    private static void pinInstance(LiveInstance li, Path dir) {
        try {
            PinLayout.deleteTree(dir);
            Files.createDirectories(dir);
        } catch (RuntimeException | IOException e) {
            throw new TopologyException("instance '" + li.name + "'", "cannot pin under " + dir + ": " + e.getMessage());
        }
        li.program.pin(dir.resolve("prog"));
        for (var e : li.maps.entrySet()) {
            e.getValue().pin(dir.resolve(PinLayout.mapFile(e.getKey())));
        }
    }
}

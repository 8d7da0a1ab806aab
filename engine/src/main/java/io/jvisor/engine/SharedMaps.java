package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.UpdateFlag;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectMap;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The framework's maps ({@link Sdk#SHARED_MAPS}), created once per engine from the entry object's
 * definitions, pinned under {@link PinLayout#maps()}, and given to every program the engine loads
 * by name. An engine that starts where they are pinned opens them as they are.
 */
final class SharedMaps implements AutoCloseable {
    private final Map<String, BpfMap> maps;
    private final Hook hook;

    private SharedMaps(Map<String, BpfMap> maps, Hook hook) {
        this.maps = maps;
        this.hook = hook;
    }

    /** Opens the pinned maps under dir, creating (from entrySpec's definitions) and pinning the missing ones. */
    static SharedMaps open(Path dir, CollectionSpec entrySpec, Hook hook) {
        Map<String, BpfMap> maps = new LinkedHashMap<>();
        try {
            for (String name : Sdk.SHARED_MAPS) {
                Path pin = dir.resolve(name);
                BpfMap m;
                if (Files.exists(pin)) {
                    m = BpfMap.openPinned(pin);
                } else {
                    ObjectMap om = entrySpec.map(name).orElseThrow(() -> new IllegalStateException(
                            "the entry program does not define the shared map " + name));
                    m = BpfMap.create(om.spec());
                    try {
                        m.pin(pin);
                    } catch (RuntimeException e) {
                        m.close();
                        throw e;
                    }
                }
                maps.put(name, m);
            }
        } catch (RuntimeException e) {
            maps.values().forEach(BpfMap::close);
            throw e;
        }
        return new SharedMaps(maps, hook);
    }

    /** Every shared map by name, for the loader's replacements. */
    Map<String, BpfMap> all() {
        return Collections.unmodifiableMap(maps);
    }

    BpfMap get(String name) {
        return maps.get(name);
    }

    /** The patch panel of the engine's hook: slot to instance program. */
    BpfMap patch() {
        return maps.get(hook == Hook.TC ? "jv_patch_tc" : "jv_patch_xdp");
    }

    /** The engine-wide programs of the engine's hook ({@link Sdk#SVC_FLOOD}). */
    BpfMap services() {
        return maps.get(hook == Hook.TC ? "jv_svc_tc" : "jv_svc_xdp");
    }

    /** Each instance's {@link Sdk#FLOOD_DEVS_MAP}, by slot (map in map), for the XDP flood program. */
    BpfMap floodDevsOf() {
        return maps.get("jv_flood_devs_of");
    }

    /** Port to peer ({@code struct jv_peer}, see {@link PeerCodec}), keyed by slot * MAX_PORTS + port. */
    BpfMap ports() {
        return maps.get("jv_ports");
    }

    BpfMap stats() {
        return maps.get("jv_stats");
    }

    BpfMap missed() {
        return maps.get("jv_missed");
    }

    BpfMap drops() {
        return maps.get("jv_drops");
    }

    /**
     * Zeroes a slot's port counters, its ports and its missed-tail-call counter, for a new instance:
     * one BPF_MAP_UPDATE_BATCH per map (three syscalls, not one per port and map).
     */
    void resetSlot(int slot) {
        List<byte[]> keys = new ArrayList<>(Sdk.MAX_PORTS);
        for (int p = 0; p < Sdk.MAX_PORTS; p++) {
            keys.add(BpfMapKeys.u32(slot * Sdk.MAX_PORTS + p));
        }
        zero(stats(), keys);
        zero(ports(), keys);
        zero(missed(), List.of(BpfMapKeys.u32(slot)));
    }

    /** Writes zeroes (every CPU's value, for per-CPU maps) under keys. */
    private static void zero(BpfMap map, List<byte[]> keys) {
        byte[] zero = new byte[map.valueStride()];
        map.updateBatch(keys, Collections.nCopies(keys.size(), zero), UpdateFlag.ANY);
    }

    @Override
    public void close() {
        maps.values().forEach(BpfMap::close);
    }
}

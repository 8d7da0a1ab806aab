package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;

/**
 * The engine's wiring in the kernel, typed: which program runs in each slot ({@code jv_patch_tc}
 * or {@code jv_patch_xdp}), what each port leads to ({@code jv_ports}, {@link PeerCodec}), and,
 * for a port that leads to another instance, that instance's program in the sending instance's
 * own program array ({@link Sdk#NEXT_MAP}), which the data plane enters by a direct jump. Each
 * write is one map update, atomic for the packets that read it.
 *
 * <p>An instance sends a packet through its {@code jv_next} entry when there is one, and through
 * the patch panel slot named in {@code jv_ports} when there is none (module.h,
 * jv_call_instance). So a port is rewired by emptying its {@code jv_next} entry first, then
 * writing {@code jv_ports}, then the new entry: at every moment a packet reaches the peer that
 * {@code jv_ports} names, at the port it names.
 */
final class PatchPanel {
    private final SharedMaps maps;

    PatchPanel(SharedMaps maps) {
        this.maps = maps;
    }

    /** Makes slot run program: the next packet into the slot runs it; packets in flight finish on the old. */
    void setProgram(int slot, BpfProgram program) {
        maps.patch().setProgram(slot, program);
    }

    /** Empties slot: packets sent into it now count as missed tail calls. */
    void clearProgram(int slot) {
        maps.patch().delete(BpfMapKeys.u32(slot));
    }

    /** Makes service (an {@link Sdk#SVC_FLOOD}-like key) run program, for every instance. */
    void setService(int service, BpfProgram program) {
        maps.services().setProgram(service, program);
    }

    /** The program that port of from leads to by a direct jump, or empty. */
    java.util.Optional<Integer> nextProgramId(LiveInstance from, int port) {
        BpfMap next = from.maps.get(Sdk.NEXT_MAP);
        return next == null ? java.util.Optional.empty() : next.programId(port);
    }

    /** Makes port of from lead to program by a direct jump; null empties the entry (the panel takes over). */
    void setNext(LiveInstance from, int port, BpfProgram program) {
        BpfMap next = from.maps.get(Sdk.NEXT_MAP);
        if (next == null) {
            return; // code built without it reaches every peer through the panel
        }
        if (program == null) {
            next.delete(BpfMapKeys.u32(port));
        } else {
            next.setProgram(port, program);
        }
    }

    /**
     * Registers devs, an instance's {@link Sdk#FLOOD_DEVS_MAP}, as slot's devices for flooding in
     * XDP; null forgets them.
     */
    void setFloodDevices(int slot, BpfMap devs) {
        if (devs == null) {
            maps.floodDevsOf().delete(BpfMapKeys.u32(slot));
        } else {
            maps.floodDevsOf().setInner(BpfMapKeys.u32(slot), devs);
        }
    }

    /** What port of the instance in slot leads to now. */
    PeerCodec.Peer peer(int slot, int port) {
        return PeerCodec.decode(ports().lookup(key(slot, port)).orElseThrow());
    }

    /** Wires port of the instance in slot to peer. */
    void setPeer(int slot, int port, PeerCodec.Peer peer) {
        ports().update(key(slot, port), PeerCodec.encode(peer));
    }

    private BpfMap ports() {
        return maps.ports();
    }

    private static byte[] key(int slot, int port) {
        return BpfMapKeys.u32(slot * Sdk.MAX_PORTS + port);
    }
}

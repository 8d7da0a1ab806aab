package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;

/**
 * The engine's wiring in the kernel, typed: which program runs in each slot ({@code jv_patch_tc}
 * or {@code jv_patch_xdp}) and what each port leads to ({@code jv_ports}, {@link PeerCodec}). Each
 * write is one map update, atomic for the packets that read it.
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

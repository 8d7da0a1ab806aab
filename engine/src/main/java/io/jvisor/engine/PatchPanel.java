package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;

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
final class PatchPanel implements AutoCloseable {
    private static final int TC_ACT_SHOT = 2;
    private static final int XDP_DROP = 1;

    private final SharedMaps maps;
    private final Hook hook;
    /** The program of emptied slots, loaded when a slot is first emptied. */
    private BpfProgram vacant;

    PatchPanel(SharedMaps maps, Hook hook) {
        this.maps = maps;
        this.hook = hook;
    }

    /** Makes slot run program: the next packet into the slot runs it; packets in flight finish on the old. */
    void setProgram(int slot, BpfProgram program) {
        maps.patch().setProgram(slot, program);
    }

    /**
     * Empties slot: from now on it runs a program that drops everything sent into it. Deleting the
     * slot's element instead would cost an RCU grace period for every program that tail-calls it
     * directly (each device entry of the instance): on x86 the kernel waits for one before it unpatches
     * each such jump (bpf_arch_poke_desc_update), about 9 ms each, where replacing one program with
     * another patches the jumps without waiting. Nothing leads into a vacant slot once the apply that
     * emptied it is done (its instance's ports are cleared and its devices detached or re-pointed), so
     * only packets in flight meet it.
     */
    void clearProgram(int slot) {
        maps.patch().setProgram(slot, vacant());
    }

    private synchronized BpfProgram vacant() {
        if (vacant == null) {
            boolean xdp = hook == Hook.XDP;
            vacant = BpfProgram.load(ProgramSpec.of("jv_vacant", xdp ? ProgramType.XDP : ProgramType.SCHED_CLS,
                    xdp ? AttachType.XDP : null, new Asm().mov64(Register.R0, xdp ? XDP_DROP : TC_ACT_SHOT).exit()
                            .build()));
        }
        return vacant;
    }

    /** Closes this process's handle on the vacant program; slots holding it keep it in the kernel. */
    @Override
    public synchronized void close() {
        if (vacant != null) {
            vacant.close();
            vacant = null;
        }
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
        if (hook != Hook.XDP) {
            // Only XDP floods read it (tc clones instead). And every update of a map-in-map from user
            // space waits for an RCU grace period (maybe_wait_bpf_programs), about 10 ms per instance.
            return;
        }
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

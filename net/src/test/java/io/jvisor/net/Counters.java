package io.jvisor.net;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import static io.jvisor.bpf.asm.Opcodes.B;
import static io.jvisor.bpf.asm.Opcodes.DW;
import static io.jvisor.bpf.asm.Opcodes.H;
import static io.jvisor.bpf.asm.Opcodes.JEQ;
import static io.jvisor.bpf.asm.Opcodes.JGT;
import static io.jvisor.bpf.asm.Opcodes.JNE;
import static io.jvisor.bpf.asm.Opcodes.W;
import static io.jvisor.bpf.asm.Register.R0;
import static io.jvisor.bpf.asm.Register.R1;
import static io.jvisor.bpf.asm.Register.R2;
import static io.jvisor.bpf.asm.Register.R3;
import static io.jvisor.bpf.asm.Register.R4;
import static io.jvisor.bpf.asm.Register.R5;
import static io.jvisor.bpf.asm.Register.R10;

/**
 * Packet-counting programs (the idea of the bpf module's link tests): parse Ethernet + IPv4 with
 * bounds checks and, for IPv4/UDP only, add 1 atomically to one u64 slot of an array map.
 */
final class Counters {
    private Counters() {}

    static final String MAP = "cnt";
    static final int SLOTS = 8;
    static final int XDP_PASS = 2;
    static final int TC_ACT_OK = 0;
    /** struct xdp_md: data, data_end; struct __sk_buff: data at 76, data_end at 80 (uapi bpf.h). */
    private static final int XDP_DATA = 0, XDP_DATA_END = 4, SKB_DATA = 76, SKB_DATA_END = 80;

    static BpfMap newMap() {
        return BpfMap.create(MapSpec.array(MAP, 8, SLOTS));
    }

    /** An XDP program counting IPv4/UDP frames into {@code slot}; returns XDP_PASS. */
    static BpfProgram xdp(BpfMap map, int slot) {
        return BpfProgram.load(ProgramSpec.of("nxdp" + slot, ProgramType.XDP, AttachType.XDP,
                code(XDP_DATA, XDP_DATA_END, slot, XDP_PASS)), Map.of(MAP, map), LoadOptions.DEFAULT);
    }

    /** A SCHED_CLS program counting IPv4/UDP packets into {@code slot}; returns TC_ACT_OK. */
    static BpfProgram tc(BpfMap map, int slot) {
        return BpfProgram.load(ProgramSpec.of("ntc" + slot, ProgramType.SCHED_CLS, null,
                code(SKB_DATA, SKB_DATA_END, slot, TC_ACT_OK)), Map.of(MAP, map), LoadOptions.DEFAULT);
    }

    private static List<Instruction> code(int dataOff, int dataEndOff, int slot, int verdict) {
        return new Asm()
                .ldx(W, R2, R1, dataOff)
                .ldx(W, R3, R1, dataEndOff)
                .mov64(R4, R2)
                .add64(R4, 24)                    // Ethernet (14) + IPv4 through the protocol byte (23)
                .jmp(JGT, R4, R3, "out")
                .ldx(H, R5, R2, 12)               // ethertype
                .jmp(JNE, R5, 0x0008, "out")      // 0x0800 read little-endian
                .ldx(B, R5, R2, 23)               // IPv4 protocol
                .jmp(JNE, R5, 17, "out")          // UDP
                .st(W, R10, -4, slot)
                .mov64(R2, R10)
                .add64(R2, -4)
                .ldMap(R1, MAP)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jmp(JEQ, R0, 0, "out")
                .mov64(R1, 1)
                .atomicAdd(DW, R0, 0, R1)
                .label("out")
                .mov64(R0, verdict)
                .exit()
                .build();
    }

    static long read(BpfMap map, int slot) {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(slot).array();
        byte[] v = map.lookup(key).orElseThrow(() -> new AssertionError("no slot " + slot));
        return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static LongSupplier slot(BpfMap map, int slot) {
        return () -> read(map, slot);
    }

    static LongSupplier sum(BpfMap map, int a, int b) {
        return () -> read(map, a) + read(map, b);
    }

    /** Polls {@code counter} until it reaches {@code n} or 10 s pass; returns the last value. */
    static long awaitAtLeast(LongSupplier counter, long n) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        long v = counter.getAsLong();
        while (v < n && System.nanoTime() < deadline) {
            sleep(2);
            v = counter.getAsLong();
        }
        return v;
    }

    /** Reads {@code counter} again after a pause long enough for stragglers to arrive. */
    static long settled(LongSupplier counter) {
        sleep(100);
        return counter.getAsLong();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

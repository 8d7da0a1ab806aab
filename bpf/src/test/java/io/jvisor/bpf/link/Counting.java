package io.jvisor.bpf.link;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

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
 * Packet-counting programs for the link tests: each parses Ethernet + IPv4 with bounds checks and,
 * for IPv4/UDP only, atomically adds 1 to one u64 slot of the array map {@value #MAP}.
 */
final class Counting {
    private Counting() {}

    /** The name programs use for the counter map. */
    static final String MAP = "cnt";
    /** Slots in the counter map. */
    static final int SLOTS = 8;

    static final int XDP_PASS = 2;
    static final int TC_ACT_OK = 0;
    /** tcx: let the next program in the chain decide. */
    static final int TCX_NEXT = -1;

    /** struct xdp_md: data at 0, data_end at 4. */
    private static final int XDP_DATA = 0, XDP_DATA_END = 4;
    /** struct __sk_buff: data at 76, data_end at 80 (include/uapi/linux/bpf.h). */
    private static final int SKB_DATA = 76, SKB_DATA_END = 80;

    /** A fresh counter map. */
    static BpfMap newMap() {
        return BpfMap.create(MapSpec.array(MAP, 8, SLOTS));
    }

    /** An XDP program counting IPv4/UDP frames into {@code slot}; returns XDP_PASS. */
    static BpfProgram xdp(BpfMap map, int slot) {
        return BpfProgram.load(ProgramSpec.of("cnt_xdp" + slot, ProgramType.XDP, AttachType.XDP,
                code(XDP_DATA, XDP_DATA_END, slot, XDP_PASS)), Map.of(MAP, map), LoadOptions.DEFAULT);
    }

    /** A tc (SCHED_CLS) program counting IPv4/UDP packets into {@code slot}; returns {@code verdict}. */
    static BpfProgram tc(BpfMap map, int slot, int verdict) {
        return BpfProgram.load(ProgramSpec.of("cnt_tc" + slot, ProgramType.SCHED_CLS, null,
                code(SKB_DATA, SKB_DATA_END, slot, verdict)), Map.of(MAP, map), LoadOptions.DEFAULT);
    }

    /** A tc program counting into {@code slot} that ends the chain with TC_ACT_OK. */
    static BpfProgram tc(BpfMap map, int slot) {
        return tc(map, slot, TC_ACT_OK);
    }

    static List<Instruction> code(int dataOff, int dataEndOff, int slot, int verdict) {
        return new Asm()
                .ldx(W, R2, R1, dataOff)          // r2 = data
                .ldx(W, R3, R1, dataEndOff)       // r3 = data_end
                .mov64(R4, R2)
                .add64(R4, 24)                    // Ethernet (14) + IPv4 up to the protocol byte (23)
                .jmp(JGT, R4, R3, "out")          // too short: not ours
                .ldx(H, R5, R2, 12)               // ethertype, big-endian on the wire
                .jmp(JNE, R5, 0x0008, "out")      // 0x0800 read as a little-endian u16
                .ldx(B, R5, R2, 23)               // IPv4 protocol
                .jmp(JNE, R5, 17, "out")          // UDP only
                .st(W, R10, -4, slot)             // key = slot
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

    /** The value of {@code slot}. */
    static long read(BpfMap map, int slot) {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(slot).array();
        byte[] v = map.lookup(key).orElseThrow(() -> new AssertionError("no slot " + slot + " in " + map));
        return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /**
     * Polls {@code slot} until {@code done} holds (packets are processed in softirq, a little after
     * send() returns) or {@code timeoutMillis} pass; returns the last value read either way.
     */
    static long awaitSlot(BpfMap map, int slot, LongPredicate done, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        long v = read(map, slot);
        while (!done.test(v) && System.nanoTime() < deadline) {
            sleep(2);
            v = read(map, slot);
        }
        return v;
    }

    /** Waits until {@code slot} reaches at least {@code n}; returns its value. */
    static long awaitAtLeast(BpfMap map, int slot, long n) {
        return awaitSlot(map, slot, v -> v >= n, 10_000);
    }

    /** Waits for slots {@code a} + {@code b} to reach {@code n}; returns the sum. */
    static long awaitSum(BpfMap map, int a, int b, long n) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        long sum = read(map, a) + read(map, b);
        while (sum < n && System.nanoTime() < deadline) {
            sleep(2);
            sum = read(map, a) + read(map, b);
        }
        return sum;
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

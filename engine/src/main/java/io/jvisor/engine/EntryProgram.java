package io.jvisor.engine;

import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.JumpOp;
import io.jvisor.bpf.asm.Size;

import static io.jvisor.bpf.asm.Register.R0;
import static io.jvisor.bpf.asm.Register.R1;
import static io.jvisor.bpf.asm.Register.R2;
import static io.jvisor.bpf.asm.Register.R3;
import static io.jvisor.bpf.asm.Register.R4;
import static io.jvisor.bpf.asm.Register.R10;

/**
 * The tc device entry, {@code jv_entry_tc} of {@code entry.c}, written with the project's
 * assembler: slot and port are immediates instead of {@code .rodata} constants. The engine loads
 * one copy per device connection, so that its tail call into the instance is a direct jump; made
 * this way a copy is one BPF_PROG_LOAD of 37 instructions, with no BTF to load and no
 * {@code .rodata} map to create, fill and freeze, about five times cheaper than a copy of the
 * compiled object (docs/benchmarks.md, "Apply time"). It does what the C does, instruction for
 * instruction; {@code EntryProgramTest} runs both and compares what they leave behind.
 *
 * <p>The XDP entry stays in C: its metadata channel takes more than a store per field.
 */
final class EntryProgram {
    /** {@code offsetof(struct __sk_buff, cb)}: UAPI, fixed. {@code struct jv_md} is cb[0..4]. */
    static final int SKB_CB = 48;
    /** TC_ACT_SHOT. */
    static final int TC_ACT_SHOT = 2;
    /** BPF_NOEXIST for bpf_map_update_elem. */
    private static final int BPF_NOEXIST = 1;

    private EntryProgram() {}

    /**
     * Writes the fields of {@code struct jv_md} that cross into the instance (in_port = port,
     * hops = 1, mark = 0; {@code jv_tc_store_md}) into the skb's cb, tail-calls slot through
     * {@code jv_patch_tc}, and when the slot is empty counts a missed tail call for it
     * ({@code jv_count_missed}) and drops the packet. References the shared maps
     * {@code jv_patch_tc}, {@code jv_missed} and {@code jv_drops} by name.
     */
    static ProgramSpec tc(int slot, int port) {
        if (slot < 0 || slot >= Sdk.MAX_SLOTS || port < 0 || port >= Sdk.MAX_PORTS) {
            throw new IllegalArgumentException("slot " + slot + " port " + port + " out of range");
        }
        Asm a = new Asm()
                .store(Size.W, R1, SKB_CB, port)
                .store(Size.W, R1, SKB_CB + 4, 1) // hops: the tail call below is the first
                .store(Size.W, R1, SKB_CB + 8, 0)
                .ldMap(R2, "jv_patch_tc")
                .mov64(R3, slot)
                .call(Helper.TAIL_CALL)
                // the slot was empty: jv_missed[slot]++ (a per-CPU counter)
                .store(Size.W, R10, -20, slot)
                .mov64(R2, R10).add64(R2, -20)
                .ldMap(R1, "jv_missed")
                .call(Helper.MAP_LOOKUP_ELEM)
                .jmp(JumpOp.JEQ, R0, 0, "drop")
                .load(Size.DW, R1, R0, 0).add64(R1, 1).store(Size.DW, R0, 0, R1)
                // jv_drops[{slot, JV_DROP_MISSED_TAIL_CALL}]++, created at 1 when absent
                .label("drop")
                .store(Size.W, R10, -8, slot)
                .store(Size.W, R10, -4, Sdk.DROP_MISSED_TAIL_CALL)
                .mov64(R2, R10).add64(R2, -8)
                .ldMap(R1, "jv_drops")
                .call(Helper.MAP_LOOKUP_ELEM)
                .jmp(JumpOp.JEQ, R0, 0, "first")
                .load(Size.DW, R1, R0, 0).add64(R1, 1).store(Size.DW, R0, 0, R1)
                .ja("out")
                .label("first")
                .mov64(R1, 1).store(Size.DW, R10, -16, R1)
                .mov64(R2, R10).add64(R2, -8)
                .mov64(R3, R10).add64(R3, -16)
                .ldMap(R1, "jv_drops")
                .mov64(R4, BPF_NOEXIST)
                .call(Helper.MAP_UPDATE_ELEM)
                .label("out")
                .mov64(R0, TC_ACT_SHOT)
                .exit();
        return ProgramSpec.of("jv_entry_tc", ProgramType.SCHED_CLS, null, a.build());
    }
}

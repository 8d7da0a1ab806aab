package io.jvisor.bench;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.JumpOp;
import io.jvisor.bpf.asm.Size;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.engine.Engine;
import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.Sdk;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.jvisor.bpf.asm.Register.R0;
import static io.jvisor.bpf.asm.Register.R1;
import static io.jvisor.bpf.asm.Register.R2;
import static io.jvisor.bpf.asm.Register.R3;
import static io.jvisor.bpf.asm.Register.R4;
import static io.jvisor.bpf.asm.Register.R6;
import static io.jvisor.bpf.asm.Register.R7;
import static io.jvisor.bpf.asm.Register.R10;

/**
 * Three ways to make the device entry program, by load cost and by per-packet cost:
 * <ul>
 * <li>{@code c_copy}: the engine's {@code entry.c} loaded once per device through
 *     {@link Collection#load}, slot and port as frozen {@code .rodata} constants (BTF loaded, a
 *     {@code .rodata} map made, filled and frozen for each copy), so the tail call into the
 *     instance is direct;</li>
 * <li>{@code asm_copy}: the same code written with {@code io.jvisor.bpf.asm}, slot and port as
 *     immediates: one BPF_PROG_LOAD per device, no BTF, no map; the tail call is direct too;</li>
 * <li>{@code shared}: one program for every device, which finds slot and port in a hash map keyed by
 *     ifindex, and tail-calls with a key in a register (an indirect jump through a retpoline
 *     here).</li>
 * </ul>
 * Per-packet cost is BPF_PROG_TEST_RUN of the entry, which tail-calls into a one-instruction
 * instance; rounds are interleaved.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.EntryChoiceBench \
 *     [--copies N] [--rounds N] [--repeat N]
 * </pre>
 */
public final class EntryChoiceBench {
    /** struct __sk_buff: cb[0] (UAPI offsetof). */
    static final int SKB_CB = 48;
    /** struct __sk_buff: ifindex. */
    static final int SKB_IFINDEX = 40;
    static final int TC_ACT_SHOT = 2;
    static final int DROP_MISSED_TAIL_CALL = 3;

    private EntryChoiceBench() {}

    /**
     * The tc device entry of {@code entry.c} with slot and port as immediates: metadata into cb,
     * tail call into the patch panel, and when that fails, the missed-tail-call counters.
     */
    static ProgramSpec asmEntry(int slot, int port) {
        Asm a = new Asm()
                .store(Size.W, R1, SKB_CB, port)
                .store(Size.W, R1, SKB_CB + 4, slot)
                .store(Size.W, R1, SKB_CB + 8, 0)
                .store(Size.W, R1, SKB_CB + 12, 0)
                .store(Size.W, R1, SKB_CB + 16, 0)
                .ldMap(R2, "jv_patch_tc")
                .mov64(R3, slot)
                .call(Helper.TAIL_CALL);
        missed(a, R10, slot);
        return ProgramSpec.of("jv_entry_tc", ProgramType.SCHED_CLS, null, a.mov64(R0, TC_ACT_SHOT).exit().build());
    }

    /** jv_count_missed(slot) as module.h has it; the slot is an immediate or in {@code slotReg}. */
    private static void missed(Asm a, io.jvisor.bpf.asm.Register slotReg, int slot) {
        if (slotReg == R10) {
            a.store(Size.W, R10, -20, slot);
        } else {
            a.store(Size.W, R10, -20, slotReg);
        }
        a.mov64(R2, R10).add64(R2, -20).ldMap(R1, "jv_missed").call(Helper.MAP_LOOKUP_ELEM)
                .jmp(JumpOp.JEQ, R0, 0, "drops")
                .load(Size.DW, R1, R0, 0).add64(R1, 1).store(Size.DW, R0, 0, R1)
                .label("drops")
                .store(Size.W, R10, -4, DROP_MISSED_TAIL_CALL);
        if (slotReg == R10) {
            a.store(Size.W, R10, -8, slot);
        } else {
            a.store(Size.W, R10, -8, slotReg);
        }
        a.mov64(R2, R10).add64(R2, -8).ldMap(R1, "jv_drops").call(Helper.MAP_LOOKUP_ELEM)
                .jmp(JumpOp.JEQ, R0, 0, "first")
                .load(Size.DW, R1, R0, 0).add64(R1, 1).store(Size.DW, R0, 0, R1)
                .ja("out")
                .label("first")
                .mov64(R1, 1).store(Size.DW, R10, -16, R1)
                .mov64(R2, R10).add64(R2, -8).mov64(R3, R10).add64(R3, -16).ldMap(R1, "jv_drops").mov64(R4, 1)
                .call(Helper.MAP_UPDATE_ELEM)
                .label("out");
    }

    /** One entry for every device: (slot << 32 | port) from jv_entry_by_ifindex[skb->ifindex]. */
    static ProgramSpec sharedEntry() {
        Asm a = new Asm()
                .mov64(R6, R1)
                .load(Size.W, R1, R6, SKB_IFINDEX)
                .store(Size.W, R10, -24, R1)
                .mov64(R2, R10).add64(R2, -24).ldMap(R1, "jv_entry_by_ifindex").call(Helper.MAP_LOOKUP_ELEM)
                .jmp(JumpOp.JEQ, R0, 0, "none")
                .load(Size.W, R7, R0, 4) // slot (little endian: the high word)
                .load(Size.W, R1, R0, 0) // port
                .store(Size.W, R6, SKB_CB, R1)
                .store(Size.W, R6, SKB_CB + 4, R7)
                .store(Size.W, R6, SKB_CB + 8, 0)
                .store(Size.W, R6, SKB_CB + 12, 0)
                .store(Size.W, R6, SKB_CB + 16, 0)
                .mov64(R1, R6).ldMap(R2, "jv_patch_tc").mov64(R3, R7).call(Helper.TAIL_CALL);
        missed(a, R7, 0);
        return ProgramSpec.of("jv_entry_shared", ProgramType.SCHED_CLS, null,
                a.mov64(R0, TC_ACT_SHOT).exit().label("none").mov64(R0, TC_ACT_SHOT).exit().build());
    }

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("EntryChoiceBench", "[--copies N] [--rounds N] [--repeat N]", args, List.of(),
                List.of("--copies", "--rounds", "--repeat"));
        if (a == null) {
            return;
        }
        int copies = a.intOr("--copies", 300);
        int rounds = a.intOr("--rounds", 11);
        int repeat = a.intOr("--repeat", 1_000_000);
        PrintStream out = System.out;
        List<AutoCloseable> made = new ArrayList<>();
        try {
            ModuleCode code = ModuleCode.resource(Engine.class, "entry.c");
            CollectionSpec entry = EngineBenchSupport.only(ObjectFile.read(Clang.find().compileString(code.source(),
                    code.fileName(), List.of()).object()), "jv_entry_tc");
            Map<String, BpfMap> shared = new LinkedHashMap<>();
            CollectionOptions o = CollectionOptions.DEFAULT;
            for (String m : Sdk.SHARED_MAPS) {
                BpfMap map = BpfMap.create(entry.map(m).orElseThrow().spec());
                made.add(map);
                shared.put(m, map);
                o = o.withReplacement(m, map);
            }
            BpfMap byIfindex = BpfMap.create(MapSpec.hash("jv_entry_by_ifi", 4, 8, 4096));
            made.add(byIfindex);
            Map<String, BpfMap> withIndex = new HashMap<>(shared);
            withIndex.put("jv_entry_by_ifindex", byIfindex);
            out.println("== device entry: " + copies + " copies each way; load average " + EngineBenchSupport.loadAverage());

            // ---- load cost, interleaved in blocks so that the machine's load hits both alike
            long[] wall = new long[2];
            long[] cpu = new long[2];
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            int block = 20;
            for (int start = 0; start < copies; start += block) {
                for (int way = 0; way < 2; way++) {
                    long w0 = System.nanoTime();
                    long c0 = os.getProcessCpuTime();
                    for (int i = start; i < Math.min(copies, start + block); i++) {
                        int slot = i % Sdk.MAX_SLOTS;
                        if (way == 0) {
                            try (Collection c = Collection.load(entry.withConstant(Sdk.SLOT_CONSTANT, slot)
                                    .withConstant(Sdk.ENTRY_PORT_CONSTANT, i % 8), o)) {
                                made.add(c.program("jv_entry_tc").duplicate());
                            }
                        } else {
                            made.add(BpfProgram.load(asmEntry(slot, i % 8), shared, LoadOptions.DEFAULT));
                        }
                    }
                    wall[way] += System.nanoTime() - w0;
                    cpu[way] += os.getProcessCpuTime() - c0;
                }
            }
            out.printf(Locale.ROOT, "load, ms each: c_copy wall %.3f cpu %.3f; asm_copy wall %.3f cpu %.3f%n",
                    wall[0] / 1e6 / copies, cpu[0] / 1e6 / copies, wall[1] / 1e6 / copies, cpu[1] / 1e6 / copies);

            // ---- per packet
            int slot = 7;
            int port = 3;
            BpfProgram instance = BpfProgram.load(ProgramSpec.of("inst", ProgramType.SCHED_CLS, null,
                    new Asm().mov64(R0, 0).exit().build()));
            made.add(instance);
            shared.get("jv_patch_tc").setProgram(slot, instance);
            BpfProgram cCopy;
            try (Collection c = Collection.load(entry.withConstant(Sdk.SLOT_CONSTANT, slot)
                    .withConstant(Sdk.ENTRY_PORT_CONSTANT, port), o)) {
                cCopy = c.program("jv_entry_tc").duplicate();
            }
            made.add(cCopy);
            BpfProgram asmCopy = BpfProgram.load(asmEntry(slot, port), shared, LoadOptions.DEFAULT);
            made.add(asmCopy);
            BpfProgram sharedEntry = BpfProgram.load(sharedEntry(), withIndex, LoadOptions.DEFAULT);
            made.add(sharedEntry);
            // BPF_PROG_TEST_RUN runs on loopback (ifindex 1); fill the map as it would be for 300 devices
            for (int i = 1; i <= copies; i++) {
                byIfindex.update(EngineCostBench.u32(i), java.nio.ByteBuffer.allocate(8)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(port).putInt(slot).array());
            }
            Map<String, BpfProgram> subjects = new LinkedHashMap<>();
            subjects.put("c_copy", cCopy);
            subjects.put("asm_copy", asmCopy);
            subjects.put("shared", sharedEntry);
            byte[] frame = EngineCostBench.frame();
            for (var e : subjects.entrySet()) {
                int rv = e.getValue().testRun(TestRun.of(frame).withRepeat(1)).returnValue();
                if (rv != 0) {
                    throw new IllegalStateException(e.getKey() + " returned " + rv + ": the tail call did not happen");
                }
            }
            List<String> names = new ArrayList<>(subjects.keySet());
            Map<String, double[]> ns = EngineBenchSupport.shuffledRounds(names, n -> n,
                    n -> subjects.get(n).testRun(TestRun.of(frame).withRepeat(repeat)).durationNs(), rounds, null);
            for (String n : names) {
                double[] q = EngineBenchSupport.quartiles(ns.get(n));
                out.printf(Locale.ROOT, "per packet %s: median %.2f ns (quartiles %.2f .. %.2f); %s%n", n,
                        EngineBenchSupport.median(ns.get(n)), q[0], q[1], EngineBenchSupport.programSize(subjects.get(n)));
            }
            double[] diff = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                diff[r] = ns.get("shared")[r] - ns.get("asm_copy")[r];
            }
            out.printf(Locale.ROOT, "shared - asm_copy, paired by round: median %.2f ns%n", EngineBenchSupport.median(diff));
        } finally {
            EngineBenchSupport.closeAll(made, out, "");
        }
    }
}

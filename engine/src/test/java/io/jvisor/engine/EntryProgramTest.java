package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The assembled tc entry ({@link EntryProgram}) against {@code jv_entry_tc} compiled from
 * {@code entry.c}: run on the same packet, each enters the slot with the same metadata, and into an
 * empty slot each counts the same missed tail call and drop.
 */
@RequiresRoot
class EntryProgramTest {
    private static final int SKB_CTX_SIZE = 192;
    private final List<AutoCloseable> made = new ArrayList<>();
    private final Map<String, BpfMap> shared = new LinkedHashMap<>();
    private CollectionSpec entry;

    @BeforeEach
    void sharedMaps() {
        entry = CodeCache.find("entry-test").compile(ModuleCode.resource(Engine.class, ModuleLoader.ENTRY_SOURCE),
                "entry.c");
        for (String name : Sdk.SHARED_MAPS) {
            BpfMap m = BpfMap.create(entry.map(name).orElseThrow().spec());
            made.add(m);
            shared.put(name, m);
        }
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : made.reversed()) {
            c.close();
        }
    }

    private BpfProgram compiled(int slot, int port) {
        CollectionOptions o = CollectionOptions.DEFAULT;
        for (var e : shared.entrySet()) {
            o = o.withReplacement(e.getKey(), e.getValue());
        }
        CollectionSpec only = new CollectionSpec(entry.name(), entry.programs().stream()
                .filter(p -> p.name().equals("jv_entry_tc")).toList(), entry.maps(), entry.btf(), entry.license());
        try (Collection c = Collection.load(only.withConstant(Sdk.SLOT_CONSTANT, slot)
                .withConstant(Sdk.ENTRY_PORT_CONSTANT, port), o)) {
            BpfProgram p = c.program("jv_entry_tc").duplicate();
            made.add(p);
            return p;
        }
    }

    private BpfProgram assembled(int slot, int port) {
        BpfProgram p = BpfProgram.load(EntryProgram.tc(slot, port), shared, LoadOptions.DEFAULT);
        made.add(p);
        return p;
    }

    /** A context whose cb holds garbage, which the entry must overwrite. */
    private static byte[] dirtyContext() {
        ByteBuffer b = ByteBuffer.allocate(SKB_CTX_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 5; i++) {
            b.putInt(EntryProgram.SKB_CB + 4 * i, 0x5a5a0000 + i);
        }
        return b.array();
    }

    private static int[] cb(byte[] ctx) {
        ByteBuffer b = ByteBuffer.wrap(ctx).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[5];
        for (int i = 0; i < 5; i++) {
            out[i] = b.getInt(EntryProgram.SKB_CB + 4 * i);
        }
        return out;
    }

    private static byte[] frame() {
        byte[] f = new byte[64];
        f[12] = 0x08; // IPv4
        return f;
    }

    @Test
    void entersTheSlotWithTheSameMetadataAsTheCompiledEntry() {
        int slot = 17;
        int port = 5;
        // The instance returns its cb[0] (in_port) + 10 * cb[1] (hops) so that the verdict shows what it was handed.
        BpfProgram instance = BpfProgram.load(ProgramSpec.of("echo_md", ProgramType.SCHED_CLS, null, new Asm()
                .load(io.jvisor.bpf.asm.Size.W, Register.R2, Register.R1, EntryProgram.SKB_CB)
                .load(io.jvisor.bpf.asm.Size.W, Register.R3, Register.R1, EntryProgram.SKB_CB + 4)
                .mov64(Register.R0, Register.R3).alu64(io.jvisor.bpf.asm.AluOp.MUL, Register.R0, 10)
                .add64(Register.R0, Register.R2).exit().build()));
        made.add(instance);
        shared.get("jv_patch_tc").setProgram(slot, instance);
        TestRun.Result c = compiled(slot, port).testRun(TestRun.of(frame()).withContext(dirtyContext()));
        TestRun.Result a = assembled(slot, port).testRun(TestRun.of(frame()).withContext(dirtyContext()));
        // the instance ran (the slot's program, not the entry's drop) and saw in_port = port, hops = 1
        assertThat(a.returnValue()).isEqualTo(c.returnValue()).isEqualTo(10 + port);
        // and both entries left the same metadata: in_port, hops, mark = 0, and cb[3..4] as they were
        assertThat(cb(a.context())).containsExactly(cb(c.context()));
        assertThat(cb(a.context())[0]).isEqualTo(port);
        assertThat(cb(a.context())[1]).isEqualTo(1);
        assertThat(cb(a.context())[2]).isZero();
        assertThat(shared.get("jv_missed").lookupPerCpu(BpfMapKeys.u32(slot)).orElseThrow())
                .allSatisfy(v -> assertThat(v).containsOnly(0));
    }

    @Test
    void intoAnEmptySlotCountsAMissedTailCallAndADropAsTheCompiledEntryDoes() {
        int compiledSlot = 3;
        int assembledSlot = 4;
        BpfProgram c = compiled(compiledSlot, 1);
        BpfProgram a = assembled(assembledSlot, 1);
        for (int run = 1; run <= 3; run++) {
            assertThat(c.testRun(TestRun.of(frame())).returnValue()).isEqualTo(EntryProgram.TC_ACT_SHOT);
            assertThat(a.testRun(TestRun.of(frame())).returnValue()).isEqualTo(EntryProgram.TC_ACT_SHOT);
            assertThat(missed(assembledSlot)).isEqualTo(missed(compiledSlot)).isEqualTo(run);
            assertThat(dropped(assembledSlot)).isEqualTo(dropped(compiledSlot)).isEqualTo(run);
        }
    }

    @Test
    void refusesSlotsAndPortsOutsideTheSdkRange() {
        assertThatThrownBy(() -> EntryProgram.tc(Sdk.MAX_SLOTS, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EntryProgram.tc(0, Sdk.MAX_PORTS)).isInstanceOf(IllegalArgumentException.class);
    }

    private long missed(int slot) {
        return sum(shared.get("jv_missed").lookupPerCpu(BpfMapKeys.u32(slot)).orElseThrow());
    }

    private long dropped(int slot) {
        byte[] key = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(slot)
                .putInt(Sdk.DROP_MISSED_TAIL_CALL).array();
        return shared.get("jv_drops").lookupPerCpu(key).map(EntryProgramTest::sum).orElse(0L);
    }

    private static long sum(List<byte[]> perCpu) {
        long s = 0;
        for (byte[] v : perCpu) {
            s += ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        }
        return s;
    }
}

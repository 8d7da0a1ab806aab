package io.jvisor.bpf.elf;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.MapFlags;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.btf.BtfType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Parsing real clang objects into specs: no kernel involved. */
class ObjectFileTest {
    @Test
    void xdpObjectHasOneProgramAndABtfHashMap() {
        CollectionSpec spec = TestObjects.spec("xdp_count.c");
        assertThat(spec.license()).isEqualTo("Dual BSD/GPL");
        assertThat(spec.programs()).hasSize(1);
        ObjectProgram p = spec.programs().getFirst();
        assertThat(p.name()).isEqualTo("xdp_count");
        assertThat(p.spec().type()).isEqualTo(ProgramType.XDP);
        assertThat(p.spec().expectedAttachType()).isEqualTo(AttachType.XDP);
        assertThat(p.funcInfo()).hasSize(1);
        assertThat(p.lineInfo()).isNotEmpty();
        assertThat(p.lineInfo().getFirst().fileName()).endsWith("xdp_count.c");
        ObjectMap m = spec.map("by_proto").orElseThrow();
        assertThat(m.kind()).isEqualTo(ObjectMap.Kind.BTF);
        assertThat(m.spec().type()).isEqualTo(MapType.HASH);
        assertThat(m.spec().keySize()).isEqualTo(2);
        assertThat(m.spec().valueSize()).isEqualTo(16);
        assertThat(m.spec().maxEntries()).isEqualTo(64);
        assertThat(spec.btf().describe(m.btfKeyTypeId())).isEqualTo("__u16");
        assertThat(spec.btf().describe(m.btfValueTypeId())).isEqualTo("struct counter");
        List<Instruction> refs = p.spec().instructions().stream().filter(i -> i.reference() != null).toList();
        assertThat(refs).isNotEmpty().allSatisfy(i -> {
            assertThat(i.reference()).isEqualTo("by_proto");
            assertThat(i.src().number()).isEqualTo(Opcodes.PSEUDO_MAP_FD);
        });
    }

    @Test
    void tcObjectHasTwoProgramsWithTheirSectionConventions() {
        CollectionSpec spec = TestObjects.spec("tc_mark.c");
        assertThat(spec.programs()).extracting(ObjectProgram::name).containsExactly("tc_mark", "tcx_drop_small");
        ObjectProgram tc = spec.program("tc_mark").orElseThrow();
        assertThat(tc.spec().type()).isEqualTo(ProgramType.SCHED_CLS);
        assertThat(tc.spec().expectedAttachType()).isNull();
        ObjectProgram tcx = spec.program("tcx_drop_small").orElseThrow();
        assertThat(tcx.spec().expectedAttachType()).isEqualTo(AttachType.TCX_INGRESS);
        assertThat(tcx.section().section()).isEqualTo("tcx/ingress");
    }

    @Test
    void tracepointSectionNamesCategoryAndEvent() {
        CollectionSpec spec = TestObjects.spec("tp_getpid.c");
        ObjectProgram p = spec.programs().getFirst();
        assertThat(p.spec().type()).isEqualTo(ProgramType.TRACEPOINT);
        assertThat(p.section().category()).isEqualTo("syscalls");
        assertThat(p.section().event()).isEqualTo("sys_enter_getpid");
    }

    @Test
    void globalDataBecomesArrayMapsAndConstantsCanBeSet() {
        CollectionSpec spec = TestObjects.spec("globals.c");
        ObjectMap rodata = spec.map(".rodata").orElseThrow();
        assertThat(rodata.kind()).isEqualTo(ObjectMap.Kind.RODATA);
        assertThat(rodata.spec().name()).isEqualTo("globals.rodata");
        assertThat(rodata.spec().type()).isEqualTo(MapType.ARRAY);
        assertThat(rodata.spec().maxEntries()).isEqualTo(1);
        assertThat(rodata.spec().flags() & MapFlags.MMAPABLE).isNotZero();
        assertThat(rodata.spec().flags() & MapFlags.RDONLY_PROG).isNotZero();
        assertThat(spec.btf().type(rodata.btfValueTypeId())).isInstanceOf(BtfType.DataSec.class);
        assertThat(spec.map(".data").orElseThrow().spec().name()).isEqualTo("globals.data");
        assertThat(spec.map(".bss").orElseThrow().spec().name()).isEqualTo("globals.bss");
        assertThat(spec.variables()).extracting(CollectionSpec.Variable::name)
                .contains("verdict", "magic", "runs", "last_len", "tag");
        CollectionSpec.Variable magic = spec.variables().stream().filter(v -> v.name().equals("magic")).findFirst()
                .orElseThrow();
        byte[] data = rodata.data();
        assertThat(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getLong(magic.offset()))
                .isEqualTo(0x1122334455667788L);

        CollectionSpec changed = spec.withConstant("verdict", 1L);
        CollectionSpec.Variable verdict = spec.variables().stream().filter(v -> v.name().equals("verdict"))
                .findFirst().orElseThrow();
        assertThat(ByteBuffer.wrap(changed.map(".rodata").orElseThrow().data()).order(ByteOrder.LITTLE_ENDIAN)
                .getInt(verdict.offset())).isEqualTo(1);
        // the original spec is untouched
        assertThat(ByteBuffer.wrap(spec.map(".rodata").orElseThrow().data()).order(ByteOrder.LITTLE_ENDIAN)
                .getInt(verdict.offset())).isEqualTo(2);

        // global data references carry the section name and the value offset in the upper half
        ObjectProgram p = spec.programs().getFirst();
        assertThat(p.spec().instructions()).filteredOn(i -> i.reference() != null)
                .allSatisfy(i -> assertThat(i.src().number()).isEqualTo(Opcodes.PSEUDO_MAP_VALUE))
                .extracting(Instruction::reference).contains(".rodata", ".data", ".bss");
    }

    @Test
    void subprogramsAreLinkedIntoEveryProgramThatCallsThem() {
        CollectionSpec spec = TestObjects.spec("calls.c");
        assertThat(spec.programs()).extracting(ObjectProgram::name).containsExactly("xdp_calls", "xdp_square");
        ObjectProgram calls = spec.program("xdp_calls").orElseThrow();
        // main, then sub-programs depth first on first call: sum_of_squares, square, store
        assertThat(calls.funcInfo()).hasSize(4);
        List<String> names = calls.funcInfo().stream()
                .map(f -> spec.btf().type(f.typeId()).name()).toList();
        assertThat(names).containsExactly("xdp_calls", "sum_of_squares", "square", "store");
        ObjectProgram square = spec.program("xdp_square").orElseThrow();
        assertThat(square.funcInfo().stream().map(f -> spec.btf().type(f.typeId()).name()).toList())
                .containsExactly("xdp_square", "square", "store");
        // every bpf-to-bpf call lands on a function start
        List<Instruction> insns = calls.spec().instructions();
        int slot = 0;
        List<Integer> starts = calls.funcInfo().stream().map(BtfExtFuncStart::of).toList();
        for (Instruction i : insns) {
            if (i.opcode() == (Opcodes.JMP | Opcodes.CALL) && i.src().number() == Opcodes.PSEUDO_CALL) {
                assertThat(starts).contains(slot + (int) i.imm() + 1);
            }
            slot += i.slots();
        }
        assertThat(calls.spec().flags()).isZero();
    }

    /** func_info start of a function. */
    private static final class BtfExtFuncStart {
        static int of(io.jvisor.bpf.btf.BtfExt.FuncInfo f) {
            return f.insnOffset();
        }
    }

    @Test
    void mapInMapHasAnInnerMapTemplate() {
        CollectionSpec spec = TestObjects.spec("map_in_map.c");
        ObjectMap outer = spec.map("outer").orElseThrow();
        assertThat(outer.spec().type()).isEqualTo(MapType.ARRAY_OF_MAPS);
        assertThat(outer.spec().valueSize()).isEqualTo(4);
        assertThat(outer.spec().innerMap()).isNotNull();
        assertThat(outer.spec().innerMap().type()).isEqualTo(MapType.ARRAY);
        assertThat(outer.spec().innerMap().valueSize()).isEqualTo(4);
    }

    @Test
    void pinningByNameIsRead() {
        CollectionSpec spec = TestObjects.spec("pinned.c");
        assertThat(spec.map("shared_hits").orElseThrow().pinning()).isEqualTo(ObjectMap.Pinning.BY_NAME);
    }

    @Test
    void syscallSectionIsSleepable() {
        assertThat(ProgramSection.of("syscall").orElseThrow().flags()).isEqualTo(ProgramSpec.SLEEPABLE);
        assertThat(ProgramSection.of("raw_tp/sched_switch").orElseThrow().target()).isEqualTo("sched_switch");
        assertThat(ProgramSection.of("tp_btf/sched_switch").orElseThrow().type()).isEqualTo(ProgramType.TRACING);
        assertThat(ProgramSection.of("socket").orElseThrow().type()).isEqualTo(ProgramType.SOCKET_FILTER);
        assertThat(ProgramSection.of("classifier").orElseThrow().type()).isEqualTo(ProgramType.SCHED_CLS);
        assertThat(ProgramSection.of("tcx/egress").orElseThrow().attachType()).isEqualTo(AttachType.TCX_EGRESS);
        assertThat(ProgramSection.of("kprobe/foo")).isEmpty();
    }
}

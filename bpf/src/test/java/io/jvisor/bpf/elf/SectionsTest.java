package io.jvisor.bpf.elf;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Every supported section convention, and a legacy {@code maps} definition, parsed and loaded. */
class SectionsTest {
    @Test
    void sectionConventionsGiveTypesAttachTypesAndFlags() {
        CollectionSpec spec = TestObjects.spec("sections.c");
        assertThat(spec.programs()).extracting(ObjectProgram::name)
                .containsExactly("sock_all", "cls_ok", "tcx_out", "raw_enter", "btf_switch", "sys_prog");
        assertThat(spec.program("sock_all").orElseThrow().spec().type()).isEqualTo(ProgramType.SOCKET_FILTER);
        assertThat(spec.program("cls_ok").orElseThrow().spec().type()).isEqualTo(ProgramType.SCHED_CLS);
        assertThat(spec.program("tcx_out").orElseThrow().spec().expectedAttachType()).isEqualTo(AttachType.TCX_EGRESS);
        assertThat(spec.program("raw_enter").orElseThrow().spec().type()).isEqualTo(ProgramType.RAW_TRACEPOINT);
        ObjectProgram btf = spec.program("btf_switch").orElseThrow();
        assertThat(btf.spec().type()).isEqualTo(ProgramType.TRACING);
        assertThat(btf.spec().expectedAttachType()).isEqualTo(AttachType.TRACE_RAW_TP);
        assertThat(spec.program("sys_prog").orElseThrow().spec().flags()).isEqualTo(ProgramSpec.SLEEPABLE);
        ObjectMap legacy = spec.map("legacy_hits").orElseThrow();
        assertThat(legacy.kind()).isEqualTo(ObjectMap.Kind.LEGACY);
        assertThat(legacy.spec().type()).isEqualTo(MapType.ARRAY);
        assertThat(legacy.spec().keySize()).isEqualTo(4);
        assertThat(legacy.spec().valueSize()).isEqualTo(8);
        assertThat(legacy.spec().maxEntries()).isEqualTo(8);
    }

    @Test
    @RequiresRoot
    void everyProgramLoadsAndRuns() {
        try (Collection c = Collection.load(TestObjects.spec("sections.c"))) {
            assertThat(c.programs()).hasSize(6);
            byte[] frame = CollectionTest.frame(0x0800, 60);
            // a socket filter sees the packet from the network header on: 60 - 14 bytes
            assertThat(c.program("sock_all").testRun(TestRun.of(frame)).returnValue()).isEqualTo(46);
            assertThat(c.program("cls_ok").testRun(TestRun.of(frame)).returnValue()).isZero();
            assertThat(c.program("tcx_out").testRun(TestRun.of(frame)).returnValue()).isZero();
            // the syscall program loaded only because it was flagged sleepable, as its section says
            assertThat(c.program("sys_prog").type()).isEqualTo(ProgramType.SYSCALL);
            // syscall programs run with no packet and repeat 0, the only repeat the kernel accepts for them
            assertThat(c.program("sys_prog").testRun(TestRun.of(null)).returnValue()).isZero();
            assertThat(CollectionTest.u64(c.map("legacy_hits").lookup(CollectionTest.key(5)).orElseThrow(), 0))
                    .isEqualTo(1);
            assertThat(CollectionTest.u64(c.map("legacy_hits").lookup(CollectionTest.key(0)).orElseThrow(), 0))
                    .isEqualTo(1);
            assertThat(c.program("btf_switch").info().btfId()).isPositive();
        }
    }
}

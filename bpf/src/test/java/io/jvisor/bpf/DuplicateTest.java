package io.jvisor.bpf;

import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code duplicate()}: a second owner of the same kernel object without BPF_*_GET_FD_BY_ID, which the
 * kernel allows only with CAP_SYS_ADMIN (the engine keeps the programs and maps of a loaded collection
 * this way, so that jvisord runs without it).
 */
@RequiresRoot
class DuplicateTest {
    @Test
    void aDuplicatedMapIsTheSameMapAndOutlivesTheOriginal() {
        BpfMap copy;
        try (BpfMap m = BpfMap.create(MapSpec.hash("dupme", 4, 8, 8))) {
            m.update(MapTypesTest.u32(1), MapTypesTest.u64(11));
            copy = m.duplicate();
            assertThat(copy.fd().get()).isNotEqualTo(m.fd().get());
            assertThat(copy.id()).isEqualTo(m.id());
            assertThat(copy.name()).isEqualTo("dupme");
        }
        try (copy) {
            assertThat(copy.lookup(MapTypesTest.u32(1)).map(MapTypesTest::asLong)).contains(11L);
            copy.update(MapTypesTest.u32(2), MapTypesTest.u64(22));
            assertThat(copy.lookup(MapTypesTest.u32(2)).map(MapTypesTest::asLong)).contains(22L);
        }
        assertThat(Fd.openCount()).isZero();
    }

    @Test
    void aDuplicatedProgramIsTheSameProgramAndOutlivesTheOriginal() {
        BpfProgram copy;
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("dupprog", ProgramType.XDP, null,
                new Asm().mov64(Register.R0, 2).exit().build()))) {
            copy = p.duplicate();
            assertThat(copy.id()).isEqualTo(p.id());
            assertThat(copy.type()).isEqualTo(ProgramType.XDP);
        }
        try (copy) {
            assertThat(copy.info().id()).isEqualTo(copy.id());
            assertThat(copy.testRun(TestRun.of(new byte[64])).returnValue()).isEqualTo(2);
        }
        assertThat(Fd.openCount()).isZero();
    }
}

package io.jvisor.bpf.elf;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

/** A bpf_loop callback: its address is loaded as BPF_PSEUDO_FUNC and the program runs. */
@RequiresRoot
class LoopCallbackTest {
    @Test
    void callbackAddressIsAPseudoFuncAndTheLoopRuns() {
        CollectionSpec spec = TestObjects.spec("loop_callback.c");
        ObjectProgram p = spec.program("xdp_loop").orElseThrow();
        assertThat(p.spec().instructions()).filteredOn(i -> i.opcode() == Opcodes.LD_IMM64)
                .extracting(Instruction::src).extracting(r -> r.number()).contains(4); // BPF_PSEUDO_FUNC
        try (Collection c = Collection.load(spec)) {
            assertThat(c.program("xdp_loop").testRun(TestRun.of(CollectionTest.frame(0x0800, 64))).returnValue())
                    .isEqualTo(2); // XDP_PASS: the callback ran 10 times and summed 1..10
        }
    }
}

package io.jvisor.bpf;

import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.features.Features;
import io.jvisor.bpf.features.Support;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.jvisor.bpf.asm.Register.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RequiresRoot
class ProgramTest {
    static final int XDP_DROP = 1, XDP_PASS = 2, XDP_TX = 3;

    /** An Ethernet + IPv4 + UDP frame of 64 bytes. */
    static byte[] udpFrame() {
        byte[] f = new byte[64];
        byte[] dst = {2, 0, 0, 0, 0, 2};
        byte[] src = {2, 0, 0, 0, 0, 1};
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = 0x08; // IPv4
        f[14] = 0x45;
        f[23] = 17; // UDP
        return f;
    }

    @Test
    void rawProgramRunsAndReturnsItsVerdict() {
        List<Instruction> code = new Asm().mov64(R0, XDP_DROP).exit().build();
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("drop", ProgramType.XDP, AttachType.XDP, code))) {
            TestRun.Result r = p.testRun(TestRun.of(udpFrame()).withRepeat(100));
            assertThat(r.returnValue()).isEqualTo(XDP_DROP);
            assertThat(r.durationNs()).isGreaterThanOrEqualTo(0);
            ProgramInfo info = p.info();
            assertThat(info.type()).isEqualTo(ProgramType.XDP);
            assertThat(info.name()).isEqualTo("drop");
            assertThat(info.id()).isEqualTo(p.id());
            assertThat(info.tag()).hasSize(16);
            assertThat(info.xlatedLength()).isEqualTo(2 * Instruction.SLOT);
        }
    }

    /** Swaps source and destination MAC and bounces the frame (XDP_TX), as a reflector would. */
    @Test
    void programRewritesThePacket() {
        List<Instruction> code = new Asm()
                .ldx(Opcodes.W, R2, R1, 0)       // data
                .ldx(Opcodes.W, R3, R1, 4)       // data_end
                .mov64(R4, R2).add64(R4, 14)
                .jmp(Opcodes.JGT, R4, R3, "pass")
                // swap 6-byte MACs as a 4-byte and a 2-byte half
                .ldx(Opcodes.W, R5, R2, 0).ldx(Opcodes.W, R6, R2, 6)
                .stx(Opcodes.W, R2, 0, R6).stx(Opcodes.W, R2, 6, R5)
                .ldx(Opcodes.H, R5, R2, 4).ldx(Opcodes.H, R6, R2, 10)
                .stx(Opcodes.H, R2, 4, R6).stx(Opcodes.H, R2, 10, R5)
                .mov64(R0, XDP_TX).exit()
                .label("pass").mov64(R0, XDP_PASS).exit()
                .build();
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("reflect", ProgramType.XDP, null, code))) {
            byte[] in = udpFrame();
            TestRun.Result r = p.testRun(TestRun.of(in));
            assertThat(r.returnValue()).isEqualTo(XDP_TX);
            assertThat(r.data()).hasSize(in.length);
            assertThat(Arrays.copyOfRange(r.data(), 0, 6)).isEqualTo(Arrays.copyOfRange(in, 6, 12));
            assertThat(Arrays.copyOfRange(r.data(), 6, 12)).isEqualTo(Arrays.copyOfRange(in, 0, 6));
            assertThat(Arrays.copyOfRange(r.data(), 12, 64)).isEqualTo(Arrays.copyOfRange(in, 12, 64));
        }
    }

    @Test
    void programCountsIntoAMapAndReportsMapIds() {
        try (BpfMap counts = BpfMap.create(MapSpec.array("cnt", 8, 1))) {
            List<Instruction> code = new Asm()
                    .st(Opcodes.W, R10, -4, 0)
                    .ldMap(R1, "cnt")
                    .mov64(R2, R10).add64(R2, -4)
                    .call(Helper.MAP_LOOKUP_ELEM)
                    .jmp(Opcodes.JEQ, R0, 0, "out")
                    .mov64(R1, 1)
                    .atomicAdd(Opcodes.DW, R0, 0, R1)
                    .label("out").mov64(R0, XDP_PASS).exit()
                    .build();
            try (BpfProgram p = BpfProgram.load(ProgramSpec.of("count", ProgramType.XDP, null, code),
                    Map.of("cnt", counts), LoadOptions.DEFAULT)) {
                p.testRun(TestRun.of(udpFrame()).withRepeat(1000));
                assertThat(MapTypesTest.asLong(counts.lookup(MapTypesTest.u32(0)).orElseThrow())).isEqualTo(1000);
                assertThat(p.info().mapIds()).containsExactly(counts.id());
            }
        }
    }

    @Test
    void verifierRejectionCarriesLogAndInstruction() {
        // r0 = *(u32 *)(r2 + 0) with r2 never set: the verifier refuses instruction 1.
        List<Instruction> code = new Asm().mov64(R0, 0).ldx(Opcodes.W, R0, R2, 0).exit().build();
        assertThatThrownBy(() -> BpfProgram.load(ProgramSpec.of("bad", ProgramType.XDP, null, code)))
                .isInstanceOfSatisfying(VerifierException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EACCES.number());
                    assertThat(e.instruction()).isEqualTo(1);
                    assertThat(e.log()).contains("R2 !read_ok");
                    assertThat(e.getMessage()).contains("program 'bad'").contains("instruction 1")
                            .contains("R2 !read_ok");
                });
    }

    @Test
    void verifierLogIsKeptOnRequest() {
        List<Instruction> code = new Asm().mov64(R0, XDP_PASS).exit().build();
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("logged", ProgramType.XDP, null, code),
                LoadOptions.DEFAULT.withLogLevel(2))) {
            assertThat(p.verifierLog()).contains("processed 2 insns");
        }
    }

    @Test
    void hugeLogGrowsTheBuffer() {
        // 2000 instructions at log level 2 overflow a 1 KiB buffer many times.
        Asm a = new Asm();
        for (int i = 0; i < 2000; i++) {
            a.mov64(R0, i);
        }
        List<Instruction> code = a.mov64(R0, XDP_PASS).exit().build();
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("long", ProgramType.XDP, null, code),
                new LoadOptions(2, 1024, 0))) {
            assertThat(p.verifierLog()).contains("processed 2002 insns");
        }
    }

    @Test
    void tooManyInstructionsIsRefusedBeforeTheSyscall() {
        List<Instruction> code = new ArrayList<>();
        Instruction nop = new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, R0, R0, 0, 0);
        for (int i = 0; i <= ProgramSpec.MAX_INSTRUCTIONS; i++) {
            code.add(nop);
        }
        int before = Fd.openCount();
        assertThatThrownBy(() -> BpfProgram.load(ProgramSpec.of("huge", ProgramType.XDP, null, code)))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                    assertThat(e.field()).isEqualTo("instructions");
                    assertThat(e.getMessage()).contains("1000001").contains("limit of 1000000");
                });
        assertThat(Fd.openCount()).isEqualTo(before);
    }

    @Test
    void unknownMapReferenceNamesTheMap() {
        List<Instruction> code = new Asm().ldMap(R1, "missing").mov64(R0, 0).exit().build();
        assertThatThrownBy(() -> BpfProgram.load(ProgramSpec.of("ref", ProgramType.XDP, null, code)))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("'missing'");
    }

    @Test
    void tailCallJumpsThroughAProgramArray() {
        try (BpfMap jt = BpfMap.create(MapSpec.progArray("jt", 2));
             BpfProgram target = BpfProgram.load(ProgramSpec.of("target", ProgramType.XDP, null,
                     new Asm().mov64(R0, XDP_TX).exit().build()))) {
            List<Instruction> entry = new Asm()
                    .ldMap(R2, "jt").mov64(R3, 1)
                    .call(Helper.TAIL_CALL)
                    .mov64(R0, XDP_DROP).exit() // reached only when the slot is empty
                    .build();
            try (BpfProgram p = BpfProgram.load(ProgramSpec.of("entry", ProgramType.XDP, null, entry),
                    Map.of("jt", jt), LoadOptions.DEFAULT)) {
                assertThat(p.testRun(TestRun.of(udpFrame())).returnValue()).isEqualTo(XDP_DROP);
                jt.setProgram(1, target);
                assertThat(p.testRun(TestRun.of(udpFrame())).returnValue()).isEqualTo(XDP_TX);
            }
        }
    }

    /**
     * With the live-frames flag the verdict takes effect: frames are really dropped, transmitted
     * or redirected. Without a context they arrive on the loopback device of this namespace, so a
     * dropping program touches nothing. Some kernels refuse the flag (EPERM, even to a process with
     * every capability bpf() checks): there the error must name the flag and the errno, and must not
     * send root to "run as root".
     */
    @Test
    void liveFramesRunEachFrameThroughTheProgram() {
        Support live = Features.xdpLiveFrames();
        try (BpfMap counts = BpfMap.create(MapSpec.array("live", 8, 1))) {
            List<Instruction> code = new Asm()
                    .st(Opcodes.W, R10, -4, 0)
                    .ldMap(R1, "live")
                    .mov64(R2, R10).add64(R2, -4)
                    .call(Helper.MAP_LOOKUP_ELEM)
                    .jmp(Opcodes.JEQ, R0, 0, "out")
                    .mov64(R1, 1)
                    .atomicAdd(Opcodes.DW, R0, 0, R1)
                    .label("out").mov64(R0, XDP_DROP).exit()
                    .build();
            try (BpfProgram p = BpfProgram.load(ProgramSpec.of("livedrop", ProgramType.XDP, AttachType.XDP, code),
                    Map.of("live", counts), LoadOptions.DEFAULT)) {
                TestRun run = TestRun.of(udpFrame()).withRepeat(500).withFlags(TestRun.XDP_LIVE_FRAMES);
                if (live.supported()) {
                    TestRun.Result r = p.testRun(run);
                    assertThat(r.data()).isEmpty();
                    assertThat(MapTypesTest.asLong(counts.lookup(MapTypesTest.u32(0)).orElseThrow())).isEqualTo(500);
                } else {
                    assertThatThrownBy(() -> p.testRun(run)).isInstanceOf(BpfException.class)
                            .satisfies(e -> assertThat(((BpfException) e).errno()).isEqualTo(live.errno()))
                            .hasMessageContaining("BPF_F_TEST_XDP_LIVE_FRAMES")
                            .hasMessageContaining(Errno.name(live.errno()))
                            .hasMessageNotContaining("run as root");
                    assertThat(live.hint()).isNotBlank();
                    // nothing ran: the refusal came before the first frame
                    assertThat(MapTypesTest.asLong(counts.lookup(MapTypesTest.u32(0)).orElseThrow())).isZero();
                }
            }
        }
    }

    @Test
    void testRunRejectsBadInputClearly() {
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("pass", ProgramType.XDP, null,
                new Asm().mov64(R0, XDP_PASS).exit().build()))) {
            assertThatThrownBy(() -> p.testRun(TestRun.of(new byte[4])))
                    .isInstanceOf(BpfException.class).hasMessageContaining("EINVAL").hasMessageContaining("data length");
        }
    }

    @Test
    void programOpensByIdAsTheSameObject() {
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("byid", ProgramType.SCHED_CLS, null,
                new Asm().mov64(R0, 0).exit().build()));
             BpfProgram again = BpfProgram.fromId(p.id())) {
            assertThat(again.id()).isEqualTo(p.id());
            assertThat(again.type()).isEqualTo(ProgramType.SCHED_CLS);
            assertThat(again.name()).isEqualTo("byid");
        }
        assertThatThrownBy(() -> BpfProgram.fromId(Integer.MAX_VALUE)).isInstanceOf(BpfException.class)
                .hasMessageContaining("no program has id");
    }
}

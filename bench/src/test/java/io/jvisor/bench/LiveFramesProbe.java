package io.jvisor.bench;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;

import java.util.Optional;

/**
 * Whether this kernel runs BPF_PROG_TEST_RUN with live frames, found out independently of
 * {@link PacketGenerator}: one live run of a two-instruction XDP program returning XDP_DROP (on the
 * loopback device of this thread's namespace; nothing is sent). The generator tests assert the
 * generator's choice against this answer, so they hold on kernels that allow live frames and on
 * kernels that refuse them.
 */
final class LiveFramesProbe {
    private LiveFramesProbe() {}

    /** The kernel's refusal of live frames, or empty where they run. */
    static Optional<BpfException> refusal() {
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("live_probe", ProgramType.XDP, AttachType.XDP,
                new Asm().mov64(Register.R0, 1 /* XDP_DROP */).exit().build()))) {
            p.testRun(TestRun.of(new byte[60]).withFlags(TestRun.XDP_LIVE_FRAMES));
            return Optional.empty();
        } catch (BpfException e) {
            return Optional.of(e);
        }
    }

    /** The refusal's errno name (EPERM, ...). */
    static String errnoName(BpfException e) {
        return Errno.name(e.errno());
    }
}

package io.jvisor.modules.bridge;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.JumpOp;
import io.jvisor.bpf.asm.Size;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static io.jvisor.bpf.asm.Register.R0;
import static io.jvisor.bpf.asm.Register.R1;
import static io.jvisor.bpf.asm.Register.R2;
import static io.jvisor.bpf.asm.Register.R6;
import static io.jvisor.bpf.asm.Register.R7;

/**
 * The kernel's tick counter (jiffies), as the bridge's data plane reads it with {@code bpf_jiffies64()}
 * to stamp FDB entries, seen from the control plane: its rate (HZ) and its value at any
 * {@link System#nanoTime()} (CLOCK_MONOTONIC on Linux, the clock jiffies follow).
 *
 * <p>Measured once per JVM with a tiny XDP program run through BPF_PROG_TEST_RUN that returns
 * {@code bpf_ktime_get_ns()} and {@code bpf_jiffies64()} from the same run: two tick boundaries some
 * 40 ms apart give HZ (rounded to a whole rate, the tick being {@code TICK_NSEC}, as the kernel
 * advances jiffies) and the phase of the ticks on the monotonic clock. A boundary counts only when
 * the runs around it were close together, so a descheduled thread does not skew the figures.
 */
final class KernelClock {
    private static final long SPAN_NS = 40_000_000L;
    /** The largest gap between two runs for a tick boundary between them to count. */
    private static final long MAX_GAP_NS = 200_000L;
    private static final long GIVE_UP_NS = 5_000_000_000L;

    /** HZ, the tick in ns (the kernel's TICK_NSEC), and jiffies {@code j0} at monotonic time {@code t0}. */
    record Calibration(long hz, long tickNs, long j0, long t0) {
        /** Jiffies at monotonic time {@code mono} (ns). */
        long jiffiesAt(long mono) {
            return j0 + Math.floorDiv(mono - t0, tickNs);
        }
    }

    private static volatile Calibration calibration;

    private KernelClock() {}

    /** The calibration, measured on first use. */
    static Calibration calibration() {
        Calibration c = calibration;
        if (c == null) {
            synchronized (KernelClock.class) {
                c = calibration;
                if (c == null) {
                    c = measure();
                    calibration = c;
                }
            }
        }
        return c;
    }

    /** The kernel's HZ: ticks per second. */
    static long hz() {
        return calibration().hz();
    }

    /** The current jiffies. */
    static long now() {
        return calibration().jiffiesAt(System.nanoTime());
    }

    /** A number of ticks in nanoseconds. */
    static long toNanos(long ticks) {
        return Math.multiplyExact(ticks, calibration().tickNs());
    }

    /** Seconds in ticks. */
    static long secondsToTicks(long seconds) {
        return Math.multiplyExact(seconds, hz());
    }

    /** Loads the program that writes {@code bpf_ktime_get_ns()} and {@code bpf_jiffies64()} into its packet. */
    private static BpfProgram program() {
        List<Instruction> code = new Asm()
                .load(Size.W, R6, R1, 0)        // data
                .load(Size.W, R7, R1, 4)        // data_end
                .mov64(R2, R6).add64(R2, 16)
                .jmp(JumpOp.JGT, R2, R7, "out")
                .call(Helper.KTIME_GET_NS)
                .store(Size.DW, R6, 0, R0)
                .call(Helper.JIFFIES64)
                .store(Size.DW, R6, 8, R0)
                .label("out")
                .mov64(R0, 2)                   // XDP_PASS
                .exit()
                .build();
        return BpfProgram.load(ProgramSpec.of("jv_jiffies", ProgramType.XDP, AttachType.XDP, code));
    }

    /** {monotonic ns, jiffies}, read by the kernel in one run (loads a program each time: for tests). */
    static long[] kernelSample() {
        try (BpfProgram p = program()) {
            return sample(p, TestRun.of(new byte[64]));
        }
    }

    private static Calibration measure() {
        try (BpfProgram p = program()) {
            TestRun run = TestRun.of(new byte[64]);
            long deadline = System.nanoTime() + GIVE_UP_NS;
            long[] a = boundary(p, run, deadline);
            try {
                Thread.sleep(SPAN_NS / 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring the kernel's HZ", e);
            }
            long[] b = boundary(p, run, deadline);
            long ticks = b[1] - a[1];
            if (ticks <= 0) {
                throw new IllegalStateException("jiffies did not advance (" + a[1] + " then " + b[1] + ")");
            }
            long hz = hz(1e9 * ticks / (b[0] - a[0]));
            long tickNs = (1_000_000_000L + hz / 2) / hz;
            return new Calibration(hz, tickNs, b[1], b[0]);
        }
    }

    /**
     * HZ from a measured rate: the nearest rate a kernel can be built with when within 1.5 % of it
     * (a late boundary is off by at most 200 us in 40 ms, 0.5 %), else the measure rounded. A wrong
     * HZ would make the conversion drift, 1 % of every age.
     */
    static long hz(double measured) {
        long best = 0;
        for (long k : KCONFIG_HZ) {
            if (Math.abs(measured - k) <= 0.015 * k && (best == 0 || Math.abs(measured - k) < Math.abs(measured - best))) {
                best = k;
            }
        }
        long hz = best != 0 ? best : Math.round(measured);
        if (hz < 10 || hz > 10_000) {
            throw new IllegalStateException("measured an implausible kernel HZ: " + measured);
        }
        return hz;
    }

    /** The HZ values Linux's Kconfig offers across architectures (x86: 100, 250, 300, 1000). */
    private static final long[] KCONFIG_HZ = {24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 1000, 1024, 1200};

    /** {monotonic ns, jiffies} at the first tick boundary found between two close runs. */
    private static long[] boundary(BpfProgram p, TestRun run, long deadline) {
        long[] prev = sample(p, run);
        while (true) {
            long[] s = sample(p, run);
            if (s[1] != prev[1] && s[0] - prev[0] <= MAX_GAP_NS) {
                return s;
            }
            if (s[0] > deadline) {
                throw new IllegalStateException("could not measure the kernel's HZ: no tick boundary found");
            }
            prev = s;
        }
    }

    private static long[] sample(BpfProgram p, TestRun run) {
        ByteBuffer out = ByteBuffer.wrap(p.testRun(run).data()).order(ByteOrder.LITTLE_ENDIAN);
        return new long[] {out.getLong(0), out.getLong(8)};
    }
}

package io.jvisor.bpf;

/**
 * A BPF_PROG_TEST_RUN request: run a program in the kernel against given input without attaching it.
 *
 * @param data packet bytes in (for networking programs), or null
 * @param dataOutSize room for the packet out; 0 picks input size plus 4 KiB
 * @param context context struct in (e.g. {@code struct xdp_md} or {@code struct __sk_buff}), or null
 * @param contextOutSize room for the context out, or 0
 * @param repeat how many times to run (the reported duration is the mean); 0 runs once, as 1 does
 *     (syscall programs accept only 0)
 * @param flags {@link #ON_CPU} and/or {@link #XDP_LIVE_FRAMES}
 * @param cpu the CPU to run on, with {@link #ON_CPU}
 * @param batchSize frames per batch with {@link #XDP_LIVE_FRAMES}, or 0
 */
public record TestRun(byte[] data, int dataOutSize, byte[] context, int contextOutSize, int repeat, int flags, int cpu,
                      int batchSize) {
    /** BPF_F_TEST_RUN_ON_CPU. */
    public static final int ON_CPU = 1;
    /**
     * BPF_F_TEST_XDP_LIVE_FRAMES: XDP verdicts take effect (XDP_TX and XDP_REDIRECT send frames for
     * real); no packet data comes back.
     */
    public static final int XDP_LIVE_FRAMES = 2;

    public TestRun {
        if (repeat < 0) {
            throw new IllegalArgumentException("repeat must not be negative, got " + repeat);
        }
    }

    /** One run with packet data. */
    public static TestRun of(byte[] data) {
        return new TestRun(data, 0, null, 0, 0, 0, 0, 0);
    }

    /** With a repeat count. */
    public TestRun withRepeat(int n) {
        return new TestRun(data, dataOutSize, context, contextOutSize, n, flags, cpu, batchSize);
    }

    /** With a context in and room for it out. */
    public TestRun withContext(byte[] ctx) {
        return new TestRun(data, dataOutSize, ctx, ctx == null ? 0 : ctx.length, repeat, flags, cpu, batchSize);
    }

    /** With flags. */
    public TestRun withFlags(int newFlags) {
        return new TestRun(data, dataOutSize, context, contextOutSize, repeat, newFlags, cpu, batchSize);
    }

    /**
     * The outcome.
     *
     * @param returnValue the program's return value (the verdict)
     * @param durationNs mean duration per run in nanoseconds
     * @param data the packet out, possibly rewritten or resized
     * @param context the context out, or null
     */
    public record Result(int returnValue, long durationNs, byte[] data, byte[] context) {}
}

package io.jvisor.bench;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.net.PacketSocket;
import io.jvisor.net.Rtnl;
import io.jvisor.net.lab.Host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The packet-rate benchmarks' traffic generator ({@link RouterPpsBench}, {@link FirewallBench}):
 * it sends copies of one Ethernet frame out of a lab host's {@code eth0}, as fast as it can. Two
 * kinds exist, because kernels differ in what they allow:
 *
 * <ul>
 *   <li>{@link LiveFrames}: the kernel sends, with {@code bpf/pps_gen.c} (an XDP program returning
 *       XDP_TX) run through BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES. The fastest sender
 *       (tens of ns a frame, on one CPU), but some kernels refuse the flag (EPERM on a 6.18 build
 *       whose root lacks CAP_SYS_RESOURCE).</li>
 *   <li>{@link AfPacket}: several platform threads, each with its own AF_PACKET socket opened in the
 *       sending host's namespace, set to PACKET_QDISC_BYPASS (straight to the driver) and sending
 *       bursts of copies with one {@code sendmmsg(2)} each ({@link PacketSocket#sendBurst}). Works
 *       wherever root can open a packet socket.</li>
 * </ul>
 *
 * <p>{@link #open} picks one for a {@link Choice}: {@code auto} probes live frames with a one-frame run
 * and falls back to af-packet when the kernel refuses them, and every generator says which one it
 * is and why it was chosen ({@link #describe()}, {@link #why()}), for the bench output and reports.
 */
sealed interface PacketGenerator extends AutoCloseable permits PacketGenerator.LiveFrames, PacketGenerator.AfPacket {

    /** The {@code --generator} option: which generator to run. */
    enum Choice {
        /** Live frames where the kernel allows them (a probe decides), else af-packet. */
        AUTO("auto"),
        /** {@link LiveFrames}, or a {@link GeneratorRefusedException} where the kernel refuses it. */
        LIVE("live"),
        /** {@link AfPacket}. */
        AF_PACKET("af-packet");

        private final String option;

        Choice(String option) {
            this.option = option;
        }

        /** The value as written on the command line: {@code auto}, {@code live} or {@code af-packet}. */
        String option() {
            return option;
        }

        /** The choice for an option value; fails naming the values there are. */
        static Choice parse(String value) {
            for (Choice c : values()) {
                if (c.option.equals(value)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("--generator " + value + ": not one of live, af-packet, auto");
        }
    }

    /**
     * What one send did.
     *
     * @param frames frames the kernel took to send
     * @param refused frames the sender's device refused at once (ENOBUFS, af-packet only); each was
     *     sent again, so they are not in {@code frames}
     */
    record Sent(long frames, long refused) {}

    /** Which generator this is: {@link Choice#LIVE} or {@link Choice#AF_PACKET}. */
    Choice kind();

    /** Why it runs: forced by the option, or what the auto probe found (with the refusal's errno). */
    String why();

    /** How it sends, in a few words, for the bench output. */
    String describe();

    /**
     * Whether the first device the frames enter must run NAPI (GRO on, for a veth) to take them:
     * true for XDP_TX frames, which a veth drops otherwise.
     */
    boolean needsNapi();

    /** Sends exactly {@code count} copies of {@code frame} out of {@code from}'s eth0. */
    Sent send(Host from, byte[] frame, long count);

    /** Sends copies of {@code frame} out of {@code from}'s eth0 for about {@code duration}. */
    Sent sendFor(Host from, byte[] frame, Duration duration);

    /** Releases what the generator holds (the live generator's program and map). */
    @Override
    void close();

    /** "KIND: DESCRIPTION; WHY": one line for logs and reports. */
    default String summary() {
        return kind().option() + " (" + describe() + "); " + why();
    }

    /**
     * Opens the generator {@code choice} asks for, with {@code senders} threads for af-packet. The
     * live generator is probed first, with one copy of {@code frame} sent out of {@code from}'s eth0
     * (a frame on the lab's first path, harmless): for {@link Choice#AUTO} a refusal (EPERM, EINVAL,
     * ENOTSUP) makes it af-packet, for {@link Choice#LIVE} it is a {@link GeneratorRefusedException}.
     */
    static PacketGenerator open(Choice choice, int senders, Host from, byte[] frame) {
        return switch (choice) {
            case AF_PACKET -> new AfPacket(senders, AfPacket.BURST, "forced (--generator af-packet)");
            case LIVE -> {
                try {
                    yield LiveFrames.probed(from, frame, "forced (--generator live)");
                } catch (GeneratorRefusedException e) {
                    throw new GeneratorRefusedException(e.getMessage() + "; --generator af-packet (or auto) sends without"
                            + " live frames", e.errno(), e.getCause());
                }
            }
            case AUTO -> {
                try {
                    yield LiveFrames.probed(from, frame, "auto: live frames work here (a one-frame live run succeeded)");
                } catch (GeneratorRefusedException e) {
                    yield new AfPacket(senders, AfPacket.BURST, "auto: " + e.getMessage());
                }
            }
        };
    }

    /** The effective capabilities of this process ({@code CapEff} of /proc/self/status), or "unknown". */
    static String effectiveCapabilities() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("CapEff:"))
                    .map(l -> l.substring(7).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /**
     * The kernel sends: {@code bpf/pps_gen.c}, an XDP program returning XDP_TX, run with
     * BPF_PROG_TEST_RUN and live frames from a thread inside the sending host (the context's ingress
     * ifindex is looked up there). Each frame is written from a template map first: a live frame's
     * page is recycled, and a router rewrites the frame in it. Every batch of 64 goes through the
     * path in the same CPU's softirq before the next is made, so it never runs ahead of a path.
     */
    final class LiveFrames implements PacketGenerator {
        /** The errnos that mean "this kernel does not let us run live frames" rather than a bug. */
        private static final Set<String> REFUSALS = Set.of("EPERM", "EINVAL", "ENOTSUP", "ENOTSUPP", "EOPNOTSUPP");

        private final Collection collection;
        private final BpfProgram program;
        private final BpfMap template;
        private final String why;

        private LiveFrames(Collection collection, String why) {
            this.collection = collection;
            this.program = collection.program("pps_gen");
            this.template = collection.map("pps_frame");
            this.why = why;
        }

        /**
         * Loads pps_gen and probes it: a plain test run (no live frames; it fails only for a real
         * problem such as missing privileges), then a live run of one frame out of {@code from}'s
         * eth0. A refused live run closes the program and throws {@link GeneratorRefusedException}.
         */
        static LiveFrames probed(Host from, byte[] frame, String why) {
            LiveFrames g = new LiveFrames(Collection.load(EngineBenchSupport.only(
                    EngineBenchSupport.compile("pps_gen.c"), "pps_gen"), CollectionOptions.DEFAULT), why);
            try {
                g.template.update(new byte[4], Arrays.copyOf(frame, 64));
                int verdict = g.program.testRun(TestRun.of(frame)).returnValue();
                if (verdict != 3) { // XDP_TX
                    throw new IllegalStateException("pps_gen returned " + verdict + " for the frame, not XDP_TX (3)");
                }
                try {
                    g.send(from, frame, 1);
                } catch (BpfException e) {
                    String name = Errno.name(e.errno());
                    if (!REFUSALS.contains(name)) {
                        throw e;
                    }
                    throw new GeneratorRefusedException("live frames refused: BPF_PROG_TEST_RUN of pps_gen with "
                            + "BPF_F_TEST_XDP_LIVE_FRAMES returned " + name + " (" + Errno.describe(e.errno())
                            + "), while its plain test run works, so it is the flag this kernel refuses (CapEff "
                            + effectiveCapabilities() + ")", e.errno(), e);
                }
                return g;
            } catch (RuntimeException | Error e) {
                g.close();
                throw e;
            }
        }

        @Override
        public Choice kind() {
            return Choice.LIVE;
        }

        @Override
        public String why() {
            return why;
        }

        @Override
        public String describe() {
            return "XDP_TX live-frames test run of bpf/pps_gen.c in the sending host, one CPU";
        }

        @Override
        public boolean needsNapi() {
            return true;
        }

        /** One live run of {@code count} frames (at most 2^31 - 1). */
        @Override
        public Sent send(Host from, byte[] frame, long count) {
            int ifindex;
            try (Rtnl rtnl = Rtnl.open(from.netns())) {
                ifindex = rtnl.ifindex("eth0");
            }
            template.update(new byte[4], Arrays.copyOf(frame, 64));
            // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
            byte[] ctx = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putInt(0)
                    .putInt(frame.length).putInt(0).putInt(ifindex).putInt(0).putInt(0).array();
            // live frames refuse a context out: contextOutSize 0
            TestRun run = new TestRun(frame, 0, ctx, 0, Math.toIntExact(count), TestRun.XDP_LIVE_FRAMES, 0, 0);
            from.netns().run(() -> program.testRun(run)); // a live run reports no verdict: the receivers count
            return new Sent(count, 0);
        }

        /**
         * Live runs sized for about 100 ms each from the rate of the run before (the first is 4,096
         * frames), so a slow path does not stretch the time.
         */
        @Override
        public Sent sendFor(Host from, byte[] frame, Duration duration) {
            long end = System.nanoTime() + duration.toNanos();
            long sent = 0;
            int count = 4096;
            for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
                long t0 = now;
                sent += send(from, frame, count).frames();
                double rate = count / Math.max(1e-6, (System.nanoTime() - t0) / 1e9);
                double left = (end - System.nanoTime()) / 1e9;
                count = (int) Math.max(1024, Math.min(10_000_000, rate * Math.min(0.1, Math.max(0, left))));
            }
            return new Sent(sent, 0);
        }

        @Override
        public void close() {
            collection.close();
        }
    }

    /**
     * Platform threads send: each opens its own packet socket in the sending host's namespace, sets
     * PACKET_QDISC_BYPASS and sends bursts of {@code burst} copies with one {@code sendmmsg(2)} per
     * burst out of the host's eth0. A frame handed to a veth goes through the path in the sending
     * thread's softirq, so each sender carries its frames through the path on its own CPU. A frame
     * the device refuses (ENOBUFS) is counted and sent again.
     *
     * @param senders sending threads, at least 1
     * @param burst copies per sendmmsg call, 1 to {@link PacketSocket#MAX_BURST}
     * @param why why this generator runs
     */
    record AfPacket(int senders, int burst, String why) implements PacketGenerator {
        /** The burst the benchmarks use. */
        static final int BURST = 256;
        /** A sender that makes no progress for this long fails: the device refuses everything. */
        private static final long STALL_NANOS = 5_000_000_000L;

        public AfPacket {
            if (senders < 1) {
                throw new IllegalArgumentException("af-packet needs at least one sender thread, not " + senders);
            }
            if (burst < 1 || burst > PacketSocket.MAX_BURST) {
                throw new IllegalArgumentException("a burst has 1 to " + PacketSocket.MAX_BURST + " copies, not " + burst);
            }
        }

        @Override
        public Choice kind() {
            return Choice.AF_PACKET;
        }

        @Override
        public String describe() {
            return senders + " sender thread" + (senders == 1 ? "" : "s") + ", each an AF_PACKET socket in the sending host"
                    + " with PACKET_QDISC_BYPASS, sendmmsg bursts of " + burst;
        }

        @Override
        public boolean needsNapi() {
            return false;
        }

        /** Nothing to release: each send opens and closes its own sockets. */
        @Override
        public void close() {
        }

        /** Splits {@code count} over the senders; returns when every frame was taken. */
        @Override
        public Sent send(Host from, byte[] frame, long count) {
            return run(from, frame, count, Long.MAX_VALUE);
        }

        @Override
        public Sent sendFor(Host from, byte[] frame, Duration duration) {
            return run(from, frame, Long.MAX_VALUE, System.nanoTime() + duration.toNanos());
        }

        private Sent run(Host from, byte[] frame, long count, long deadline) {
            int ifindex;
            try (Rtnl rtnl = Rtnl.open(from.netns())) {
                ifindex = rtnl.ifindex("eth0");
            }
            List<PacketSocket> sockets = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            long[] sent = new long[senders];
            long[] refused = new long[senders];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            try {
                for (int i = 0; i < senders; i++) {
                    PacketSocket s = PacketSocket.open(from.netns());
                    sockets.add(s);
                    s.setQdiscBypass(true);
                }
                for (int i = 0; i < senders; i++) {
                    int k = i;
                    long share = count == Long.MAX_VALUE ? Long.MAX_VALUE : count / senders + (k < count % senders ? 1 : 0);
                    // the socket belongs to the host's namespace; the thread itself need not enter it
                    threads.add(Thread.ofPlatform().name("af-packet-sender-" + k).start(() -> {
                        try {
                            long[] r = burst(sockets.get(k), ifindex, frame, share, deadline);
                            sent[k] = r[0];
                            refused[k] = r[1];
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the af-packet senders ran", e);
            } finally {
                sockets.forEach(PacketSocket::close);
            }
            if (failure.get() != null) {
                throw new IllegalStateException("an af-packet sender in " + from + " failed: " + failure.get(), failure.get());
            }
            return new Sent(Arrays.stream(sent).sum(), Arrays.stream(refused).sum());
        }

        /** One sender's loop: {@code share} frames or until {@code deadline}; returns {sent, refused}. */
        private long[] burst(PacketSocket socket, int ifindex, byte[] frame, long share, long deadline) {
            long sent = 0;
            long refused = 0;
            long progress = System.nanoTime();
            while (sent < share) {
                long now = System.nanoTime();
                if (deadline != Long.MAX_VALUE && now - deadline >= 0) {
                    break;
                }
                int n = (int) Math.min(burst, share - sent);
                int took = socket.sendBurst(ifindex, frame, n);
                sent += took;
                if (took < n) { // the device refused the next frame: it was not sent
                    refused++;
                    if (took == 0 && now - progress > STALL_NANOS) {
                        throw new IllegalStateException(String.format(Locale.ROOT, "the device (ifindex %d) refused "
                                + "every frame for %d s (%d refused, %d sent)", ifindex, STALL_NANOS / 1_000_000_000L,
                                refused, sent));
                    }
                    Thread.yield();
                }
                if (took > 0) {
                    progress = now;
                }
            }
            return new long[] {sent, refused};
        }
    }
}

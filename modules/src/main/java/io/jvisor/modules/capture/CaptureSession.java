package io.jvisor.modules.capture;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.ringbuf.RingBufReader;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Topology;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A running capture on one capture instance: it switches the instance's capture on, reads its ring
 * buffer on a thread of its own and writes every record to a {@link PcapWriter}, flushing after each
 * batch so that a live reader (a pipe into {@code tcpdump -r -}) sees frames as they come.
 *
 * <pre>{@code
 * try (PcapWriter pcap = PcapWriter.create(Path.of("cap.pcap"), CaptureConfig.MAX_SNAPLEN);
 *      CaptureSession s = CaptureSession.start(engine, "cap", pcap)) {
 *     ...
 *     CaptureSummary summary = s.stop();   // drains what the kernel captured, then reports losses
 * }
 * }</pre>
 *
 * <p>Capture costs the data plane nothing beyond one map lookup while no session is active, and
 * losses are counted only while one is. A ring buffer has one reader, so an instance has at most one
 * session at a time; the instance's {@code cap_active} map holds the process id of the session's
 * process, and a session left behind by a process that has died is taken over.
 *
 * <p>Timestamps: the kernel stamps records with {@code bpf_ktime_get_ns()} (CLOCK_MONOTONIC); the
 * session converts them to wall-clock time with the offset between {@link Instant#now()} and
 * {@link System#nanoTime()} (also CLOCK_MONOTONIC on Linux) taken when it starts.
 */
public final class CaptureSession implements AutoCloseable {
    /** struct cap_record: ts_ns, wire_len, cap_len, in_port, hook. */
    static final int RECORD_HEADER = 24;
    private static final byte[] ZERO_KEY = new byte[4];
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** How long the reader lets records gather after a batch. */
    static final long BATCH_NANOS = 1_000_000;

    private final String instance;
    private final BpfMap active;
    private final BpfMap stats;
    private final PcapWriter out;
    private final RingBufReader reader;
    private final CaptureStats baseline;
    private final long clockOffset;
    private final int pid;
    private final Thread thread;
    private final Object progress = new Object();
    private volatile boolean stopping;
    private long count;                // frames written; owned by the thread that is reading the ring
    private volatile long written;     // count, as of the last batch
    private volatile String failure;
    private CaptureSummary finalSummary;

    /** The ring each running session of this process reads, by the id of its instance's cap_active map. */
    private static final java.util.Map<Integer, Integer> RINGS = new java.util.concurrent.ConcurrentHashMap<>();

    private CaptureSession(String instance, BpfMap ring, BpfMap active, BpfMap stats, PcapWriter out) {
        this.instance = instance;
        this.active = active;
        this.stats = stats;
        this.out = out;
        this.pid = (int) ProcessHandle.current().pid();
        synchronized (CaptureSession.class) { // two sessions started at once in this process: one wins
            int owner = owner(active);
            if (owner != 0 && ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
                throw new IllegalStateException("capture instance '" + instance + "' already has a session, in "
                        + "process " + owner + (owner == pid ? " (this one)" : "") + "; a ring buffer has one reader");
            }
            this.reader = RingBufReader.open(ring);
            try {
                reader.drainRaw((r, o, l) -> { }); // records a dead session left behind
                this.baseline = CaptureStats.read(stats);
                Instant now = Instant.now();
                this.clockOffset = now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
                active.update(ZERO_KEY, le(pid));
                RINGS.put(active.id(), ring.id());
            } catch (RuntimeException e) {
                reader.close();
                throw e;
            }
        }
        this.thread = Thread.ofPlatform().name("capture-" + instance).daemon().start(this::run);
    }

    /**
     * Starts capturing on a {@code capture} instance of a running engine.
     *
     * @param engine the engine that runs the instance
     * @param instance the instance's name
     * @param out where the frames go; the caller closes it after the session
     * @throws IllegalArgumentException when there is no such instance or it is not a capture point
     * @throws IllegalStateException when the instance already has a live session
     */
    public static CaptureSession start(Engine engine, String instance, PcapWriter out) {
        Topology.Instance spec = engine.topology().instance(instance);
        if (spec == null) {
            throw new IllegalArgumentException("no instance '" + instance + "' in engine '" + engine.options().name()
                    + "'");
        }
        if (!spec.type().equals(CaptureModule.NAME)) {
            throw new IllegalArgumentException("instance '" + instance + "' is a " + spec.type() + ", not a "
                    + CaptureModule.NAME + " instance");
        }
        return new CaptureSession(instance, engine.map(instance, "cap_ring"), engine.map(instance, "cap_active"),
                engine.map(instance, "cap_stats"), out);
    }

    /**
     * Starts capturing from a capture instance's maps, for code that holds them (a control plane's
     * {@code InstanceContext.map}, or maps opened by id or pin).
     */
    public static CaptureSession start(String instance, BpfMap ring, BpfMap active, BpfMap stats, PcapWriter out) {
        return new CaptureSession(instance, ring, active, stats, out);
    }

    private void run() {
        try {
            while (!stopping) {
                if (reader.pollRaw(Duration.ofMillis(100), this::record) > 0) {
                    publish();
                    out.flush();
                    // Let records gather for a moment: one wake-up and one write per batch instead of
                    // one per frame; a live reader sees frames at most about a millisecond late.
                    LockSupport.parkNanos(BATCH_NANOS);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            fail(e instanceof UncheckedIOException u ? u.getCause() : e);
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void fail(Throwable e) {
        failure = "writing the pcap output failed: " + e.getMessage();
        written = count;
        deactivate(); // nothing reads the ring any more: stop filling it
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    private void record(MemorySegment ring, long offset, int length) {
        long ts = ring.get(LE_LONG, offset);
        int wire = ring.get(LE_INT, offset + 8);
        int cap = ring.get(LE_INT, offset + 12);
        cap = Math.min(cap, length - RECORD_HEADER);
        try {
            out.write(ts + clockOffset, wire, ring, offset + RECORD_HEADER, cap);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        count++; // published per batch: a volatile write per frame would cost more than the frame
    }

    private void publish() {
        written = count;
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    /** The capture instance's name. */
    public String instance() {
        return instance;
    }

    /** Frames written so far. */
    public long written() {
        return written;
    }

    /** The session's figures so far: frames written and the kernel's counters since the start. */
    public synchronized CaptureSummary summary() {
        if (finalSummary != null) {
            return finalSummary;
        }
        return new CaptureSummary(written, CaptureStats.read(stats).minus(baseline), failure);
    }

    /**
     * Waits until at least {@code n} frames have been written, the output failed, or the timeout
     * passed.
     *
     * @return true when {@code n} frames were written
     */
    public boolean awaitWritten(long n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            while (written < n && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(progress, Math.min(left, TimeUnit.MILLISECONDS.toNanos(20)));
            }
        }
        return written >= n;
    }

    /**
     * Switches the capture off, writes every record the kernel had already captured, flushes the
     * output and reports. A second call returns the same summary.
     *
     * @return frames written, and the kernel's counters over the session (losses included)
     */
    public synchronized CaptureSummary stop() {
        if (finalSummary != null) {
            return finalSummary;
        }
        deactivate();
        stopping = true;
        reader.wakeup();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        CaptureStats k = CaptureStats.read(stats).minus(baseline);
        try {
            if (failure == null) {
                // A CPU that saw the switch still on may commit its record just after: wait for every
                // record the kernel counted as captured (briefly: it is a matter of microseconds).
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                while (true) {
                    if (reader.drainRaw(this::record) > 0) {
                        publish();
                        out.flush();
                    }
                    k = CaptureStats.read(stats).minus(baseline);
                    if (count >= k.captured() || System.nanoTime() > deadline) {
                        break;
                    }
                    Thread.onSpinWait();
                }
                out.flush();
            }
        } catch (IOException | UncheckedIOException e) {
            failure = "writing the pcap output failed: " + (e instanceof UncheckedIOException u ? u.getCause() : e)
                    .getMessage();
        } finally {
            reader.close();
        }
        publish();
        finalSummary = new CaptureSummary(count, k, failure);
        return finalSummary;
    }

    /** {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    private void deactivate() {
        synchronized (CaptureSession.class) {
            if (owner(active) == pid) {
                active.update(ZERO_KEY, le(0));
                RINGS.remove(active.id());
            }
        }
    }

    /** The id of the ring a running session of this process reads for this cap_active map, or null. */
    static Integer ringOf(BpfMap active) {
        return RINGS.get(active.id());
    }

    static int owner(BpfMap active) {
        return active.lookup(ZERO_KEY).map(v -> ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getInt(0))
                .orElse(0);
    }

    static boolean ownerAlive(int owner) {
        return owner != 0 && Files.exists(Path.of("/proc", Integer.toString(owner)));
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}

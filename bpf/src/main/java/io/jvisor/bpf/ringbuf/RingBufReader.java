package io.jvisor.bpf.ringbuf;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.Fd;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.sys.Syscall;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Consumes a {@code BPF_MAP_TYPE_RINGBUF} map through shared memory, the way the kernel intends:
 * no syscall per record, no copy, records in the order the producers reserved them.
 *
 * <h2>Memory layout</h2>
 * The reader maps the consumer page read-write (file offset 0, one page) and the producer page plus
 * the data area read-only (file offset one page, length one page plus twice the data size: the
 * kernel maps the data pages twice in a row, so a record that wraps around the end of the ring is
 * still contiguous). {@code consumer_pos} and {@code producer_pos} are the first u64 of their
 * pages; they only grow, and a position's place in the ring is {@code pos & (size - 1)}. Each record
 * starts with an 8-byte header whose first u32 is the payload length, with bit 31 set while the
 * record is still being written (BUSY) and bit 30 set when the producer discarded it (DISCARD);
 * records take {@code roundUp(8 + length, 8)} bytes. The positions and the header word are read
 * with acquire semantics and the consumer position is written with release semantics, pairing with
 * the kernel's {@code smp_store_release}/{@code smp_load_acquire}.
 *
 * <h2>Threads</h2>
 * A ring buffer has one consumer. {@link #poll}, {@link #pollRaw}, {@link #drain} and
 * {@link #drainRaw} may be called from any thread, but one at a time (calls are serialized by a
 * lock; calling them from inside a handler is an error). {@link #wakeup()}, the counters and
 * {@link #close()} may be called from any thread at any time: {@code close()} wakes a blocked poll,
 * waits for it to return, and only then unmaps the ring and closes the descriptors. Closing from
 * inside a handler is allowed: delivery stops and the resources are released when the enclosing
 * poll or drain returns.
 *
 * <h2>Wake-ups</h2>
 * The kernel signals the map's file descriptor only when a record is committed while the consumer
 * has caught up to it, so a consumer that drains completely before sleeping never misses data. An
 * eventfd registered edge-triggered in the same epoll set lets {@link #wakeup()} interrupt a
 * blocking poll from another thread; a wake-up sent while no poll is waiting makes the next poll
 * return at once. Each sleep costs the producers one notification (an irq_work) and the consumer
 * one scheduler wake-up; under sustained load a dedicated thread may instead call
 * {@link #drainRaw} in a loop and never sleep, trading a CPU for latency.
 *
 * <p>The reader does not own the map: closing the reader leaves the map open, and the map must stay
 * open for as long as the reader is used.
 */
public final class RingBufReader implements AutoCloseable {
    /** Record header size (BPF_RINGBUF_HDR_SZ). */
    static final int HEADER_SIZE = 8;
    /** Bit 31 of the header's length word: the record is reserved but not yet committed. */
    static final int BUSY_BIT = 1 << 31;
    /** Bit 30 of the header's length word: the producer discarded the record. */
    static final int DISCARD_BIT = 1 << 30;
    private static final int LENGTH_MASK = ~(BUSY_BIT | DISCARD_BIT);

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private static final long PAGE_SIZE = pageSize();

    // struct epoll_event is packed on x86_64 (12 bytes, data at 4) and naturally aligned elsewhere.
    private static final boolean PACKED_EPOLL_EVENT = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> true;
        default -> false;
    };
    private static final long EPOLL_EVENT_SIZE = PACKED_EPOLL_EVENT ? 12 : 16;
    private static final long EPOLL_DATA_OFFSET = PACKED_EPOLL_EVENT ? 4 : 8;
    private static final int EPOLLIN = 0x001;
    private static final int EPOLLET = 1 << 31;
    private static final int EPOLL_CTL_ADD = 1;
    private static final long TOKEN_RING = 1, TOKEN_WAKEUP = 2;

    private final String what;
    private final long dataSize;
    private final long mask;

    private final MemorySegment consumerMapping; // global scope, for munmap only
    private final MemorySegment producerMapping; // global scope, for munmap only
    private final Arena arena;                   // scopes every view handed out or used below
    private final MemorySegment consumerPage;    // read-write, one page
    private final MemorySegment producerPage;    // read-only
    private final MemorySegment data;            // read-only, 2 * dataSize

    private final Fd epoll;
    private final Fd eventFd;
    private final MemorySegment events;          // room for two struct epoll_event
    private final MemorySegment one;             // the u64 written to the eventfd

    private final ReentrantLock consumer = new ReentrantLock();
    private final Object fdLock = new Object();
    private volatile boolean closed;
    private boolean released;                    // guarded by fdLock

    private long consumerPos;                    // owned by the lock holder
    private volatile long records;
    private volatile long bytes;
    private volatile long discarded;

    // reinterpret only rescopes the mappings to the arena; their sizes are the exact mmap lengths.
    @SuppressWarnings("restricted")
    private RingBufReader(String what, long dataSize, MemorySegment consumerMapping, MemorySegment producerMapping,
                          Fd epoll, Fd eventFd) {
        this.what = what;
        this.dataSize = dataSize;
        this.mask = dataSize - 1;
        this.consumerMapping = consumerMapping;
        this.producerMapping = producerMapping;
        this.epoll = epoll;
        this.eventFd = eventFd;
        this.arena = Arena.ofShared();
        this.consumerPage = consumerMapping.reinterpret(arena, null);
        MemorySegment producer = producerMapping.reinterpret(arena, null).asReadOnly();
        this.producerPage = producer.asSlice(0, PAGE_SIZE);
        this.data = producer.asSlice(PAGE_SIZE, 2 * dataSize);
        Arena small = Arena.ofAuto();
        this.events = small.allocate(2 * EPOLL_EVENT_SIZE, 8);
        this.one = small.allocate(ValueLayout.JAVA_LONG);
        this.one.set(ValueLayout.JAVA_LONG, 0, 1L);
        this.consumerPos = (long) LONG.getAcquire(consumerPage, 0L);
    }

    /**
     * Opens a reader on {@code map}, which must be a {@link MapType#RINGBUF} map. Consumption starts
     * at the map's current consumer position, so records that an earlier reader consumed are not
     * seen again.
     *
     * @param map the ring buffer; it must stay open while the reader is used
     * @return an open reader, to be closed
     * @throws BpfException when the map is not a ring buffer, or mapping it or setting up epoll fails
     */
    public static RingBufReader open(BpfMap map) {
        String what = (map.type() == null ? "map" : map.type().kernelName()) + " '" + map.name() + "'";
        if (map.type() != MapType.RINGBUF) {
            String hint = map.type() == MapType.USER_RINGBUF
                    ? "a user_ringbuf map is written by user space and read by BPF programs; a reader needs a "
                    + "ringbuf map (MapSpec.ringBuf)"
                    : what + " is not a ring buffer; only BPF_MAP_TYPE_RINGBUF maps can be read, create one with "
                    + "MapSpec.ringBuf(name, bytes)";
            throw new BpfException("open ring buffer reader on " + what, 0, hint);
        }
        long dataSize = Integer.toUnsignedLong(map.maxEntries());
        if (Long.bitCount(dataSize) != 1 || dataSize % PAGE_SIZE != 0) {
            throw new BpfException("open ring buffer reader on " + what, 0,
                    "the data size " + dataSize + " is not a power of two multiple of the page size " + PAGE_SIZE);
        }
        int mapFd = map.fd().get();
        MemorySegment consumerMapping = null;
        MemorySegment producerMapping = null;
        Fd epoll = null;
        Fd eventFd = null;
        try {
            consumerMapping = Syscall.mmap(PAGE_SIZE, Syscall.PROT_READ | Syscall.PROT_WRITE, Syscall.MAP_SHARED,
                    mapFd, 0);
            if (Syscall.mmapFailed(consumerMapping)) {
                int errno = (int) -consumerMapping.address();
                consumerMapping = null;
                throw new BpfException("mmap consumer page of " + what, errno, mmapHint(errno, PAGE_SIZE));
            }
            long producerLength = PAGE_SIZE + 2 * dataSize;
            producerMapping = Syscall.mmap(producerLength, Syscall.PROT_READ, Syscall.MAP_SHARED, mapFd, PAGE_SIZE);
            if (Syscall.mmapFailed(producerMapping)) {
                int errno = (int) -producerMapping.address();
                producerMapping = null;
                throw new BpfException("mmap producer page and data of " + what, errno, mmapHint(errno, producerLength));
            }
            int ep = Syscall.epollCreate();
            if (ep < 0) {
                throw new BpfException("epoll_create1 for " + what, -ep, BpfException.defaultHint(-ep));
            }
            epoll = Fd.adopt(ep, "epoll of ring buffer reader on " + what);
            int ev = Syscall.eventfd();
            if (ev < 0) {
                throw new BpfException("eventfd for " + what, -ev, BpfException.defaultHint(-ev));
            }
            eventFd = Fd.adopt(ev, "wakeup eventfd of ring buffer reader on " + what);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment e = a.allocate(EPOLL_EVENT_SIZE, 8);
                register(epoll.get(), mapFd, EPOLLIN, TOKEN_RING, e, "epoll_ctl ADD " + what);
                register(epoll.get(), eventFd.get(), EPOLLIN | EPOLLET, TOKEN_WAKEUP, e,
                        "epoll_ctl ADD wakeup eventfd of " + what);
            }
            return new RingBufReader(what, dataSize, consumerMapping, producerMapping, epoll, eventFd);
        } catch (RuntimeException | Error e) {
            if (eventFd != null) {
                eventFd.close();
            }
            if (epoll != null) {
                epoll.close();
            }
            if (producerMapping != null) {
                Syscall.munmap(producerMapping);
            }
            if (consumerMapping != null) {
                Syscall.munmap(consumerMapping);
            }
            throw e;
        }
    }

    private static void register(int epfd, int fd, int eventMask, long token, MemorySegment e, String operation) {
        e.fill((byte) 0);
        e.set(ValueLayout.JAVA_INT, 0, eventMask);
        e.set(ValueLayout.JAVA_LONG_UNALIGNED, EPOLL_DATA_OFFSET, token);
        int r = Syscall.epollCtl(epfd, EPOLL_CTL_ADD, fd, e);
        if (r < 0) {
            throw new BpfException(operation, -r, BpfException.defaultHint(-r));
        }
    }

    private static String mmapHint(int errno, long length) {
        return switch (Errno.name(errno)) {
            case "EPERM", "EACCES" -> "the kernel refused the mapping: only the consumer page may be mapped writable; "
                    + "the map may also have been created read-only or the fd lacks access";
            case "ENOMEM", "EAGAIN" -> "cannot map " + length + " bytes; check address space and memlock limits";
            case "EINVAL" -> "the kernel refused the offset or length " + length + "; is this a ring buffer map?";
            default -> BpfException.defaultHint(errno);
        };
    }

    private static long pageSize() {
        // AT_PAGESZ (6) from the auxiliary vector: the page size the kernel uses for mappings.
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of("/proc/self/auxv"))).order(ByteOrder.nativeOrder());
            while (b.remaining() >= 16) {
                long type = b.getLong();
                long value = b.getLong();
                if (type == 6 && value > 0) {
                    return value;
                }
                if (type == 0) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the common default
        }
        return 4096;
    }

    // ---- consuming -------------------------------------------------------------------------

    /**
     * Waits up to {@code timeout} for records, then consumes every record available, handing each
     * to {@code handler} as a slice of the mapping (see {@link RecordHandler} for its lifetime).
     * Records already waiting are consumed without sleeping.
     *
     * <p>It may return 0 before the timeout: after {@link #wakeup()}, a signal, or when the next
     * record is reserved but not yet committed. Callers loop.
     *
     * @param timeout how long to wait when nothing is available: zero does not wait; a timeout of
     *     {@link Integer#MAX_VALUE} milliseconds or more waits without limit
     * @param handler receives each record
     * @return the number of records handed to the handler (discarded records are not counted)
     * @throws IllegalStateException when the reader is closed, or when called from a handler
     * @throws BpfException when epoll_wait fails
     * @throws RuntimeException whatever the handler throws; the record it threw on counts as consumed
     */
    public int poll(Duration timeout, RecordHandler handler) {
        return pollRaw(timeout, slicing(handler));
    }

    /**
     * {@link #poll} that hands records over as positions in the data mapping, allocating nothing
     * per record.
     *
     * @param timeout as for {@link #poll(Duration, RecordHandler)}
     * @param handler receives each record's position and length in the data mapping
     * @return the number of records handed to the handler
     * @see #poll(Duration, RecordHandler)
     */
    public int pollRaw(Duration timeout, RawRecordHandler handler) {
        int timeoutMs = timeoutMillis(timeout);
        enter();
        try {
            int n = consume(handler);
            if (n > 0 || timeoutMs == 0 || closed) {
                return n;
            }
            int r = Syscall.epollWait(epoll.get(), events, 2, timeoutMs);
            if (r < 0 && r != -Errno.EINTR.number()) {
                throw new BpfException("epoll_wait on " + what, -r, BpfException.defaultHint(-r));
            }
            return consume(handler);
        } finally {
            exit();
        }
    }

    /**
     * Consumes every record available now without waiting, handing each to {@code handler} as a
     * slice of the mapping. A call stops once it has caught up with the producers, or after one
     * ring's worth of data when the producers keep pace with it, so that it always returns.
     *
     * @param handler receives each record
     * @return the number of records handed to the handler (discarded records are not counted)
     * @throws IllegalStateException when the reader is closed, or when called from a handler
     * @throws RuntimeException whatever the handler throws; the record it threw on counts as consumed
     */
    public int drain(RecordHandler handler) {
        return drainRaw(slicing(handler));
    }

    /**
     * {@link #drain} that hands records over as positions in the data mapping, allocating nothing
     * per record.
     *
     * @param handler receives each record's position and length in the data mapping
     * @return the number of records handed to the handler
     * @see #drain(RecordHandler)
     */
    public int drainRaw(RawRecordHandler handler) {
        enter();
        try {
            return consume(handler);
        } finally {
            exit();
        }
    }

    private static RawRecordHandler slicing(RecordHandler handler) {
        return (ring, offset, length) -> handler.onRecord(ring.asSlice(offset, length));
    }

    private static int timeoutMillis(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
        }
        if (timeout.isZero()) {
            return 0;
        }
        long ms;
        try {
            ms = timeout.toMillis();
            if (timeout.minusMillis(ms).isPositive()) {
                ms++; // round partial milliseconds up, so that a tiny timeout still waits
            }
        } catch (ArithmeticException overflow) {
            return -1;
        }
        return ms >= Integer.MAX_VALUE ? -1 : (int) ms;
    }

    private void enter() {
        consumer.lock();
        if (consumer.getHoldCount() > 1) {
            consumer.unlock();
            throw new IllegalStateException("poll/drain of the ring buffer reader on " + what
                    + " called from inside one of its record handlers");
        }
        if (closed) {
            exit();
            throw new IllegalStateException("the ring buffer reader on " + what + " is closed");
        }
    }

    private void exit() {
        try {
            if (closed) {
                release();
            }
        } finally {
            consumer.unlock();
        }
    }

    /** The consumer loop; the caller holds the consumer lock. */
    private int consume(RawRecordHandler handler) {
        final MemorySegment data = this.data;
        final long mask = this.mask;
        final long start = consumerPos;
        long cons = start;
        long n = 0;
        long payload = 0;
        long skipped = 0;
        try {
            outer:
            while (!closed) {
                long prod = (long) LONG.getAcquire(producerPage, 0L);
                if (cons >= prod) {
                    break;
                }
                do {
                    long offset = cons & mask;
                    int header = (int) INT.getAcquire(data, offset);
                    if ((header & BUSY_BIT) != 0) {
                        break outer; // reserved but not committed yet: records after it must wait
                    }
                    int length = header & LENGTH_MASK;
                    long size = (length + (long) HEADER_SIZE + 7) & ~7L;
                    if (size > dataSize) {
                        throw new IllegalStateException("corrupt record header 0x" + Integer.toHexString(header)
                                + " at position " + cons + " of " + what);
                    }
                    cons += size;
                    if ((header & DISCARD_BIT) != 0) {
                        skipped++;
                    } else {
                        n++;
                        payload += length;
                        handler.onRecord(data, offset + HEADER_SIZE, length);
                    }
                    // Hand the space back only after the handler is done with it.
                    LONG.setRelease(consumerPage, 0L, cons);
                } while (cons < prod && !closed);
                if (cons - start >= dataSize) {
                    break; // producers keep pace: return now and then rather than never
                }
            }
        } finally {
            if (cons != consumerPos) {
                LONG.setRelease(consumerPage, 0L, cons); // also covers a record whose handler threw
                consumerPos = cons;
            }
            if (n != 0) {
                records += n;
                bytes += payload;
            }
            if (skipped != 0) {
                discarded += skipped;
            }
        }
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    /**
     * Interrupts a {@link #poll} blocked in another thread, which then returns after consuming what
     * is available. When no poll is waiting, the next one returns without sleeping; several
     * wake-ups before a poll count as one. Does nothing once the reader is closed.
     */
    public void wakeup() {
        if (!closed) {
            signal();
        }
    }

    private void signal() {
        synchronized (fdLock) {
            if (released) {
                return;
            }
            long r = Syscall.write(eventFd.get(), one);
            if (r < 0 && r != -Errno.EAGAIN.number()) { // EAGAIN: the counter is saturated, a wake-up is pending anyway
                throw new BpfException("write wakeup eventfd of " + what, (int) -r, BpfException.defaultHint((int) -r));
            }
        }
    }

    // ---- state and counters ----------------------------------------------------------------

    /** Bytes of the data area (the map's max_entries): a power of two multiple of the page size. */
    public long ringSize() {
        return dataSize;
    }

    /**
     * Bytes between the consumer and producer positions right now: records waiting (with their
     * headers and padding), including any still being written.
     *
     * @throws IllegalStateException when the reader is closed
     */
    public long available() {
        long prod = (long) LONG.getAcquire(producerPage, 0L);
        long cons = (long) LONG.getAcquire(consumerPage, 0L);
        return prod - cons;
    }

    /** Records handed to handlers since the reader was opened. */
    public long recordsConsumed() {
        return records;
    }

    /** Payload bytes handed to handlers since the reader was opened (headers and padding excluded). */
    public long bytesConsumed() {
        return bytes;
    }

    /** Records that producers discarded ({@code bpf_ringbuf_discard}) and the reader skipped. */
    public long discardedSkipped() {
        return discarded;
    }

    /** True once {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Stops the reader: wakes a poll blocked in another thread, waits for it to return, then unmaps
     * the ring and closes the epoll and eventfd descriptors. Called from inside a handler, it stops
     * delivery and the release happens when the enclosing poll or drain returns. A second call does
     * nothing. The map itself stays open.
     */
    @Override
    public void close() {
        closed = true;
        if (consumer.isHeldByCurrentThread()) {
            return; // inside a handler: exit() releases once the poll or drain unwinds
        }
        signal();
        consumer.lock();
        try {
            release();
        } finally {
            consumer.unlock();
        }
    }

    private void release() {
        synchronized (fdLock) {
            if (released) {
                return;
            }
            released = true;
        }
        try {
            arena.close(); // views handed to handlers now fail cleanly instead of touching unmapped memory
            Syscall.munmap(producerMapping);
            Syscall.munmap(consumerMapping);
        } finally {
            epoll.close();
            eventFd.close();
        }
    }

    /** The map, the ring size, the records consumed so far and whether the reader is closed. */
    @Override
    public String toString() {
        return "RingBufReader[" + what + ", " + dataSize + " bytes, " + records + " records consumed"
                + (closed ? ", closed" : "") + "]";
    }
}

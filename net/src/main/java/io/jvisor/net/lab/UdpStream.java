package io.jvisor.net.lab;

import io.jvisor.net.Netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A UDP stream with sequence numbers between two namespaces, whose receiver reports exact figures:
 * received, lost, duplicated and reordered datagrams. Hot-swap tests depend on exact loss counts,
 * which is why this is not iperf3 (whose UDP loss is an estimate over intervals).
 *
 * <p>Each datagram carries a magic number, a per-stream id (so that strays are ignored) and a
 * 64-bit sequence number, padded to the payload size. The sender paces itself to a packet rate.
 * Send a fixed count with {@link #send(long, int)}, or run in the background with
 * {@link #start(int)} and {@link #stop()}; then {@link #finish(Duration)} waits for stragglers and
 * reports.
 */
public final class UdpStream implements AutoCloseable {
    private static final int MAGIC = 0x4a565355; // "JVSU"
    private static final int HEADER = 16;

    /**
     * What the receiver saw.
     *
     * @param sent datagrams the sender sent
     * @param received datagrams received, duplicates included
     * @param lost sent datagrams never received: {@code sent - distinct received}
     * @param duplicated datagrams received more than once (each extra copy counts)
     * @param reordered datagrams that arrived after one with a higher sequence number
     */
    public record Report(long sent, long received, long lost, long duplicated, long reordered) {
        /** True when every datagram arrived exactly once, in order. */
        public boolean isPerfect() {
            return lost == 0 && duplicated == 0 && reordered == 0 && received == sent;
        }
    }

    private final DatagramChannel tx;
    private final DatagramChannel rx;
    private final InetSocketAddress target;
    private final int streamId = ThreadLocalRandom.current().nextInt();
    private final int payloadSize;
    private final Thread receiver;
    private final Object lock = new Object();
    private final SequenceTracker tracker = new SequenceTracker();
    private volatile long lastArrivalNanos = System.nanoTime();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile Thread sender;
    private volatile Throwable senderFailure;
    private final Netns receiverNetns;
    private final long overflowsAtOpen;

    private UdpStream(DatagramChannel tx, DatagramChannel rx, InetSocketAddress target, int payloadSize,
                      Netns receiverNetns) {
        this.receiverNetns = receiverNetns;
        this.overflowsAtOpen = udpReceiveBufferErrors(receiverNetns);
        this.tx = tx;
        this.rx = rx;
        this.target = target;
        this.payloadSize = payloadSize;
        this.receiver = Thread.ofPlatform().name("udp-stream-rx").daemon().start(this::receiveLoop);
    }

    /**
     * Opens a stream of 64-byte datagrams from {@code source} in {@code from} to {@code destination}
     * in {@code to}; the receiver binds an ephemeral port and starts listening at once.
     */
    public static UdpStream open(Netns from, InetAddress source, Netns to, InetAddress destination) {
        return open(from, source, to, destination, 64);
    }

    /** Same, with datagrams of {@code payloadSize} bytes (at least 16). */
    public static UdpStream open(Netns from, InetAddress source, Netns to, InetAddress destination, int payloadSize) {
        if (payloadSize < HEADER) {
            throw new IllegalArgumentException("payload of " + payloadSize + " bytes cannot hold the " + HEADER + "-byte header");
        }
        StandardProtocolFamily family = destination instanceof Inet4Address ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
        // A socket belongs to the namespace of the thread that creates it.
        DatagramChannel rx = to.run(() -> {
            DatagramChannel c = DatagramChannel.open(family);
            c.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            c.bind(new InetSocketAddress(destination, 0));
            return c;
        });
        try {
            DatagramChannel tx = from.run(() -> {
                DatagramChannel c = DatagramChannel.open(family);
                c.bind(new InetSocketAddress(source, 0));
                return c;
            });
            InetSocketAddress target = new InetSocketAddress(destination, ((InetSocketAddress) rx.getLocalAddress()).getPort());
            return new UdpStream(tx, rx, target, payloadSize, to);
        } catch (IOException e) {
            closeQuietly(rx);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            closeQuietly(rx);
            throw e;
        }
    }

    /** Where the datagrams go. */
    public InetSocketAddress target() {
        return target;
    }

    private void receiveLoop() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65536);
        try {
            while (true) {
                buf.clear();
                rx.receive(buf);
                buf.flip();
                if (buf.remaining() < HEADER || buf.getInt(0) != MAGIC || buf.getInt(4) != streamId) {
                    continue; // not ours
                }
                long seq = buf.getLong(8);
                lastArrivalNanos = System.nanoTime();
                synchronized (lock) {
                    tracker.record(seq);
                    lock.notifyAll();
                }
            }
        } catch (ClosedChannelException e) {
            // closed: the stream is over
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends {@code count} datagrams at {@code packetsPerSecond}, blocking until all are sent.
     *
     * @return the total sent by this stream so far
     */
    public long send(long count, int packetsPerSecond) {
        if (running.get()) {
            throw new IllegalStateException("a background sender is running");
        }
        sendLoop(count, packetsPerSecond);
        return sent.get();
    }

    /** Starts sending at {@code packetsPerSecond} in the background until {@link #stop()}. */
    public void start(int packetsPerSecond) {
        if (!running.compareAndSet(false, true)) {
            throw new IllegalStateException("already sending");
        }
        sender = Thread.ofPlatform().name("udp-stream-tx").daemon().start(() -> {
            try {
                sendLoop(Long.MAX_VALUE, packetsPerSecond);
            } catch (Throwable t) {
                senderFailure = t;
            }
        });
    }

    /**
     * Stops the background sender.
     *
     * @return how many datagrams the stream has sent in all
     */
    public long stop() {
        running.set(false);
        Thread t = sender;
        if (t != null) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stopping the sender", e);
            }
            sender = null;
        }
        if (senderFailure != null) {
            throw new IllegalStateException("the sender failed", senderFailure);
        }
        return sent.get();
    }

    /** How many datagrams were sent so far. */
    public long sent() {
        return sent.get();
    }

    private void sendLoop(long count, int pps) {
        if (pps <= 0) {
            throw new IllegalArgumentException("packet rate must be positive: " + pps);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(payloadSize);
        long start = System.nanoTime();
        long sentHere = 0;
        boolean background = count == Long.MAX_VALUE;
        while (sentHere < count && (!background || running.get())) {
            long due = Math.min(count, (System.nanoTime() - start) * pps / 1_000_000_000L + 1);
            while (sentHere < due) {
                long seq = sent.get();
                buf.clear();
                buf.putInt(0, MAGIC).putInt(4, streamId).putLong(8, seq);
                try {
                    tx.send(buf, target);
                } catch (IOException e) {
                    throw new UncheckedIOException("send to " + target, e);
                }
                sent.incrementAndGet();
                sentHere++;
            }
            LockSupport.parkNanos(100_000);
        }
    }

    /**
     * Datagrams the receiving namespace's UDP sockets dropped because their receive buffer was full
     * (the kernel's {@code Udp: RcvbufErrors}) since this stream opened. A receiver starved of CPU
     * loses datagrams here, after they crossed the network: tests that judge a data path subtract
     * these from {@link Report#lost()}. Counts every UDP socket of that namespace.
     */
    public long receiverOverflows() {
        return udpReceiveBufferErrors(receiverNetns) - overflowsAtOpen;
    }

    private static long udpReceiveBufferErrors(Netns ns) {
        // /proc/thread-self/net shows the network namespace of the reading thread
        return ns.run(() -> {
            List<String> udp = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/thread-self/net/snmp"))
                    .stream().filter(l -> l.startsWith("Udp: ")).toList();
            if (udp.size() < 2) {
                throw new IllegalStateException("no Udp lines in /proc/net/snmp of netns " + ns.name());
            }
            List<String> names = List.of(udp.get(0).substring(5).trim().split("\\s+"));
            String[] values = udp.get(1).substring(5).trim().split("\\s+");
            int i = names.indexOf("RcvbufErrors");
            if (i < 0) {
                throw new IllegalStateException("no RcvbufErrors in /proc/net/snmp of netns " + ns.name());
            }
            return Long.parseLong(values[i]);
        });
    }

    /** The figures as they stand, for the datagrams sent so far. */
    public Report snapshot() {
        long s = sent.get();
        synchronized (lock) {
            return tracker.report(s);
        }
    }

    /**
     * Stops a background sender if one runs, waits until every datagram sent has arrived or none
     * has arrived for {@code quiet}, and reports.
     */
    public Report finish(Duration quiet) {
        if (running.get()) {
            stop();
        }
        long total = sent.get();
        long quietNanos = quiet.toNanos();
        synchronized (lock) {
            while (tracker.distinct() < total) {
                long idle = System.nanoTime() - lastArrivalNanos;
                if (idle >= quietNanos) {
                    break;
                }
                try {
                    lock.wait(Math.max(1, (quietNanos - idle) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return snapshot();
    }

    /** Stops sending and closes both sockets. */
    @Override
    public void close() {
        running.set(false);
        Thread t = sender;
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeQuietly(tx);
        closeQuietly(rx);
        try {
            receiver.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(DatagramChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing useful to do: the namespace goes with the lab anyway
        }
    }
}

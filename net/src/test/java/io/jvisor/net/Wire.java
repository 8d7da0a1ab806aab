package io.jvisor.net;

import io.jvisor.bpf.testing.Names;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two fresh namespaces A and B joined by a veth pair ({@value #DEV_A} in A, {@value #DEV_B} in B),
 * built with the net layer itself: addresses 10.x.y.1 and 10.x.y.2 from a random /24, permanent
 * neighbour entries (no ARP can hold back the first packets), a UDP sink in B that counts what
 * arrives (on a thread of its own, so its queue never overflows) and a UDP sender in A. Traffic
 * goes only from A to B's address. Closing deletes both namespaces, and with them the pair and
 * everything attached to it.
 */
final class Wire implements AutoCloseable {
    static final String DEV_A = "nva", DEV_B = "nvb";
    /** Datagrams sent between two checks, well below veth's 256-frame ring. */
    private static final int BURST = 32;
    /** The most datagrams in flight (sent but not yet counted): no kernel queue on the path can fill. */
    private static final int WINDOW = 96;
    private static final long STALL_MILLIS = 5_000;

    final Netns a;
    final Netns b;
    final Rtnl rtnlA;
    final Rtnl rtnlB;
    final InetAddress ipA;
    final InetAddress ipB;
    final int ifindexA;
    final int ifindexB;
    final MacAddress macA;
    final MacAddress macB;
    private final DatagramChannel sender;
    private final DatagramChannel sink;
    private final InetSocketAddress target;
    private final AtomicLong received = new AtomicLong();
    private final Thread receiver;
    /** The last payload the sink received. */
    private volatile byte[] lastPayload = new byte[0];
    private volatile InetSocketAddress lastSource;

    private Wire(Netns a, Netns b, Rtnl rtnlA, Rtnl rtnlB, DatagramChannel sender, DatagramChannel sink) throws IOException {
        this.a = a;
        this.b = b;
        this.rtnlA = rtnlA;
        this.rtnlB = rtnlB;
        this.sender = sender;
        this.sink = sink;
        this.ipA = ((InetSocketAddress) sender.getLocalAddress()).getAddress();
        this.target = (InetSocketAddress) sink.getLocalAddress();
        this.ipB = target.getAddress();
        Link la = rtnlA.link(DEV_A);
        Link lb = rtnlB.link(DEV_B);
        this.ifindexA = la.ifindex();
        this.ifindexB = lb.ifindex();
        this.macA = la.mac().orElseThrow();
        this.macB = lb.mac().orElseThrow();
        this.receiver = Thread.ofPlatform().name("wire-sink").daemon().start(this::receive);
    }

    /** Builds the two namespaces and the pair; on failure removes whatever was made. */
    static Wire create() {
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        int y = ThreadLocalRandom.current().nextInt(0, 256);
        InetAddress ipA = InetAddress.ofLiteral("10." + x + "." + y + ".1");
        InetAddress ipB = InetAddress.ofLiteral("10." + x + "." + y + ".2");
        Netns a = null, b = null;
        Rtnl ra = null, rb = null;
        DatagramChannel sink = null, sender = null;
        try {
            a = Netns.create(Names.unique("jna"));
            b = Netns.create(Names.unique("jnb"));
            ra = Rtnl.open(a);
            rb = Rtnl.open(b);
            ra.createVeth(VethSpec.of(DEV_A, DEV_B).withPeerNamespace(b).withUp(true));
            rb.setUp(DEV_B);
            ra.addAddress(DEV_A, new IpPrefix(ipA, 24));
            rb.addAddress(DEV_B, new IpPrefix(ipB, 24));
            ra.addNeighbour(DEV_A, ipB, rb.link(DEV_B).mac().orElseThrow());
            rb.addNeighbour(DEV_B, ipA, ra.link(DEV_A).mac().orElseThrow());
            // A socket belongs to the namespace of the thread that opens it.
            sink = b.run(() -> {
                DatagramChannel s = DatagramChannel.open(StandardProtocolFamily.INET);
                s.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                s.bind(new InetSocketAddress(ipB, 0));
                return s;
            });
            sender = a.run(() -> {
                DatagramChannel s = DatagramChannel.open(StandardProtocolFamily.INET);
                s.bind(new InetSocketAddress(ipA, 0));
                return s;
            });
            Wire w = new Wire(a, b, ra, rb, sender, sink);
            try {
                w.awaitPath();
            } catch (RuntimeException | Error e) {
                w.close();
                throw e;
            }
            return w;
        } catch (IOException e) {
            cleanUp(a, b, ra, rb, sink, sender);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            cleanUp(a, b, ra, rb, sink, sender);
            throw e;
        }
    }

    private static void cleanUp(Netns a, Netns b, Rtnl ra, Rtnl rb, DatagramChannel sink, DatagramChannel sender) {
        closeQuietly(sink);
        closeQuietly(sender);
        if (ra != null) {
            ra.close();
        }
        if (rb != null) {
            rb.close();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private void receive() {
        ByteBuffer in = ByteBuffer.allocate(2048);
        try {
            while (true) {
                in.clear();
                InetSocketAddress from = (InetSocketAddress) sink.receive(in);
                in.flip();
                byte[] p = new byte[in.remaining()];
                in.get(p);
                lastPayload = p;
                lastSource = from;
                received.incrementAndGet();
            }
        } catch (IOException e) {
            // closed: done
        }
    }

    /**
     * Waits until a datagram from A reaches B: a device set up is not usable until the kernel's
     * linkwatch work has activated its queue, and packets sent before are dropped silently.
     */
    private void awaitPath() {
        long deadline = System.nanoTime() + 30_000_000_000L;
        ByteBuffer probe = ByteBuffer.allocate(16);
        while (received.get() == 0) {
            sendOne(probe, -1);
            Counters.sleep(5);
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no datagram from A reached B within 30 s");
            }
        }
        Counters.sleep(20);
    }

    /** Datagrams the sink has received so far. */
    long received() {
        return received.get();
    }

    byte[] lastPayload() {
        return lastPayload;
    }

    InetSocketAddress lastSource() {
        return lastSource;
    }

    /** The sink's address in B. */
    InetSocketAddress target() {
        return target;
    }

    /** Waits until the sink has received at least {@code n} in all; returns its count. */
    long awaitReceived(long n) {
        return Counters.awaitAtLeast(received::get, n);
    }

    /**
     * Sends {@code n} UDP datagrams from A to B in bursts, never more than a window of them ahead
     * of what the sink has received, so that no kernel queue on the path (veth's ring, the backlog,
     * the socket) can overflow; every program under test passes packets on. Fails if the sink
     * stops receiving. Returns n.
     */
    long send(int n) {
        ByteBuffer payload = ByteBuffer.allocate(16);
        long base = received.get();
        for (int i = 0; i < n; i++) {
            sendOne(payload, i);
            if ((i + 1) % BURST == 0 || i == n - 1) {
                awaitWindow(base, i + 1);
            }
        }
        return n;
    }

    private void awaitWindow(long base, long sent) {
        long deadline = System.nanoTime() + STALL_MILLIS * 1_000_000;
        while (sent - (received.get() - base) > WINDOW) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + (received.get() - base) + " of " + sent
                        + " datagrams were received after " + STALL_MILLIS + " ms");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private void sendOne(ByteBuffer payload, long seq) {
        payload.clear();
        payload.putLong(0, seq);
        try {
            if (sender.send(payload, target) != payload.capacity()) {
                throw new IllegalStateException("short send");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("send to " + target, e);
        }
    }

    /** Starts a background stream from A to B, windowed like {@link #send(int)}. */
    Stream startStream() {
        return new Stream();
    }

    /** A sender thread that runs until {@link #stop()}. */
    final class Stream implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong sent = new AtomicLong();
        private final Thread thread;
        private volatile Throwable failure;

        private Stream() {
            long base = received.get();
            thread = Thread.ofPlatform().name("wire-stream").daemon().start(() -> {
                ByteBuffer payload = ByteBuffer.allocate(16);
                try {
                    while (running.get()) {
                        for (int i = 0; i < BURST; i++) {
                            sendOne(payload, sent.get());
                            sent.incrementAndGet();
                        }
                        awaitWindow(base, sent.get());
                    }
                } catch (Throwable t) {
                    failure = t;
                }
            });
        }

        long sent() {
            return sent.get();
        }

        /** Stops the stream; returns how many datagrams it sent. */
        long stop() {
            close();
            if (thread.isAlive()) {
                throw new IllegalStateException("sender did not stop");
            }
            if (failure != null) {
                throw new IllegalStateException("sender failed", failure);
            }
            return sent.get();
        }

        @Override
        public void close() {
            running.set(false);
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(sender);
        closeQuietly(sink);
        try {
            receiver.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cleanUp(a, b, rtnlA, rtnlB, null, null);
    }

    private static void closeQuietly(DatagramChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // best effort: the namespace goes anyway
            }
        }
    }
}

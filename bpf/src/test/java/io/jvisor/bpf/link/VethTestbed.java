package io.jvisor.bpf.link;

import io.jvisor.bpf.testing.TestNetns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two fresh network namespaces A and B joined by a veth pair (A's end {@value #DEV_A}, B's end
 * {@value #DEV_B}), with addresses 10.x.y.1 (A) and 10.x.y.2 (B) from a random /24, permanent
 * neighbour entries (so no ARP resolution can hold back or drop the first packets), a UDP sink
 * bound in B and a UDP sender socket opened in A. Every packet goes only to B's address.
 * Closing deletes both namespaces and with them the veth pair and anything attached to it.
 */
final class VethTestbed implements AutoCloseable {
    static final String DEV_A = "jva", DEV_B = "jvb";
    /** Datagrams sent between two pauses, well below veth's 256-frame ring. */
    private static final int BURST = 32;
    /**
     * With feedback, the most datagrams sent but not yet seen by a program. The kernel queues
     * between the sender and the hook (veth's 256-frame ring for native XDP, the 1000-packet
     * per-CPU backlog otherwise) drop silently when full, which can happen on a busy machine when
     * softirq processing is starved for a few milliseconds; a bounded window rules that out.
     */
    private static final int WINDOW = 96;
    /** How long the window may stay full before the send gives up. */
    private static final long STALL_MILLIS = 5_000;

    final TestNetns a;
    final TestNetns b;
    final String ipA;
    final String ipB;
    private DatagramChannel sender;
    private DatagramChannel sink;
    private InetSocketAddress target;

    private VethTestbed(TestNetns a, TestNetns b, String ipA, String ipB) {
        this.a = a;
        this.b = b;
        this.ipA = ipA;
        this.ipB = ipB;
    }

    /** Builds the two namespaces and the veth pair; on failure removes whatever was made. */
    static VethTestbed create() {
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        int y = ThreadLocalRandom.current().nextInt(0, 256);
        String prefix = "10." + x + "." + y + ".";
        TestNetns a = TestNetns.create("jla");
        TestNetns b = null;
        VethTestbed tb = null;
        try {
            b = TestNetns.create("jlb");
            tb = new VethTestbed(a, b, prefix + "1", prefix + "2");
            tb.setUp();
            return tb;
        } catch (IOException e) {
            tb.close();
            throw new UncheckedIOException("cannot set up the veth testbed", e);
        } catch (RuntimeException | Error e) {
            if (tb != null) {
                tb.close();
            } else {
                a.close();
                if (b != null) {
                    b.close();
                }
            }
            throw e;
        }
    }

    private void setUp() throws IOException {
        a.ip("link", "add", DEV_A, "type", "veth", "peer", "name", DEV_B, "netns", b.name());
        a.ip("addr", "add", ipA + "/24", "dev", DEV_A);
        b.ip("addr", "add", ipB + "/24", "dev", DEV_B);
        a.ip("link", "set", DEV_A, "up");
        b.ip("link", "set", DEV_B, "up");
        String macA = a.exec("cat", "/sys/class/net/" + DEV_A + "/address").trim();
        String macB = b.exec("cat", "/sys/class/net/" + DEV_B + "/address").trim();
        a.ip("neigh", "replace", ipB, "lladdr", macB, "dev", DEV_A, "nud", "permanent");
        b.ip("neigh", "replace", ipA, "lladdr", macA, "dev", DEV_B, "nud", "permanent");
        // Sockets belong to the namespace of the thread that creates them.
        sink = b.call(() -> {
            DatagramChannel s = DatagramChannel.open(StandardProtocolFamily.INET);
            s.bind(new InetSocketAddress(InetAddress.ofLiteral(ipB), 0));
            return s;
        });
        target = new InetSocketAddress(InetAddress.ofLiteral(ipB), ((InetSocketAddress) local(sink)).getPort());
        sender = a.call(() -> {
            DatagramChannel s = DatagramChannel.open(StandardProtocolFamily.INET);
            s.bind(new InetSocketAddress(InetAddress.ofLiteral(ipA), 0));
            return s;
        });
        awaitPath();
    }

    /**
     * Waits until a datagram from A reaches B's socket. "ip link set up" returns before the device
     * can send: until the kernel's linkwatch work activates it (dev_activate, under RTNL), its
     * queue is the noop qdisc, which drops every packet while telling the sender all is well
     * (NET_XMIT_CN; "TX dropped" grows, UDP's OutDatagrams too). Linkwatch is usually done within
     * microseconds, but when other tests keep RTNL busy it takes seconds, and packets sent
     * meanwhile vanish before any program sees them.
     */
    private void awaitPath() throws IOException {
        sink.configureBlocking(false);
        ByteBuffer probe = ByteBuffer.allocate(16);
        ByteBuffer in = ByteBuffer.allocate(64);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            sendOne(probe, -1);
            for (int i = 0; i < 20; i++) {
                if (sink.receive(in.clear()) != null) {
                    while (sink.receive(in.clear()) != null) {
                        // drain the other probes
                    }
                    return;
                }
                Counting.sleep(5);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no datagram from A reached B within 30 s\n" + diagnostics());
            }
        }
    }

    private static java.net.SocketAddress local(DatagramChannel ch) {
        try {
            return ch.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** B's end of the veth pair, as an ifindex in B. */
    int ifindexB() {
        return b.ifindex(DEV_B);
    }

    /** {@code ip -d link show} of B's end, to see what the kernel reports attached. */
    String linkShowB() {
        return b.ip("-d", "link", "show", DEV_B);
    }

    /**
     * Sends {@code n} UDP datagrams from A to B, pausing after each burst, without feedback: for
     * cases where no program counts them. Returns n.
     */
    long send(int n) {
        ByteBuffer payload = ByteBuffer.allocate(16);
        for (int i = 0; i < n; i++) {
            sendOne(payload, i);
            if ((i + 1) % BURST == 0) {
                Counting.sleep(1);
            }
        }
        return n;
    }

    /**
     * Sends {@code n} UDP datagrams from A to B in bursts, never letting more than a window of
     * them be in flight: {@code counted} reports how many packets a program on the path has seen
     * (cumulatively; only its growth during this call matters). Fails, with the interfaces'
     * statistics, if the count stops growing. Returns n.
     */
    long send(int n, java.util.function.LongSupplier counted) {
        ByteBuffer payload = ByteBuffer.allocate(16);
        long base = counted.getAsLong();
        for (int i = 0; i < n; i++) {
            sendOne(payload, i);
            if ((i + 1) % BURST == 0 || i == n - 1) {
                awaitWindow(counted, base, i + 1);
            }
        }
        return n;
    }

    private void awaitWindow(java.util.function.LongSupplier counted, long base, long sent) {
        long deadline = System.nanoTime() + STALL_MILLIS * 1_000_000;
        long seen = counted.getAsLong() - base;
        while (sent - seen > WINDOW) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + seen + " of " + sent + " datagrams were counted after "
                        + STALL_MILLIS + " ms\n" + diagnostics());
            }
            Thread.onSpinWait();
            Thread.yield();
            seen = counted.getAsLong() - base;
        }
    }

    /** Interface statistics of both ends and UDP counters of A, for failure messages. */
    String diagnostics() {
        StringBuilder sb = new StringBuilder();
        try {
            sb.append("A: ").append(a.ip("-s", "link", "show", DEV_A));
            sb.append("B: ").append(b.ip("-s", "link", "show", DEV_B));
            sb.append("B ethtool -S: ").append(b.exec("ethtool", "-S", DEV_B).replaceAll("\\s+", " ")).append('\n');
            for (String line : a.exec("cat", "/proc/net/snmp").split("\n")) {
                if (line.startsWith("Udp:")) {
                    sb.append("A ").append(line).append('\n');
                }
            }
        } catch (RuntimeException e) {
            sb.append("(diagnostics failed: ").append(e.getMessage()).append(')');
        }
        return sb.toString();
    }

    private void sendOne(ByteBuffer payload, long seq) {
        payload.clear();
        payload.putLong(0, seq);
        try {
            int w = sender.send(payload, target);
            if (w != payload.capacity()) {
                throw new IllegalStateException("sent " + w + " of " + payload.capacity() + " bytes");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("send to " + target, e);
        }
    }

    /**
     * Starts a background stream of datagrams from A to B, windowed like
     * {@link #send(int, java.util.function.LongSupplier)}; stop it to learn how many went out.
     */
    Stream startStream(java.util.function.LongSupplier counted) {
        return new Stream(counted);
    }

    /** A sender thread that runs until {@link #stop()}, counting what it sent. */
    final class Stream implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong sent = new AtomicLong();
        private final Thread thread;
        private volatile Throwable failure;

        private Stream(java.util.function.LongSupplier counted) {
            long base = counted.getAsLong();
            thread = Thread.ofPlatform().name("udp-stream").daemon().start(() -> {
                ByteBuffer payload = ByteBuffer.allocate(16);
                try {
                    while (running.get()) {
                        for (int i = 0; i < BURST; i++) {
                            sendOne(payload, sent.get());
                            sent.incrementAndGet();
                        }
                        awaitWindow(counted, base, sent.get());
                        Counting.sleep(1);
                    }
                } catch (Throwable t) {
                    failure = t;
                }
            });
        }

        /** Datagrams sent so far. */
        long sent() {
            return sent.get();
        }

        /** Stops the stream and returns how many datagrams it sent in all. */
        long stop() {
            running.set(false);
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            if (thread.isAlive()) {
                throw new IllegalStateException("sender did not stop");
            }
            if (failure != null) {
                throw new IllegalStateException("sender failed", failure);
            }
            return sent.get();
        }

        /** Stops the stream if still running, ignoring failures (for cleanup paths). */
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
        try {
            closeQuietly(sender);
            closeQuietly(sink);
        } finally {
            try {
                a.close();
            } finally {
                b.close();
            }
        }
    }

    private static void closeQuietly(DatagramChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing is best effort; the namespace goes anyway
            }
        }
    }
}

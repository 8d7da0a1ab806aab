package io.jvisor.net;

import io.jvisor.bpf.Fd;
import io.jvisor.net.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A raw packet socket (AF_PACKET, SOCK_RAW) for sending whole Ethernet frames out of a device:
 * the user-space transmit path of a datapath (a slow path that builds or forwards frames itself).
 * The frame goes to the device's transmit path as it is, past the IP stack: it passes the
 * device's qdisc and tc egress hook, and no routing, neighbour or firewall step. With
 * {@link #setQdiscBypass} it skips the qdisc and the tc egress hook too and goes straight to the
 * driver, the way a traffic generator wants it.
 *
 * <p>The socket is send-only (opened with protocol 0, so the kernel never queues received frames
 * to it) and belongs to the namespace it was opened in for life: {@link #open(Netns)} opens it on
 * the namespace's thread, and any thread may send on it afterwards. Like any socket it keeps that
 * namespace alive until closed.
 *
 * <p>{@link #send} sends one frame per system call; {@link #sendBurst} sends up to
 * {@value #MAX_BURST} copies of one frame in one {@code sendmmsg(2)} call. Both are synchronized
 * and reuse native buffers of the socket; they allocate nothing. Several threads that each own a
 * socket send in parallel.
 */
public final class PacketSocket implements AutoCloseable {
    /** The largest frame {@link #send} takes. */
    public static final int MAX_FRAME = 65535;
    /** Ethernet header: two MAC addresses and the ethertype. */
    private static final int ETH_HLEN = 14;
    /** The most copies {@link #sendBurst} sends in one call: sendmmsg's limit on messages (UIO_MAXIOV). */
    public static final int MAX_BURST = 1024;
    /** struct sockaddr_ll (linux/if_packet.h): family, protocol (be16), ifindex, hatype, pkttype, halen, addr[8]. */
    private static final int SLL_SIZE = 20, SLL_PROTOCOL = 2, SLL_IFINDEX = 4, SLL_HALEN = 11, SLL_ADDR = 12;
    /**
     * struct mmsghdr on 64-bit Linux: a struct msghdr (name, namelen, iov, iovlen, control,
     * controllen, flags: 56 bytes) and msg_len, padded to 64; struct iovec: base, len (16 bytes).
     */
    private static final int MMSGHDR_SIZE = 64, MSG_NAME = 0, MSG_NAMELEN = 8, MSG_IOV = 16, MSG_IOVLEN = 24,
            IOVEC_SIZE = 16, IOV_LEN = 8;
    private static final int ENOBUFS = 105;

    private final Fd fd;
    private final String where;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment frame;
    private final MemorySegment address;
    /** One iovec over {@link #frame} and {@value #MAX_BURST} mmsghdrs that all point at it; made on the first burst. */
    private MemorySegment iovec;
    private MemorySegment burst;

    private PacketSocket(Fd fd, String where) {
        this.fd = fd;
        this.where = where;
        this.frame = arena.allocate(MAX_FRAME, 8);
        this.address = arena.allocate(SLL_SIZE, 4);
        address.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_PACKET);
    }

    /** Opens a packet socket in the calling thread's network namespace. */
    public static PacketSocket open() {
        return openHere("");
    }

    /** Opens a packet socket inside {@code ns}; it sends out of that namespace's devices. */
    public static PacketSocket open(Netns ns) {
        return ns.run(() -> openHere(ns.name()));
    }

    private static PacketSocket openHere(String netns) {
        int s = Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW, 0);
        String where = netns.isEmpty() ? "" : " (netns " + netns + ")";
        if (s < 0) {
            throw new NetException("open packet socket" + where, -s,
                    -s == 1 ? "needs CAP_NET_RAW" : "");
        }
        Fd fd = Fd.adopt(s, "packet socket" + where);
        try {
            return new PacketSocket(fd, where);
        } catch (RuntimeException | Error e) {
            fd.close();
            throw e;
        }
    }

    /**
     * Sends {@code frame}, a whole Ethernet frame (destination MAC, source MAC, ethertype,
     * payload; no FCS), out of device {@code ifindex}. The ethertype in the frame becomes the
     * packet's protocol, as hooks and qdiscs see it.
     *
     * @return the bytes sent, the whole frame
     * @throws NetException ENXIO when there is no such device in the socket's namespace, ENETDOWN
     *     when it is down, EMSGSIZE when the frame exceeds its MTU plus the Ethernet header
     */
    public int send(int ifindex, byte[] frame) {
        return send(ifindex, frame, 0, frame.length);
    }

    /** Sends {@code length} bytes of {@code frame} from {@code offset}, as {@link #send(int, byte[])}. */
    public synchronized int send(int ifindex, byte[] frame, int offset, int length) {
        int raw = stage(ifindex, frame, offset, length);
        long r;
        do {
            r = Libc.sendto(raw, this.frame, length, 0, address);
        } while (r == -4); // EINTR
        if (r < 0) {
            throw sendFailed("send " + length + "-byte frame", ifindex, (int) -r);
        }
        if (r != length) {
            throw new NetException("send " + length + "-byte frame on packet socket via ifindex " + ifindex + where,
                    0, "only " + r + " bytes went out");
        }
        return (int) r;
    }

    /**
     * Sends {@code copies} copies of {@code frame} (a whole Ethernet frame, as for
     * {@link #send(int, byte[])}) out of device {@code ifindex} in one {@code sendmmsg(2)} call: one
     * system call for the lot, each copy a frame of its own on the wire.
     *
     * <p>The call stops early when the device refuses a frame because it cannot take one right now
     * (ENOBUFS: with {@link #setQdiscBypass} there is no qdisc to queue it, so a stopped or full
     * device queue refuses it). That frame and the ones after it are not sent; the return value says
     * how many went out, and the caller may send the rest again.
     *
     * @param copies 1 to {@value #MAX_BURST}
     * @return how many copies the kernel took: {@code copies}, or fewer (0 too) when the device
     *     refused one
     * @throws NetException for any other failure, as {@link #send(int, byte[])}
     */
    public synchronized int sendBurst(int ifindex, byte[] frame, int copies) {
        if (copies < 1 || copies > MAX_BURST) {
            throw new IllegalArgumentException("a burst has 1 to " + MAX_BURST + " copies, not " + copies);
        }
        int raw = stage(ifindex, frame, 0, frame.length);
        if (burst == null) {
            iovec = arena.allocate(IOVEC_SIZE, 8);
            iovec.set(ValueLayout.ADDRESS, 0, this.frame);
            burst = arena.allocate((long) MMSGHDR_SIZE * MAX_BURST, 8);
            for (int i = 0; i < MAX_BURST; i++) {
                long m = (long) i * MMSGHDR_SIZE;
                burst.set(ValueLayout.ADDRESS, m + MSG_NAME, address);
                burst.set(ValueLayout.JAVA_INT, m + MSG_NAMELEN, SLL_SIZE);
                burst.set(ValueLayout.ADDRESS, m + MSG_IOV, iovec);
                burst.set(ValueLayout.JAVA_LONG, m + MSG_IOVLEN, 1);
            }
        }
        iovec.set(ValueLayout.JAVA_LONG, IOV_LEN, frame.length);
        int r;
        do {
            r = Libc.sendmmsg(raw, burst, copies, 0);
        } while (r == -4); // EINTR before the first message
        if (r == -ENOBUFS) {
            return 0;
        }
        if (r < 0) {
            throw sendFailed("send a burst of " + copies + " " + frame.length + "-byte frames", ifindex, -r);
        }
        return r;
    }

    /**
     * Sends from now on straight to the device's driver (PACKET_QDISC_BYPASS), or through its
     * qdisc again (the default). Bypassing skips the qdisc, the tc egress hook and the packet taps
     * of the sending namespace (a tcpdump on the device does not see the frames); the device
     * refuses a frame it cannot take right now (ENOBUFS) instead of queueing it. It is the
     * traffic-generator setting.
     *
     * @throws NetException when the kernel refuses the option
     */
    public synchronized void setQdiscBypass(boolean bypass) {
        int r = Libc.setsockopt(fd.get(), Libc.SOL_PACKET, Libc.PACKET_QDISC_BYPASS, bypass ? 1 : 0);
        if (r < 0) {
            throw new NetException("set PACKET_QDISC_BYPASS on " + this, -r, "");
        }
    }

    /** Checks a frame, copies it to the native buffer and addresses it to the device; returns the raw fd. */
    private int stage(int ifindex, byte[] frame, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, frame.length);
        if (length < ETH_HLEN || length > MAX_FRAME) {
            throw new IllegalArgumentException("an Ethernet frame has " + ETH_HLEN + " to " + MAX_FRAME
                    + " bytes here, not " + length);
        }
        int raw = fd.get(); // throws once closed
        MemorySegment.copy(frame, offset, this.frame, ValueLayout.JAVA_BYTE, 0, length);
        // sll_protocol is the ethertype as on the wire (network order): copy its two bytes.
        address.set(ValueLayout.JAVA_BYTE, SLL_PROTOCOL, frame[offset + 12]);
        address.set(ValueLayout.JAVA_BYTE, SLL_PROTOCOL + 1, frame[offset + 13]);
        address.set(ValueLayout.JAVA_INT_UNALIGNED, SLL_IFINDEX, ifindex);
        address.set(ValueLayout.JAVA_BYTE, SLL_HALEN, (byte) 6);
        MemorySegment.copy(frame, offset, address, ValueLayout.JAVA_BYTE, SLL_ADDR, 6);
        return raw;
    }

    private NetException sendFailed(String what, int ifindex, int errno) {
        String hint = switch (errno) {
            case 6 -> "no device with that ifindex in the socket's namespace";
            case 100 -> "the device is down";
            case 90 -> "the frame is larger than the device's MTU plus the Ethernet header";
            default -> "";
        };
        return new NetException(what + " on packet socket via ifindex " + ifindex + where, errno, hint);
    }

    /**
     * Sets the mark (SO_MARK) of every frame this socket sends from now on. A mark travels with a
     * frame through a veth pair within one namespace, so a program on the far end can read it.
     *
     * @throws NetException when the kernel refuses (EPERM without CAP_NET_ADMIN)
     */
    public synchronized void setMark(int mark) {
        int r = Libc.setsockopt(fd.get(), Libc.SOL_SOCKET, 36 /* SO_MARK */, mark);
        if (r < 0) {
            throw new NetException("set SO_MARK on " + this, -r, "");
        }
    }

    /** The socket's descriptor (for socket options); owned by this object. */
    public Fd fd() {
        return fd;
    }

    /** Closes the socket; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (!fd.isClosed()) {
            fd.close();
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "packet socket" + where + (fd.isClosed() ? " (closed)" : "");
    }
}

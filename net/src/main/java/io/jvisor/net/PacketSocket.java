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
 * device's qdisc and tc egress hook, and no routing, neighbour or firewall step.
 *
 * <p>The socket is send-only (opened with protocol 0, so the kernel never queues received frames
 * to it) and belongs to the namespace it was opened in for life: {@link #open(Netns)} opens it on
 * the namespace's thread. Like any socket it keeps that namespace alive until closed.
 *
 * <p>{@link #send} is synchronized and reuses one native buffer; it allocates nothing.
 */
public final class PacketSocket implements AutoCloseable {
    /** The largest frame {@link #send} takes. */
    public static final int MAX_FRAME = 65535;
    /** Ethernet header: two MAC addresses and the ethertype. */
    private static final int ETH_HLEN = 14;
    /** struct sockaddr_ll (linux/if_packet.h): family, protocol (be16), ifindex, hatype, pkttype, halen, addr[8]. */
    private static final int SLL_SIZE = 20, SLL_PROTOCOL = 2, SLL_IFINDEX = 4, SLL_HALEN = 11, SLL_ADDR = 12;

    private final Fd fd;
    private final String where;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment frame;
    private final MemorySegment address;

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
        long r;
        do {
            r = Libc.sendto(raw, this.frame, length, 0, address);
        } while (r == -4); // EINTR
        if (r < 0) {
            int errno = (int) -r;
            String hint = switch (errno) {
                case 6 -> "no device with that ifindex in the socket's namespace";
                case 100 -> "the device is down";
                case 90 -> "the frame is larger than the device's MTU plus the Ethernet header";
                default -> "";
            };
            throw new NetException("send " + length + "-byte frame on packet socket via ifindex " + ifindex + where,
                    errno, hint);
        }
        if (r != length) {
            throw new NetException("send " + length + "-byte frame on packet socket via ifindex " + ifindex + where,
                    0, "only " + r + " bytes went out");
        }
        return (int) r;
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

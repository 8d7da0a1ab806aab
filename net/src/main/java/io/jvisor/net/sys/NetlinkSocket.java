package io.jvisor.net.sys;

import io.jvisor.bpf.Fd;
import io.jvisor.net.NetException;
import io.jvisor.net.NetlinkException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An AF_NETLINK socket, bound in the network namespace of the thread that opened it (a socket keeps
 * that namespace for life, whatever thread uses it later). It sends one request at a time and
 * reads the answers: an acknowledgement, one reply, or a multi-part dump.
 *
 * <p>NETLINK_EXT_ACK is on, so the kernel explains refusals in words (NLMSGERR_ATTR_MSG), and
 * NETLINK_CAP_ACK is on, so error messages do not echo the whole request back. Not thread-safe:
 * callers serialise.
 */
public final class NetlinkSocket implements AutoCloseable {
    /** Message types (linux/netlink.h). */
    public static final int NLMSG_ERROR = 2, NLMSG_DONE = 3;
    /** Header flags (linux/netlink.h). */
    public static final int NLM_F_REQUEST = 0x1, NLM_F_MULTI = 0x2, NLM_F_ACK = 0x4, NLM_F_DUMP_INTR = 0x10,
            NLM_F_REPLACE = 0x100, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_APPEND = 0x800,
            NLM_F_DUMP = 0x300, NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200;
    /** Extended ack attributes inside NLMSG_ERROR (linux/netlink.h). */
    private static final int NLMSGERR_ATTR_MSG = 1;
    private static final int HDRLEN = 16;
    private static final int MSG_TRUNC = 0x20;
    private static final int DUMP_RETRIES = 5;

    private final Fd fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment sendSeg;
    private final ByteBuffer sendBuf;
    private final MemorySegment recvSeg;
    private final ByteBuffer recvBuf;
    private int seq = (int) (System.nanoTime() & 0x7fff_ffff);

    private NetlinkSocket(Fd fd) {
        this.fd = fd;
        // A dump part never exceeds 32 KiB (the kernel caps max_recvmsg_len there); 64 KiB is safe.
        this.sendSeg = arena.allocate(64 * 1024, 8);
        this.recvSeg = arena.allocate(64 * 1024, 8);
        this.sendBuf = sendSeg.asByteBuffer().order(ByteOrder.nativeOrder());
        this.recvBuf = recvSeg.asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /**
     * Opens and binds a netlink socket of {@code protocol} (e.g. {@link Libc#NETLINK_ROUTE}) in the
     * calling thread's network namespace.
     */
    public static NetlinkSocket open(int protocol, String description) {
        int s = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW, protocol);
        if (s < 0) {
            throw new NetException("open netlink socket", -s, "");
        }
        Fd fd = Fd.adopt(s, description);
        try {
            setopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 1 << 20);
            setopt(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, 1 << 20);
            setopt(fd, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, 1);
            setopt(fd, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, 1);
            // Strict checking makes the kernel honour dump filters (e.g. addresses of one ifindex).
            setopt(fd, Libc.SOL_NETLINK, Libc.NETLINK_GET_STRICT_CHK, 1);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sa = a.allocate(12, 4); // struct sockaddr_nl, all zero but the family
                sa.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_NETLINK);
                int r = Libc.bind(fd.get(), sa);
                if (r < 0) {
                    throw new NetException("bind netlink socket", -r, "");
                }
            }
            return new NetlinkSocket(fd);
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private static void setopt(Fd fd, int level, int name, int value) {
        int r = Libc.setsockopt(fd.get(), level, name, value);
        if (r < 0) {
            throw new NetException("setsockopt(" + level + ", " + name + ") on netlink socket", -r, "");
        }
    }

    /** The raw descriptor, for ioctls that any socket in the namespace can serve. */
    public int fd() {
        return fd.get();
    }

    /** Starts a request of {@code type} with {@code flags} (NLM_F_REQUEST is added). */
    public MessageBuilder request(int type, int flags) {
        seq = (seq + 1) & 0x7fff_ffff;
        return new MessageBuilder(sendBuf, type, flags | NLM_F_REQUEST, seq);
    }

    /** A received message: its type, flags and payload (everything after the nlmsghdr). */
    public record Message(int type, int flags, ByteBuffer body) {}

    /**
     * Sends {@code m}, which must carry NLM_F_ACK, and waits for the acknowledgement.
     *
     * @throws NetlinkException with the kernel's errno and extended ack message on refusal
     */
    public void ack(MessageBuilder m, String operation, String device) {
        ack(m, operation, device, "");
    }

    /** Same, with a note for error messages after the device, e.g. {@code "(peer 'eth1')"}. */
    public void ack(MessageBuilder m, String operation, String device, String note) {
        send(m, operation, device);
        while (true) {
            int n = receive(operation, device);
            for (int p = 0; p + HDRLEN <= n; ) {
                int len = recvBuf.getInt(p);
                int type = Short.toUnsignedInt(recvBuf.getShort(p + 4));
                int s = recvBuf.getInt(p + 8);
                if (len < HDRLEN) {
                    break;
                }
                if (s == m.seq() && type == NLMSG_ERROR) {
                    checkError(p, len, operation, device, note);
                    return;
                }
                p += (len + 3) & ~3;
            }
        }
    }

    /**
     * Sends a non-dump GET request (without NLM_F_ACK) and returns its one reply.
     *
     * @throws NetlinkException when the kernel answers with an error
     */
    public Message get(MessageBuilder m, String operation, String device) {
        send(m, operation, device);
        while (true) {
            int n = receive(operation, device);
            for (int p = 0; p + HDRLEN <= n; ) {
                int len = recvBuf.getInt(p);
                int type = Short.toUnsignedInt(recvBuf.getShort(p + 4));
                int s = recvBuf.getInt(p + 8);
                if (len < HDRLEN) {
                    break;
                }
                if (s == m.seq()) {
                    if (type == NLMSG_ERROR) {
                        checkError(p, len, operation, device, "");
                        throw new NetlinkException(operation, device, 0, "acknowledged without a reply");
                    }
                    return copy(p, len, type);
                }
                p += (len + 3) & ~3;
            }
        }
    }

    /**
     * Sends a dump request (NLM_F_DUMP is added) and collects every part until NLMSG_DONE. A dump
     * that the kernel marks inconsistent (NLM_F_DUMP_INTR: the table changed meanwhile) is retried.
     */
    public List<Message> dump(java.util.function.Supplier<MessageBuilder> request, String operation) {
        for (int attempt = 0; ; attempt++) {
            MessageBuilder m = request.get();
            send(m, operation, "");
            List<Message> out = new ArrayList<>();
            boolean interrupted = false;
            boolean done = false;
            while (!done) {
                int n = receive(operation, "");
                for (int p = 0; p + HDRLEN <= n; ) {
                    int len = recvBuf.getInt(p);
                    int type = Short.toUnsignedInt(recvBuf.getShort(p + 4));
                    int flags = Short.toUnsignedInt(recvBuf.getShort(p + 6));
                    int s = recvBuf.getInt(p + 8);
                    if (len < HDRLEN) {
                        break;
                    }
                    if (s == m.seq()) {
                        interrupted |= (flags & NLM_F_DUMP_INTR) != 0;
                        if (type == NLMSG_DONE) {
                            int err = len >= HDRLEN + 4 ? recvBuf.getInt(p + HDRLEN) : 0;
                            if (err < 0) {
                                throw new NetlinkException(operation, "", -err, "");
                            }
                            done = true;
                        } else if (type == NLMSG_ERROR) {
                            checkError(p, len, operation, "", "");
                            done = true;
                        } else {
                            out.add(copy(p, len, type));
                        }
                    }
                    p += (len + 3) & ~3;
                }
            }
            if (!interrupted || attempt >= DUMP_RETRIES) {
                return out;
            }
        }
    }

    private Message copy(int p, int len, int type) {
        int flags = Short.toUnsignedInt(recvBuf.getShort(p + 6));
        byte[] body = new byte[len - HDRLEN];
        recvBuf.get(p + HDRLEN, body);
        return new Message(type, flags, ByteBuffer.wrap(body).order(ByteOrder.nativeOrder()));
    }

    /** Reads an NLMSG_ERROR at {@code p}: returns on error 0 (an ack), throws otherwise. */
    private void checkError(int p, int len, String operation, String device, String note) {
        int error = recvBuf.getInt(p + HDRLEN);
        if (error == 0) {
            return;
        }
        int flags = Short.toUnsignedInt(recvBuf.getShort(p + 6));
        String message = "";
        if ((flags & NLM_F_ACK_TLVS) != 0) {
            // struct nlmsgerr: int error, then the request's header, then (unless capped) its payload.
            int origLen = recvBuf.getInt(p + HDRLEN + 4);
            int tlvs = p + HDRLEN + 4 + ((flags & NLM_F_CAPPED) != 0 ? HDRLEN : ((origLen + 3) & ~3));
            if (tlvs < p + len) {
                message = Attributes.parse(recvBuf, tlvs, p + len).string(NLMSGERR_ATTR_MSG, "");
            }
        }
        throw new NetlinkException(operation, device, note, -error, message);
    }

    private void send(MessageBuilder m, String operation, String device) {
        int len = m.finish();
        long r = Libc.send(fd.get(), sendSeg, len, 0);
        if (r < 0) {
            throw new NetlinkException(operation + " (send)", device, (int) -r, "");
        }
    }

    private int receive(String operation, String device) {
        while (true) {
            long n = Libc.recv(fd.get(), recvSeg, MSG_TRUNC);
            if (n == -4) { // EINTR
                continue;
            }
            if (n < 0) {
                throw new NetlinkException(operation + " (receive)", device, (int) -n, "");
            }
            if (n > recvSeg.byteSize()) {
                throw new NetlinkException(operation + " (receive)", device, 0,
                        "reply of " + n + " bytes truncated to " + recvSeg.byteSize());
            }
            return (int) n;
        }
    }

    /** Closes the socket; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (!fd.isClosed()) {
            fd.close();
            arena.close();
        }
    }

    /** Decodes a NUL-padded C string. */
    static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}

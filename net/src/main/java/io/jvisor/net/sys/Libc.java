package io.jvisor.net.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc calls of the net layer (sockets, ioctl, namespaces, mounts), bound through FFM like
 * {@link io.jvisor.bpf.sys.Syscall}: errno is captured by the linker at the moment of the call,
 * because reading it afterwards through {@code __errno_location} may see a value the JVM wrote.
 *
 * <p>Every method returns the raw result: a non-negative value on success, or {@code -errno}.
 * Callers turn failures into exceptions that say what was being attempted. This package is
 * internal to jvisor; its API may change without notice.
 */
public final class Libc {
    private Libc() {}

    // Values checked against the UAPI headers (linux/netlink.h, linux/sockios.h, sys/mount.h).
    /** Address families and socket types. */
    public static final int AF_UNSPEC = 0, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
    /** Packet sockets (linux/if_packet.h, linux/if_ether.h): the family and the every-protocol ethertype. */
    public static final int AF_PACKET = 17, ETH_P_ALL = 3;
    /** The packet sockets' setsockopt level and its option that sends straight to the driver (linux/if_packet.h). */
    public static final int SOL_PACKET = 263, PACKET_QDISC_BYPASS = 20;
    /** Socket types and flags. */
    public static final int SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000;
    /** The rtnetlink protocol of AF_NETLINK. */
    public static final int NETLINK_ROUTE = 0;
    /** setsockopt levels and options. */
    public static final int SOL_SOCKET = 1, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33;
    /** Netlink socket options (level SOL_NETLINK). */
    public static final int SOL_NETLINK = 270, NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11, NETLINK_GET_STRICT_CHK = 12;
    /** ioctl request for ethtool commands. */
    public static final long SIOCETHTOOL = 0x8946;
    /** clone/unshare/setns flag for network namespaces. */
    public static final int CLONE_NEWNET = 0x40000000;
    /** mount(2) flags. */
    public static final long MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20;
    /** umount2(2) flag. */
    public static final int MNT_DETACH = 2;
    /** open(2) flags. */
    public static final int O_RDONLY = 0, O_CREAT = 0100, O_EXCL = 0200, O_CLOEXEC = 0x80000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final class Socket {
        static final MethodHandle H = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }
    private static final class Bind {
        static final MethodHandle H = libc("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Setsockopt {
        static final MethodHandle H = libc("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Send {
        static final MethodHandle H = libc("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }
    private static final class Sendto {
        static final MethodHandle H = libc("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Sendmmsg {
        static final MethodHandle H = libc("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    }
    private static final class Recv {
        static final MethodHandle H = libc("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }
    private static final class Ioctl {
        static final MethodHandle H = libc("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));
    }
    private static final class Setns {
        static final MethodHandle H = libc("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }
    private static final class Unshare {
        static final MethodHandle H = libc("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }
    private static final class Mount {
        static final MethodHandle H = libc("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    }
    private static final class Umount2 {
        static final MethodHandle H = libc("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Open {
        static final MethodHandle H = libc("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    }
    private static final class Gettid {
        static final MethodHandle H = libc("gettid", FunctionDescriptor.of(JAVA_INT));
    }
    private static final class Strerror {
        static final MethodHandle H = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    // Each handle sits in its own holder class, linked on first use: every distinct function shape
    // costs a stub generation (tens of ms cold), and most runs need only a few of them.

    /** A per-thread errno capture buffer, so that calls allocate nothing for it. */
    private static final ThreadLocal<MemorySegment> CAPTURED =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    private static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        System.arraycopy(extra, 0, options, 0, extra.length);
        options[extra.length] = CAPTURE_ERRNO;
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, options);
    }

    private static int errno(MemorySegment captured) {
        return (int) ERRNO.get(captured, 0L);
    }

    /** socket(domain, type, protocol); CLOEXEC is added. */
    public static int socket(int domain, int type, int protocol) {
        MemorySegment c = CAPTURED.get();
        try {
            int r = (int) Socket.H.invokeExact(c, domain, type | SOCK_CLOEXEC, protocol);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** bind(fd, addr, addr.byteSize()). */
    public static int bind(int fd, MemorySegment addr) {
        MemorySegment c = CAPTURED.get();
        try {
            int r = (int) Bind.H.invokeExact(c, fd, addr, (int) addr.byteSize());
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code setsockopt(fd, level, name, &value, 4)} for an int option. */
    public static int setsockopt(int fd, int level, int name, int value) {
        MemorySegment c = CAPTURED.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            int r = (int) Setsockopt.H.invokeExact(c, fd, level, name, v, 4);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** send(fd, buf, len, flags). */
    public static long send(int fd, MemorySegment buf, long len, int flags) {
        MemorySegment c = CAPTURED.get();
        try {
            long r = (long) Send.H.invokeExact(c, fd, buf, len, flags);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** sendto(fd, buf, len, flags, addr, addr.byteSize()). */
    public static long sendto(int fd, MemorySegment buf, long len, int flags, MemorySegment addr) {
        MemorySegment c = CAPTURED.get();
        try {
            long r = (long) Sendto.H.invokeExact(c, fd, buf, len, flags, addr, (int) addr.byteSize());
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * sendmmsg(fd, msgvec, vlen, flags): {@code msgvec} holds {@code vlen} {@code struct mmsghdr}s.
     * Returns how many messages were sent, or {@code -errno} when the first one failed.
     */
    public static int sendmmsg(int fd, MemorySegment msgvec, int vlen, int flags) {
        MemorySegment c = CAPTURED.get();
        try {
            int r = (int) Sendmmsg.H.invokeExact(c, fd, msgvec, vlen, flags);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** recv(fd, buf, buf.byteSize(), flags). */
    public static long recv(int fd, MemorySegment buf, int flags) {
        MemorySegment c = CAPTURED.get();
        try {
            long r = (long) Recv.H.invokeExact(c, fd, buf, buf.byteSize(), flags);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl(fd, request, arg). */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        MemorySegment c = CAPTURED.get();
        try {
            int r = (int) Ioctl.H.invokeExact(c, fd, request, arg);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setns(fd, nstype) for the calling OS thread only. */
    public static int setns(int fd, int nstype) {
        MemorySegment c = CAPTURED.get();
        try {
            int r = (int) Setns.H.invokeExact(c, fd, nstype);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** unshare(flags) for the calling OS thread only. */
    public static int unshare(int flags) {
        MemorySegment c = CAPTURED.get();
        try {
            int r = (int) Unshare.H.invokeExact(c, flags);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mount(source, target, fstype, flags, NULL); a null string is passed as NULL. */
    public static int mount(String source, String target, String fstype, long flags) {
        MemorySegment c = CAPTURED.get();
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) Mount.H.invokeExact(c, str(arena, source), str(arena, target), str(arena, fstype), flags,
                    MemorySegment.NULL);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** umount2(target, flags). */
    public static int umount2(String target, int flags) {
        MemorySegment c = CAPTURED.get();
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) Umount2.H.invokeExact(c, arena.allocateFrom(target), flags);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(path, flags, mode); O_CLOEXEC is added. */
    public static int open(String path, int flags, int mode) {
        MemorySegment c = CAPTURED.get();
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) Open.H.invokeExact(c, arena.allocateFrom(path), flags | O_CLOEXEC, mode);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The kernel thread id of the calling OS thread. */
    public static int gettid() {
        MemorySegment c = CAPTURED.get();
        try {
            return (int) Gettid.H.invokeExact(c);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The C library's text for {@code errno}. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Strerror.H.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MemorySegment str(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}

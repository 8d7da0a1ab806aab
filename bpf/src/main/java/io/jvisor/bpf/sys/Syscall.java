package io.jvisor.bpf.sys;

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
 * The one place where jvisor enters the kernel through libc: {@code syscall(SYS_bpf, ...)} and the
 * handful of plain libc calls the bpf layer needs (close, mmap, epoll).
 *
 * <p>errno is captured by the linker at the moment of the call ({@code captureCallState}); reading
 * it later through {@code __errno_location} is wrong because the JVM may overwrite it.
 *
 * <p>Every method returns the raw result: a non-negative value on success, or {@code -errno}. Callers
 * turn failures into {@link io.jvisor.bpf.BpfException}s with what was being attempted.
 */
public final class Syscall {
    private Syscall() {}

    /** x86_64 and arm64 system call numbers for bpf(2). */
    private static final long SYS_BPF = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 321;
        case "aarch64", "arm64" -> 280;
        default -> throw new UnsupportedOperationException("bpf(2) number unknown for " + System.getProperty("os.arch"));
    };

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle SYSCALL3 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle MMAP = libc("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EPOLL_CREATE1 = libc("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = libc("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = libc("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle EVENTFD = libc("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle WRITE = libc("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle SETNS = libc("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UNSHARE = libc("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL = libc("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle OPEN = libc("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(2));

    /** A per-thread errno capture buffer, so that hot-path calls allocate nothing. */
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

    /**
     * bpf(cmd, attr, size).
     *
     * @return the non-negative result, or {@code -errno}
     */
    public static long bpf(int cmd, MemorySegment attr, long size) {
        MemorySegment captured = CAPTURED.get();
        try {
            long r = (long) SYSCALL3.invokeExact(captured, SYS_BPF, (long) cmd, attr, size);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(fd); returns 0 or {@code -errno}. */
    public static int close(int fd) {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) CLOSE.invokeExact(captured, fd);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Protection and flag bits for {@link #mmap}. */
    public static final int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;

    /**
     * mmap(NULL, length, prot, flags, fd, offset).
     *
     * @return the mapping, reinterpreted to {@code length} bytes, or a zero-length segment whose
     *     address is {@code -errno} on failure
     */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        MemorySegment captured = CAPTURED.get();
        try {
            MemorySegment r = (MemorySegment) MMAP.invokeExact(captured, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (r.address() == -1L) {
                return MemorySegment.ofAddress(-errno(captured));
            }
            return r.reinterpret(length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** True when {@code m} is the failure value of {@link #mmap}. */
    public static boolean mmapFailed(MemorySegment m) {
        return m.byteSize() == 0;
    }

    /** munmap; returns 0 or {@code -errno}. */
    public static int munmap(MemorySegment m) {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) MUNMAP.invokeExact(captured, m, m.byteSize());
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_create1(EPOLL_CLOEXEC). */
    public static int epollCreate() {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) EPOLL_CREATE1.invokeExact(captured, 0x80000);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_ctl(epfd, op, fd, event). */
    public static int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) EPOLL_CTL.invokeExact(captured, epfd, op, fd, event);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_wait(epfd, events, max, timeoutMs). */
    public static int epollWait(int epfd, MemorySegment events, int max, int timeoutMs) {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) EPOLL_WAIT.invokeExact(captured, epfd, events, max, timeoutMs);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK). */
    public static int eventfd() {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) EVENTFD.invokeExact(captured, 0, 0x80000 | 0x800);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(fd, buf, len). */
    public static long write(int fd, MemorySegment buf) {
        MemorySegment captured = CAPTURED.get();
        try {
            long r = (long) WRITE.invokeExact(captured, fd, buf, buf.byteSize());
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(path, flags) with O_CLOEXEC added. */
    public static int open(String path, int flags) {
        MemorySegment captured = CAPTURED.get();
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) OPEN.invokeExact(captured, arena.allocateFrom(path), flags | 0x80000);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * fcntl(fd, F_DUPFD_CLOEXEC, 0): a second descriptor of the same open file (for a bpf object: the
     * same kernel object). Unlike BPF_*_GET_FD_BY_ID, it needs no capability.
     *
     * @return the new descriptor, or {@code -errno}
     */
    public static int dup(int fd) {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) FCNTL.invokeExact(captured, fd, 1030 /* F_DUPFD_CLOEXEC */, 0);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setns(fd, nstype) for the calling OS thread. */
    public static int setns(int fd, int nstype) {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) SETNS.invokeExact(captured, fd, nstype);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** CLONE_NEWNET, for {@link #setns} and {@link #unshare}. */
    public static final int CLONE_NEWNET = 0x40000000;

    /** unshare(flags) for the calling OS thread. */
    public static int unshare(int flags) {
        MemorySegment captured = CAPTURED.get();
        try {
            int r = (int) UNSHARE.invokeExact(captured, flags);
            return r < 0 ? -errno(captured) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
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

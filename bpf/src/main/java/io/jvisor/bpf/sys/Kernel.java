package io.jvisor.bpf.sys;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.Errno;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Internal glue between the typed API and {@link Syscall}: checks results, reads info. */
public final class Kernel {
    private Kernel() {}

    /** Runs bpf(cmd) and throws a {@link BpfException} for a negative result. */
    public static long call(int cmd, MemorySegment attr, String operation) {
        long r = Syscall.bpf(cmd, attr, attr.byteSize());
        if (r < 0) {
            int errno = (int) -r;
            throw new BpfException(operation, errno, BpfException.defaultHint(errno));
        }
        return r;
    }

    /** Writes a NUL-padded object name (at most 15 bytes) at {@code offset}. */
    public static void putName(MemorySegment attr, long offset, String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, attr, java.lang.foreign.ValueLayout.JAVA_BYTE, offset, Math.min(b.length, 15));
    }

    /** Reads a NUL-terminated name of at most {@code max} bytes. */
    public static String getName(MemorySegment seg, long offset, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < max; i++) {
            byte c = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i);
            if (c == 0) {
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    /** BPF_OBJ_GET_INFO_BY_FD into {@code info}; returns it. */
    public static MemorySegment info(int fd, MemorySegment info, String what) {
        MemorySegment attr = Scratch.get().attr(Attr.InfoByFd.LAYOUT.byteSize());
        attr.set(JAVA_INT, Attr.InfoByFd.BPF_FD, fd);
        attr.set(JAVA_INT, Attr.InfoByFd.INFO_LEN, (int) info.byteSize());
        attr.set(JAVA_LONG, Attr.InfoByFd.INFO, info.address());
        call(Attr.OBJ_GET_INFO_BY_FD, attr, "BPF_OBJ_GET_INFO_BY_FD " + what);
        return info;
    }

    /** BPF_*_GET_FD_BY_ID. */
    public static int fdById(int cmd, int id, String what) {
        MemorySegment attr = Scratch.get().attr(Attr.GetId.LAYOUT.byteSize());
        attr.set(JAVA_INT, Attr.GetId.ID, id);
        long r = Syscall.bpf(cmd, attr, attr.byteSize());
        if (r < 0) {
            int errno = (int) -r;
            throw new BpfException("open " + what + " by id " + id, errno,
                    errno == Errno.ENOENT.number() ? "no " + what + " has id " + id : BpfException.defaultHint(errno));
        }
        return (int) r;
    }
}

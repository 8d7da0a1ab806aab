package io.jvisor.bpf;

import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Syscall;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Pinning kernel objects under bpffs, and opening them again. An object opened from a pin is the
 * same kernel object (same id), not a copy.
 */
public final class Pins {
    private Pins() {}

    /** Where bpffs is conventionally mounted. */
    public static final Path DEFAULT_BPFFS = Path.of("/sys/fs/bpf");

    /** The mount points of every bpf filesystem, from /proc/self/mounts. */
    public static List<Path> bpffsMounts() {
        List<Path> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[2].equals("bpf")) {
                    out.add(Path.of(f[1].replace("\\040", " ")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/mounts", e);
        }
        return out;
    }

    /** True when {@code path} lies inside a mounted bpffs. */
    public static boolean isOnBpffs(Path path) {
        Path p = path.toAbsolutePath().normalize();
        for (Path m : bpffsMounts()) {
            if (p.startsWith(m) && !p.equals(m)) {
                return true;
            }
        }
        return false;
    }

    private static void requireBpffs(Path path, String what) {
        if (!isOnBpffs(path)) {
            List<Path> mounts = bpffsMounts();
            throw new InvalidSpecException("pin of " + what, "path", "'" + path + "' is not inside a bpf filesystem ("
                    + (mounts.isEmpty() ? "none is mounted; run: mount -t bpf bpf /sys/fs/bpf" : "mounted at " + mounts)
                    + ")");
        }
    }

    /** Pins the object behind {@code fd} at {@code path}. */
    public static void pin(Fd fd, Path path, String what) {
        // The bpffs check reads /proc/self/mounts: done only when the kernel refuses, to explain why.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.ObjPin.LAYOUT);
            attr.set(JAVA_LONG, Attr.ObjPin.PATHNAME, arena.allocateFrom(path.toAbsolutePath().toString()).address());
            attr.set(JAVA_INT, Attr.ObjPin.BPF_FD, fd.get());
            long r = Syscall.bpf(Attr.OBJ_PIN, attr, attr.byteSize());
            if (r < 0) {
                requireBpffs(path, what);
                int errno = (int) -r;
                String hint = switch (Errno.name(errno)) {
                    case "EEXIST" -> "'" + path + "' already exists";
                    case "ENOENT" -> "the parent directory of '" + path + "' does not exist";
                    default -> BpfException.defaultHint(errno);
                };
                throw new BpfException("BPF_OBJ_PIN " + what + " at " + path, errno, hint);
            }
        }
    }

    /** Opens the object pinned at {@code path}; returns the raw new fd. */
    static int open(Path path, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.ObjPin.LAYOUT);
            attr.set(JAVA_LONG, Attr.ObjPin.PATHNAME, arena.allocateFrom(path.toAbsolutePath().toString()).address());
            long r = Syscall.bpf(Attr.OBJ_GET, attr, attr.byteSize());
            if (r < 0) {
                requireBpffs(path, what);
                int errno = (int) -r;
                throw new BpfException("BPF_OBJ_GET " + what + " at " + path, errno,
                        errno == Errno.ENOENT.number() ? "nothing is pinned at '" + path + "'" : BpfException.defaultHint(errno));
            }
            return (int) r;
        }
    }

    /** Opens the object pinned at {@code path} and takes ownership of the new descriptor. */
    public static Fd openFd(Path path, String what) {
        return Fd.adopt(open(path, what), "pinned " + what + " " + path);
    }

    /** Removes a pin (the object lives on while other references exist). */
    public static void unpin(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpin " + path, e);
        }
    }
}

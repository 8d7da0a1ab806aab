package io.jvisor.bpf;

import io.jvisor.bpf.sys.Syscall;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One owned file descriptor of a kernel object. Every live bpf object holds exactly one; closing
 * the object closes it, once. The set of descriptors still open is kept so that tests and tools can
 * check that nothing leaked ({@link #openDescriptions()}).
 */
public final class Fd implements AutoCloseable {
    private static final Set<Fd> OPEN = ConcurrentHashMap.newKeySet();

    private final int fd;
    private final String description;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Fd(int fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    /** Takes ownership of {@code fd}; {@code description} says what it is, for leak reports. */
    public static Fd adopt(int fd, String description) {
        if (fd < 0) {
            throw new IllegalArgumentException("invalid fd " + fd + " for " + description);
        }
        Fd f = new Fd(fd, description);
        OPEN.add(f);
        return f;
    }

    /** The raw descriptor number. Throws when already closed, to catch use after close. */
    public int get() {
        if (closed.get()) {
            throw new IllegalStateException(description + " is closed");
        }
        return fd;
    }

    /** True once {@link #close()} has run. */
    public boolean isClosed() {
        return closed.get();
    }

    /** Closes the descriptor; a second call does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            OPEN.remove(this);
            Syscall.close(fd);
        }
    }

    /** How many jvisor-owned descriptors are open in this JVM. */
    public static int openCount() {
        return OPEN.size();
    }

    /** What each open jvisor-owned descriptor belongs to, e.g. {@code "fd 12: map 'counts'"}. */
    public static List<String> openDescriptions() {
        return OPEN.stream().map(f -> "fd " + f.fd + ": " + f.description).sorted().toList();
    }

    @Override
    public String toString() {
        return "fd " + fd + " (" + description + (closed.get() ? ", closed" : "") + ")";
    }
}

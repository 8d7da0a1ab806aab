package io.jvisor.bpf.link;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.Fd;
import io.jvisor.bpf.InvalidSpecException;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Syscall;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A tracepoint program attached to a kernel tracepoint ({@code syscalls/sys_enter_getpid}): a perf
 * event for the tracepoint, and a bpf_link (BPF_LINK_CREATE, attach type perf_event) that runs the
 * program on every hit, on every CPU. Closing the link detaches the program.
 */
public final class TracepointLink implements AutoCloseable {
    private static final int PERF_TYPE_TRACEPOINT = 2;
    private static final int PERF_ATTR_SIZE = 128;
    private static final long PERF_FLAG_FD_CLOEXEC = 1L << 3;
    private static final long SYS_PERF_EVENT_OPEN = switch (System.getProperty("os.arch")) {
        case "aarch64", "arm64" -> 241;
        default -> 298;
    };
    /** Where tracefs lists the events; the older debugfs place is tried second. */
    private static final Path[] TRACEFS = {Path.of("/sys/kernel/tracing"), Path.of("/sys/kernel/debug/tracing")};

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle PERF_EVENT_OPEN = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    private final Fd link;
    private final Fd perfEvent;
    private final String description;

    private TracepointLink(Fd link, Fd perfEvent, String description) {
        this.link = link;
        this.perfEvent = perfEvent;
        this.description = description;
    }

    /**
     * Attaches {@code program} (a tracepoint program) to tracepoint {@code category/event}.
     *
     * @throws InvalidSpecException when the program is not a tracepoint program
     * @throws BpfException when the tracepoint does not exist or the kernel refuses
     */
    public static TracepointLink attach(BpfProgram program, String category, String event) {
        if (program.type() != ProgramType.TRACEPOINT) {
            throw new InvalidSpecException("tracepoint link of " + program, "program",
                    "must be a tracepoint program, not " + (program.type() == null ? "?" : program.type().kernelName()));
        }
        String what = "tracepoint link of " + program + " to " + category + "/" + event;
        long id = tracepointId(category, event);
        Fd perf = openPerfEvent(id, what);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.LinkCreate.LAYOUT);
            attr.set(JAVA_INT, Attr.LinkCreate.PROG_FD, program.fd().get());
            attr.set(JAVA_INT, Attr.LinkCreate.TARGET_IFINDEX, perf.get()); // target_fd
            attr.set(JAVA_INT, Attr.LinkCreate.ATTACH_TYPE, io.jvisor.bpf.AttachType.PERF_EVENT.value());
            long r = Syscall.bpf(Attr.LINK_CREATE, attr, attr.byteSize());
            if (r < 0) {
                throw new BpfException("BPF_LINK_CREATE " + what, (int) -r, BpfException.defaultHint((int) -r));
            }
            return new TracepointLink(Fd.adopt((int) r, what), perf, what);
        } catch (RuntimeException e) {
            perf.close();
            throw e;
        }
    }

    /** The tracepoint's id, from tracefs {@code events/<category>/<event>/id}. */
    public static long tracepointId(String category, String event) {
        if (category.contains("/") || category.contains("..") || event.contains("/") || event.contains("..")) {
            throw new InvalidSpecException("tracepoint " + category + "/" + event, "name", "must be category/event");
        }
        for (Path root : TRACEFS) {
            Path id = root.resolve("events").resolve(category).resolve(event).resolve("id");
            if (Files.isReadable(id)) {
                try {
                    return Long.parseLong(Files.readString(id).strip());
                } catch (IOException | NumberFormatException e) {
                    throw new BpfException("read " + id, 0, e.toString());
                }
            }
        }
        throw new BpfException("find tracepoint " + category + "/" + event, Errno.ENOENT.number(),
                "no such tracepoint under " + TRACEFS[0] + "/events (is tracefs mounted? mount -t tracefs tracefs "
                        + TRACEFS[0] + ")");
    }

    private static Fd openPerfEvent(long id, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(PERF_ATTR_SIZE + 8, 8);
            attr.set(JAVA_INT, 0, PERF_TYPE_TRACEPOINT);
            attr.set(JAVA_INT, 4, PERF_ATTR_SIZE);
            attr.set(JAVA_LONG, 8, id);          // config
            attr.set(JAVA_LONG, 16, 1);          // sample_period
            attr.set(JAVA_INT, 48, 1);           // wakeup_events
            MemorySegment captured = arena.allocate(CAPTURE);
            long r;
            try {
                // pid -1, cpu 0: for tracepoints the program runs on every CPU regardless.
                r = (long) PERF_EVENT_OPEN.invokeExact(captured, SYS_PERF_EVENT_OPEN, attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
            } catch (Throwable t) {
                throw new IllegalStateException("perf_event_open downcall failed", t);
            }
            if (r < 0) {
                int errno = (int) ERRNO.get(captured, 0L);
                throw new BpfException("perf_event_open for " + what, errno, BpfException.defaultHint(errno));
            }
            return Fd.adopt((int) r, "perf event of " + what);
        }
    }

    /** The bpf_link descriptor. */
    public Fd fd() {
        return link;
    }

    /** Detaches the program. */
    @Override
    public void close() {
        link.close();
        perfEvent.close();
    }

    @Override
    public String toString() {
        return description;
    }
}

package io.jvisor.bpf.link;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.Fd;
import io.jvisor.bpf.InvalidSpecException;
import io.jvisor.bpf.Pins;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Kernel;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An attachment of a program to a hook, owned through one file descriptor (a bpf_link). Closing
 * the link detaches the program unless the link is pinned. {@link #update(BpfProgram)} replaces
 * the program atomically: every packet runs either the old or the new program, never neither.
 */
public final class BpfLink implements AutoCloseable {
    private static final int LINK_TYPE_XDP = 6, LINK_TYPE_TCX = 11;
    private static final int F_REPLACE = 1 << 2, F_BEFORE = 1 << 3, F_AFTER = 1 << 4, F_LINK = 1 << 13;

    private final Fd fd;
    private final String description;

    private BpfLink(Fd fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    /**
     * Attaches an XDP program to device {@code ifindex} of the calling thread's network namespace.
     */
    public static BpfLink xdp(BpfProgram program, int ifindex, XdpMode mode) {
        requireType(program, ProgramType.XDP, "XDP");
        String what = "XDP link of " + program + " on ifindex " + ifindex + " (" + mode + ")";
        return create(program, ifindex, io.jvisor.bpf.AttachType.XDP.value(), mode.flags(), 0, what);
    }

    /** Attaches a tcx program at the end of the device's chain. */
    public static BpfLink tcx(BpfProgram program, int ifindex, TcxDirection direction) {
        return tcx(program, ifindex, direction, Anchor.last());
    }

    /** Attaches a tcx program at {@code anchor} in the device's chain. */
    public static BpfLink tcx(BpfProgram program, int ifindex, TcxDirection direction, Anchor anchor) {
        requireType(program, ProgramType.SCHED_CLS, "tcx");
        int flags;
        int relative;
        switch (anchor) {
            case Anchor.Last l -> {
                flags = F_AFTER;
                relative = 0;
            }
            case Anchor.First f -> {
                flags = F_BEFORE;
                relative = 0;
            }
            case Anchor.BeforeProgram b -> {
                flags = F_BEFORE;
                relative = b.program().fd().get();
            }
            case Anchor.AfterProgram a -> {
                flags = F_AFTER;
                relative = a.program().fd().get();
            }
            case Anchor.BeforeLink b -> {
                flags = F_BEFORE | F_LINK;
                relative = b.link().fd.get();
            }
            case Anchor.AfterLink a -> {
                flags = F_AFTER | F_LINK;
                relative = a.link().fd.get();
            }
        }
        String what = "tcx " + direction.name().toLowerCase() + " link of " + program + " on ifindex " + ifindex;
        return create(program, ifindex, direction.attachType().value(), flags, relative, what);
    }

    private static void requireType(BpfProgram p, ProgramType t, String hook) {
        if (p.type() != t) {
            throw new InvalidSpecException(hook + " attachment of " + p, "program",
                    "a " + hook + " hook needs a " + t.kernelName() + " program, not " + p.type().kernelName());
        }
    }

    private static BpfLink create(BpfProgram program, int ifindex, int attachType, int flags, int relative, String what) {
        if (ifindex <= 0) {
            throw new InvalidSpecException(what, "ifindex", ifindex + " is not a device index (must be positive)");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.LinkCreate.LAYOUT);
            attr.set(JAVA_INT, Attr.LinkCreate.PROG_FD, program.fd().get());
            attr.set(JAVA_INT, Attr.LinkCreate.TARGET_IFINDEX, ifindex);
            attr.set(JAVA_INT, Attr.LinkCreate.ATTACH_TYPE, attachType);
            attr.set(JAVA_INT, Attr.LinkCreate.FLAGS, flags);
            attr.set(JAVA_INT, Attr.LinkCreate.RELATIVE_FD, relative);
            long r = Syscall.bpf(Attr.LINK_CREATE, attr, attr.byteSize());
            if (r < 0) {
                int errno = (int) -r;
                String hint = switch (Errno.name(errno)) {
                    case "ENODEV" -> "no device has ifindex " + ifindex + " in this network namespace";
                    case "EBUSY", "EEXIST" -> "another XDP program or link is already attached to ifindex " + ifindex;
                    case "EOPNOTSUPP", "ENOTSUP" -> "the device does not support this mode; try XdpMode.GENERIC";
                    case "ENOENT" -> "the anchor program or link is not attached to this hook";
                    default -> BpfException.defaultHint(errno);
                };
                throw new BpfException("BPF_LINK_CREATE " + what, errno, hint);
            }
            return new BpfLink(Fd.adopt((int) r, what), what);
        }
    }

    /** Opens the link pinned at {@code path}. */
    public static BpfLink openPinned(Path path) {
        return new BpfLink(Pins.openFd(path, "link"), "pinned link " + path);
    }

    /** The owned descriptor. */
    public Fd fd() {
        return fd;
    }

    /** Replaces the program atomically (BPF_LINK_UPDATE). */
    public void update(BpfProgram newProgram) {
        update(newProgram, null);
    }

    /**
     * Replaces the program atomically, but only if the link still runs {@code expected}
     * (BPF_F_REPLACE); fails with EPERM when another update came first.
     */
    public void update(BpfProgram newProgram, BpfProgram expected) {
        MemorySegment attr = io.jvisor.bpf.sys.Scratch.get().attr(Attr.LinkUpdate.LAYOUT.byteSize());
        attr.set(JAVA_INT, Attr.LinkUpdate.LINK_FD, fd.get());
        attr.set(JAVA_INT, Attr.LinkUpdate.NEW_PROG_FD, newProgram.fd().get());
        if (expected != null) {
            attr.set(JAVA_INT, Attr.LinkUpdate.FLAGS, F_REPLACE);
            attr.set(JAVA_INT, Attr.LinkUpdate.OLD_PROG_FD, expected.fd().get());
        }
        long r = Syscall.bpf(Attr.LINK_UPDATE, attr, Attr.LinkUpdate.LAYOUT.byteSize());
        if (r < 0) {
            int errno = (int) -r;
            String hint = switch (Errno.name(errno)) {
                case "EPERM" -> expected != null ? "the link no longer runs the expected program"
                        : BpfException.defaultHint(errno);
                case "EINVAL" -> "the new program's type or expected attach type does not match the link";
                case "ENOLINK" -> "the link was detached";
                default -> BpfException.defaultHint(errno);
            };
            throw new BpfException("BPF_LINK_UPDATE " + description + " to " + newProgram, errno, hint);
        }
    }

    /**
     * Detaches the program from its hook (BPF_LINK_DETACH) while keeping the descriptor; the link
     * is then defunct. {@link #close()} still has to be called.
     */
    public void detach() {
        MemorySegment attr = io.jvisor.bpf.sys.Scratch.get().attr(Attr.SingleFd.LAYOUT.byteSize());
        attr.set(JAVA_INT, Attr.SingleFd.FD, fd.get());
        Kernel.call(Attr.LINK_DETACH, attr, "BPF_LINK_DETACH " + description);
    }

    /** What the kernel reports about the link now. */
    public LinkInfo info() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment i = Kernel.info(fd.get(), arena.allocate(Attr.LinkInfo.LAYOUT), "link");
            int type = i.get(JAVA_INT, Attr.LinkInfo.TYPE);
            int id = i.get(JAVA_INT, Attr.LinkInfo.ID);
            int progId = i.get(JAVA_INT, Attr.LinkInfo.PROG_ID);
            return switch (type) {
                case LINK_TYPE_XDP -> new LinkInfo.Xdp(id, progId, i.get(JAVA_INT, Attr.LinkInfo.IFINDEX));
                case LINK_TYPE_TCX -> new LinkInfo.Tcx(id, progId, i.get(JAVA_INT, Attr.LinkInfo.IFINDEX),
                        io.jvisor.bpf.AttachType.of(i.get(JAVA_INT, Attr.LinkInfo.ATTACH_TYPE)));
                default -> new LinkInfo.Other(id, progId, type);
            };
        }
    }

    /** Pins the link; it then outlives this process and keeps the program attached. */
    public void pin(Path path) {
        Pins.pin(fd, path, description);
    }

    /** Closes the descriptor; an unpinned link detaches. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return description;
    }
}

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

/**
 * An attachment of a program to a hook, owned through one file descriptor (a bpf_link). Closing
 * the link detaches the program unless the link is pinned. {@link #update(BpfProgram)} replaces
 * the program atomically: every packet runs either the old or the new program, never neither.
 *
 * <p>Device hooks take an ifindex, which the kernel resolves in the network namespace of the
 * <em>calling thread</em>: attach from a thread that has joined the device's namespace. Once
 * created, a link stays bound to its device wherever it is used from.
 */
public final class BpfLink implements AutoCloseable {
    private static final int LINK_TYPE_XDP = 6, LINK_TYPE_TCX = 11;
    private static final int F_REPLACE = 1 << 2, F_BEFORE = 1 << 3, F_AFTER = 1 << 4, F_LINK = 1 << 13;
    /** Errnos that {@link Errno} does not name. */
    private static final int ENOTCONN = 107;

    private final Fd fd;
    private final String description;

    private BpfLink(Fd fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    /**
     * Attaches an XDP program to device {@code ifindex} of the calling thread's network namespace.
     * A device has at most one XDP link per mode, and native and generic XDP cannot be active on
     * one device at the same time; to change the program, {@link #update(BpfProgram)} the link.
     *
     * @param program an XDP program, loaded with expected attach type XDP or none
     * @throws InvalidSpecException when the program is not XDP or the ifindex is not positive
     * @throws BpfException when the kernel refuses; the message names the device and the likely
     *     cause (no such device in this namespace, a program already attached, mode unsupported)
     */
    public static BpfLink xdp(BpfProgram program, int ifindex, XdpMode mode) {
        requireType(program, ProgramType.XDP, "XDP");
        String what = "XDP link of " + program + " on ifindex " + ifindex + " (" + mode + ")";
        return create(program, ifindex, io.jvisor.bpf.AttachType.XDP.value(), mode.flags(), 0, what,
                errno -> xdpHint(errno, ifindex, mode));
    }

    /**
     * Attaches a tcx program at the end of the chain of device {@code ifindex} of the calling
     * thread's network namespace.
     *
     * @see #tcx(BpfProgram, int, TcxDirection, Anchor)
     */
    public static BpfLink tcx(BpfProgram program, int ifindex, TcxDirection direction) {
        return tcx(program, ifindex, direction, Anchor.last());
    }

    /**
     * Attaches a tcx program at {@code anchor} in the chain of device {@code ifindex} of the calling
     * thread's network namespace. Programs in the chain run in order until one returns something
     * other than TCX_NEXT (-1); a program can be in one chain only once.
     *
     * @param program a sched_cls program
     * @param anchor where in the chain; a program anchor must be a sched_cls program and a link
     *     anchor a tcx link, both already attached to the same hook
     * @throws InvalidSpecException when a program is not sched_cls or the ifindex is not positive
     * @throws BpfException when the kernel refuses, with the likely cause
     */
    public static BpfLink tcx(BpfProgram program, int ifindex, TcxDirection direction, Anchor anchor) {
        requireType(program, ProgramType.SCHED_CLS, "tcx");
        switch (anchor) {
            case Anchor.BeforeProgram(BpfProgram p) -> requireAnchorType(program, p);
            case Anchor.AfterProgram(BpfProgram p) -> requireAnchorType(program, p);
            default -> { }
        }
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
        String hook = "tcx " + direction.name().toLowerCase(java.util.Locale.ROOT);
        String what = hook + " link of " + program + " on ifindex " + ifindex;
        return create(program, ifindex, direction.attachType().value(), flags, relative, what,
                errno -> tcxHint(errno, ifindex, hook));
    }

    private static void requireType(BpfProgram p, ProgramType t, String hook) {
        if (p.type() != t) {
            throw new InvalidSpecException(hook + " attachment of " + p, "program",
                    "a " + hook + " hook needs a " + t.kernelName() + " program, not " + p.type().kernelName());
        }
    }

    private static void requireAnchorType(BpfProgram program, BpfProgram anchor) {
        if (anchor.type() != ProgramType.SCHED_CLS) {
            throw new InvalidSpecException("tcx attachment of " + program, "anchor",
                    "the anchor " + anchor + " is not a sched_cls program, so it cannot be in a tcx chain");
        }
    }

    private static String xdpHint(int errno, int ifindex, XdpMode mode) {
        Errno e = Errno.of(errno);
        if (errno == ENOTCONN) {
            return "the device is a veth whose peer is gone";
        }
        if (e == null) {
            return BpfException.defaultHint(errno);
        }
        return switch (e) {
            // bpf_xdp_link_attach reports a missing device as EINVAL, not ENODEV.
            case EINVAL, ENODEV -> deviceExists(ifindex) == Boolean.FALSE ? noSuchDevice(ifindex)
                    : "the program must be loaded with expected attach type XDP or none (not XDP_DEVMAP or "
                    + "XDP_CPUMAP)";
            case EBUSY -> "an XDP link or program is already attached to ifindex " + ifindex + " in this mode; "
                    + "replace its program with BpfLink.update() instead of attaching a second one";
            case EEXIST -> "an XDP program in another mode is already attached to ifindex " + ifindex
                    + "; native (driver) and generic XDP cannot be active on one device at the same time";
            case ENOTSUP, ENOTSUPP -> mode == XdpMode.DRIVER
                    ? "the driver of ifindex " + ifindex + " has no native XDP support; use XdpMode.GENERIC"
                    : "the device does not support this XDP mode";
            case ERANGE -> "the MTU is too large for an XDP program without multi-buffer support (on veth, the"
                    + " peer's MTU counts); lower the MTU or use XdpMode.GENERIC";
            case ENOSPC -> "on veth, native XDP needs at least as many RX queues as the peer has TX queues";
            default -> BpfException.defaultHint(errno);
        };
    }

    private static String tcxHint(int errno, int ifindex, String hook) {
        Errno e = Errno.of(errno);
        if (e == null) {
            return BpfException.defaultHint(errno);
        }
        return switch (e) {
            case ENODEV -> noSuchDevice(ifindex);
            case EINVAL -> deviceExists(ifindex) == Boolean.FALSE ? noSuchDevice(ifindex)
                    : "the anchor must be a sched_cls program or a tcx link attached to the same hook";
            case EEXIST -> "this program is already in the " + hook + " chain of ifindex " + ifindex
                    + " (a program can be attached to a hook only once)";
            case ENOENT -> "the anchor program or link is not attached to the " + hook + " hook of ifindex " + ifindex;
            case ERANGE -> "the " + hook + " chain of ifindex " + ifindex + " is full";
            default -> BpfException.defaultHint(errno);
        };
    }

    private static String noSuchDevice(int ifindex) {
        return "no such device: no device has ifindex " + ifindex + " in the calling thread's network namespace"
                + " (the kernel resolves the ifindex there)";
    }

    /**
     * Whether device {@code ifindex} exists in the calling thread's network namespace:
     * if_indextoname(3) asks through a socket, and a socket belongs to the namespace of the thread
     * that creates it. Null when that cannot be told.
     */
    static Boolean deviceExists(int ifindex) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(16);
            MemorySegment state = arena.allocate(IfIndex.CAPTURE);
            MemorySegment r = (MemorySegment) IfIndex.IF_INDEXTONAME.invokeExact(state, ifindex, name);
            if (!r.equals(MemorySegment.NULL)) {
                return true;
            }
            return (int) IfIndex.ERRNO.get(state, 0L) == Errno.ENXIO.number() ? false : null;
        } catch (Throwable t) {
            return null;
        }
    }

    /** if_indextoname(3), bound on first use. */
    private static final class IfIndex {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final MethodHandle IF_INDEXTONAME = LINKER.downcallHandle(
                LINKER.defaultLookup().find("if_indextoname").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS), Linker.Option.captureCallState("errno"));
    }

    private static BpfLink create(BpfProgram program, int ifindex, int attachType, int flags, int relative, String what,
                                  java.util.function.IntFunction<String> hints) {
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
                throw new BpfException("BPF_LINK_CREATE " + what, errno, hints.apply(errno));
            }
            return new BpfLink(Fd.adopt((int) r, what), what);
        }
    }

    /**
     * Opens the link pinned at {@code path}: the same kernel link, still attached. Closing the
     * returned object detaches the link only once its pin is removed too ({@link Pins#unpin}).
     *
     * @throws BpfException when nothing is pinned there
     * @throws InvalidSpecException when the pinned object is a map or a program, not a link
     */
    public static BpfLink openPinned(Path path) {
        Fd fd = Pins.openFd(path, "link");
        String kind = objectKind(fd);
        if (kind != null && !kind.equals("bpf-link")) {
            fd.close();
            throw new InvalidSpecException("pinned link " + path, "path",
                    "the object pinned at '" + path + "' is a " + kind.replace("bpf-", "") + ", not a link");
        }
        return new BpfLink(fd, "pinned link " + path);
    }

    /** What kind of bpf object {@code fd} is ("bpf-link", "bpf-map", "bpf-prog"), or null if unknown. */
    private static String objectKind(Fd fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.get())).toString();
            return target.startsWith("anon_inode:") ? target.substring("anon_inode:".length()) : null;
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** The owned descriptor. */
    public Fd fd() {
        return fd;
    }

    /**
     * Replaces the program atomically (BPF_LINK_UPDATE): each packet is handled by either the old
     * or the new program. The new program must have the same type and expected attach type as the
     * current one.
     *
     * @throws BpfException when the types differ (EINVAL) or the link was detached (ENOLINK)
     */
    public void update(BpfProgram newProgram) {
        update(newProgram, null);
    }

    /**
     * Replaces the program atomically, but only if the link still runs {@code expected}
     * (BPF_F_REPLACE); fails with EPERM, naming the program the link runs, when it runs another
     * (for instance because another update came first).
     *
     * @param expected the program the link must be running, or null for no check
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
                case "EPERM" -> expected != null ? "the link does not run the expected " + expected
                        + currentProgram() : BpfException.defaultHint(errno);
                case "EINVAL" -> "the new program's type or expected attach type does not match the link";
                case "ENOLINK" -> "the link was detached";
                default -> BpfException.defaultHint(errno);
            };
            throw new BpfException("BPF_LINK_UPDATE " + description + " to " + newProgram, errno, hint);
        }
    }

    private String currentProgram() {
        try {
            return " (it runs program id " + info().programId() + ")";
        } catch (RuntimeException e) {
            return "";
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

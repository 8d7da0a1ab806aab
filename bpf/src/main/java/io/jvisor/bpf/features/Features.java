package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.MapFlags;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.VerifierException;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Probes what the running kernel supports, the way {@code bpftool feature probe} does: it loads a
 * minimal program of each type, creates a minimal map of each type, asks BPF_LINK_CREATE about
 * the networking attach types, and loads a call to each helper. On top of that it probes what jvisor
 * itself relies on ({@link #requirements()}: XDP metadata, live frames, tcx and XDP links, the helpers
 * of each standard module, ...), each with what a refusal wants and what jvisor falls back to.
 *
 * <p>Privilege is checked once, up front ({@link #checkPrivilege()}: an array map and a socket
 * filter). After that, a refusal of one map type, program type, helper, attach type or flag is that
 * feature's answer ({@code no (EPERM)} with a hint), never a reason to stop: root on one machine may
 * lack a capability, and one kernel build may refuse what another of the same version allows.
 *
 * @param kernel the kernel version
 * @param capabilities the effective capabilities of the probing process
 * @param programTypes support per program type
 * @param mapTypes support per map type
 * @param attachTypes support per networking link attach type
 * @param helpers per program type probed for helpers, the support of each helper (empty unless asked)
 * @param requirements what jvisor relies on, one row each
 */
public record Features(KernelVersion kernel, Capabilities capabilities, Map<ProgramType, Support> programTypes,
                       Map<MapType, Support> mapTypes, Map<AttachType, Support> attachTypes,
                       Map<ProgramType, Map<Helper, Support>> helpers, List<Requirement> requirements) {

    /** Program types whose helpers are probed: the ones jvisor's data planes use. */
    public static final List<ProgramType> HELPER_PROBE_TYPES =
            List.of(ProgramType.XDP, ProgramType.SCHED_CLS, ProgramType.SOCKET_FILTER);

    /** The attach types probed through BPF_LINK_CREATE. */
    public static final List<AttachType> LINK_ATTACH_TYPES =
            List.of(AttachType.XDP, AttachType.TCX_INGRESS, AttachType.TCX_EGRESS);

    private static final int XDP_ABORTED = 0, XDP_DROP = 1, XDP_PASS = 2;

    public Features {
        requirements = List.copyOf(requirements);
    }

    /**
     * Runs every probe.
     *
     * @param withHelpers also probe every helper for {@link #HELPER_PROBE_TYPES} (a few hundred loads)
     * @throws InsufficientPrivilegeException when this process may not use bpf() at all
     */
    public static Features probe(boolean withHelpers) {
        Capabilities caps = Capabilities.current();
        checkPrivilege(caps);
        KernelVersion kernel = KernelVersion.current();
        Map<ProgramType, Support> progs = new EnumMap<>(ProgramType.class);
        for (ProgramType t : ProgramType.values()) {
            progs.put(t, probeProgramType(t, caps));
        }
        Map<MapType, Support> maps = new EnumMap<>(MapType.class);
        for (MapType t : MapType.values()) {
            maps.put(t, probeMapType(t, caps));
        }
        Map<AttachType, Support> attach = probeLinkAttachTypes(caps, kernel);
        Map<ProgramType, Map<Helper, Support>> helpers = new EnumMap<>(ProgramType.class);
        if (withHelpers) {
            for (ProgramType t : HELPER_PROBE_TYPES) {
                if (!progs.get(t).supported()) {
                    continue;
                }
                Map<Helper, Support> m = new EnumMap<>(Helper.class);
                for (Helper h : Helper.values()) {
                    m.put(h, probeHelper(t, h, caps, kernel));
                }
                helpers.put(t, m);
            }
        }
        List<Requirement> needs = Requirements.probe(kernel, caps, progs, maps, attach, helpers);
        return new Features(kernel, caps, progs, maps, attach, helpers, needs);
    }

    /** The requirement with this key (see {@link Requirement#key()}). */
    public Optional<Requirement> requirement(String key) {
        return requirements.stream().filter(r -> r.key().equals(key)).findFirst();
    }

    // ---- privilege -------------------------------------------------------------------------------

    /**
     * Checks once that this process may use bpf() at all: it creates a one-element array map and
     * loads a socket filter that returns 0, the two plainest requests there are.
     *
     * @throws InsufficientPrivilegeException when either is refused with EPERM or EACCES; it names the
     *     effective capabilities and the missing ones
     * @throws BpfException when either fails otherwise (no bpf() in this kernel, memory limits)
     */
    public static void checkPrivilege() {
        checkPrivilege(Capabilities.current());
    }

    private static void checkPrivilege(Capabilities caps) {
        int mapErrno;
        try (Arena arena = Arena.ofConfined()) {
            int fd = rawMap(arena, MapType.ARRAY.value(), 4, 4, 1, 0, 0);
            mapErrno = fd < 0 ? -fd : 0;
            if (fd >= 0) {
                Syscall.close(fd);
            }
        }
        refuseUnless(mapErrno, "BPF_MAP_CREATE array (privilege check)", caps);
        LoadResult prog = rawLoad(ProgramType.SOCKET_FILTER, null, returnZero(), false);
        if (prog.errno == 0) {
            Syscall.close(prog.fd);
        }
        refuseUnless(prog.errno, "BPF_PROG_LOAD socket_filter (privilege check)", caps);
    }

    private static void refuseUnless(int errno, String operation, Capabilities caps) {
        if (errno == 0) {
            return;
        }
        if (errno == Errno.EPERM.number() || errno == Errno.EACCES.number()) {
            throw new InsufficientPrivilegeException(operation, errno, caps);
        }
        String hint = errno == Errno.ENOSYS.number() ? "this kernel has no bpf() (CONFIG_BPF_SYSCALL off)"
                : BpfException.defaultHint(errno);
        throw new BpfException(operation, errno, hint);
    }

    // ---- jvisor's own features ------------------------------------------------------------------

    private static final Cached XDP_METADATA = new Cached(
            () -> probeXdpMetadata(Capabilities.current(), KernelVersion.current()));
    private static final Cached XDP_LIVE_FRAMES = new Cached(() -> probeXdpLiveFrames(Capabilities.current()));

    /**
     * Whether an XDP program may call {@code bpf_xdp_adjust_meta} and the call works: a tiny program
     * that grows the metadata area by 8 bytes is loaded and test-run once. A refusal (on some kernels
     * the verifier says "program of this type cannot use helper bpf_xdp_adjust_meta#54") is a
     * {@code no} with the verifier's words. Probed once per process; the engine calls it to choose its
     * XDP metadata channel.
     */
    public static Support xdpMetadata() {
        return XDP_METADATA.get();
    }

    /**
     * Whether {@code BPF_PROG_TEST_RUN} with {@code BPF_F_TEST_XDP_LIVE_FRAMES} works: an XDP_DROP
     * program runs one live frame on the loopback device of a private, throw-away network namespace.
     * A refusal carries the errno (EPERM on some kernels, even with every capability). Probed once per
     * process.
     */
    public static Support xdpLiveFrames() {
        return XDP_LIVE_FRAMES.get();
    }

    /** A value computed once, on first use, by whichever thread asks first. */
    private static final class Cached {
        private final Supplier<Support> probe;
        private volatile Support value;

        Cached(Supplier<Support> probe) {
            this.probe = probe;
        }

        Support get() {
            Support v = value;
            if (v == null) {
                synchronized (this) {
                    v = value;
                    if (v == null) {
                        v = probe.get();
                        value = v;
                    }
                }
            }
            return v;
        }
    }

    static Support probeXdpMetadata(Capabilities caps, KernelVersion kernel) {
        // r0 = bpf_xdp_adjust_meta(ctx, -8) == 0 ? XDP_PASS : XDP_ABORTED
        List<Instruction> code = new Asm()
                .mov64(Register.R2, -8)
                .call(Helper.XDP_ADJUST_META)
                .mov64(Register.R1, Register.R0)
                .mov64(Register.R0, XDP_PASS)
                .jmp(Opcodes.JEQ, Register.R1, 0, "out")
                .mov64(Register.R0, XDP_ABORTED)
                .label("out").exit()
                .build();
        BpfProgram p;
        try {
            p = BpfProgram.load(ProgramSpec.of("jv_probe_meta", ProgramType.XDP, AttachType.XDP, code));
        } catch (VerifierException e) {
            String line = refusalLine(e.log());
            if (line != null) {
                return Support.refused(e.errno(), line,
                        Refusals.helper(ProgramType.XDP, Helper.XDP_ADJUST_META, caps, kernel));
            }
            return Support.refused(e.errno(), e.verdict(), "the verifier refused a program calling it");
        } catch (BpfException e) {
            return Support.refused(e.errno(), Refusals.programType(ProgramType.XDP, e.errno(), caps));
        }
        try (p) {
            TestRun.Result r = p.testRun(TestRun.of(probeFrame()));
            return r.returnValue() == XDP_PASS ? Support.YES
                    : Support.no("loads, but bpf_xdp_adjust_meta(ctx, -8) fails when run");
        } catch (BpfException e) {
            return Support.refused(e.errno(), "loads, but its test run fails", e.hint());
        }
    }

    static Support probeXdpLiveFrames(Capabilities caps) {
        Support[] out = new Support[1];
        Thread t = Thread.ofPlatform().name("jvisor-live-frames-probe").unstarted(() -> {
            // The frame goes nowhere (XDP_DROP), and the namespace dies with this thread.
            int r = Syscall.unshare(Syscall.CLONE_NEWNET);
            if (r < 0) {
                out[0] = netnsRefused(-r);
                return;
            }
            List<Instruction> code = new Asm().mov64(Register.R0, XDP_DROP).exit().build();
            try (BpfProgram p = BpfProgram.load(ProgramSpec.of("jv_probe_live", ProgramType.XDP, AttachType.XDP,
                    code))) {
                p.testRun(TestRun.of(probeFrame()).withRepeat(1).withFlags(TestRun.XDP_LIVE_FRAMES));
                out[0] = Support.YES;
            } catch (BpfException e) {
                out[0] = e.operation().startsWith("BPF_PROG_TEST_RUN") ? Support.refused(e.errno(), e.hint())
                        : Support.refused(e.errno(), "program load: " + Errno.name(e.errno()),
                                Refusals.programType(ProgramType.XDP, e.errno(), caps));
            }
        });
        runOn(t, "probing XDP live frames");
        return out[0];
    }

    /** The answer of a probe that needs a private network namespace and could not create one. */
    private static Support netnsRefused(int errno) {
        return new Support(false, false, "cannot create a private netns: " + Errno.name(errno), errno,
                errno == Errno.EPERM.number() ? "probing it needs CAP_SYS_ADMIN (for a private network namespace)"
                        : "");
    }

    /** A 64-byte Ethernet + IPv4 + UDP frame between two locally administered MACs. */
    private static byte[] probeFrame() {
        byte[] f = new byte[64];
        f[0] = 2;
        f[5] = 2;
        f[6] = 2;
        f[11] = 1;
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = 17;
        return f;
    }

    /**
     * Runs a probe thread (one that may leave this process's namespace) to its end; what it throws,
     * such as EPERM without CAP_BPF, is thrown here for the caller to report.
     */
    private static void runOn(Thread t, String what) {
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        t.setUncaughtExceptionHandler((thread, e) -> failure.set(e));
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + what, e);
        }
        if (failure.get() instanceof RuntimeException e) {
            throw e;
        }
        if (failure.get() instanceof Error e) {
            throw e;
        }
    }

    // ---- the generic probes -----------------------------------------------------------------------

    private static AttachType expectedAttachFor(ProgramType t) {
        return switch (t) {
            case CGROUP_SOCK_ADDR -> AttachType.CGROUP_INET4_CONNECT;
            case CGROUP_SOCKOPT -> AttachType.CGROUP_GETSOCKOPT;
            case SK_LOOKUP -> AttachType.SK_LOOKUP;
            case NETFILTER -> AttachType.NETFILTER;
            default -> null;
        };
    }

    private static List<Instruction> returnZero() {
        return List.of(
                new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, Register.R0, Register.R0, 0, 0),
                new Instruction(Opcodes.JMP | Opcodes.EXIT, Register.R0, Register.R0, 0, 0));
    }

    /** Loads {@code r0 = 0; exit} as type {@code t}. */
    public static Support probeProgramType(ProgramType t) {
        return probeProgramType(t, Capabilities.current());
    }

    private static Support probeProgramType(ProgramType t, Capabilities caps) {
        switch (t) {
            case TRACING, EXT, LSM, STRUCT_OPS:
                return Support.notProbed("needs a BTF attach target");
            default:
                break;
        }
        LoadResult r = rawLoad(t, expectedAttachFor(t), returnZero(), false);
        if (r.errno == 0) {
            Syscall.close(r.fd);
            return Support.YES;
        }
        return Support.refused(r.errno, Refusals.programType(t, r.errno, caps));
    }

    /** Creates the smallest valid map of type {@code t}. */
    public static Support probeMapType(MapType t) {
        return probeMapType(t, Capabilities.current());
    }

    private static Support probeMapType(MapType t, Capabilities caps) {
        int key = 4, value = 4, max = 1, flags = 0;
        switch (t) {
            case QUEUE, STACK, BLOOM_FILTER -> key = 0;
            case RINGBUF, USER_RINGBUF -> {
                key = 0;
                value = 0;
                max = 4096;
            }
            case LPM_TRIE -> {
                key = 8;
                flags = MapFlags.NO_PREALLOC;
            }
            case STACK_TRACE -> value = 8;
            case CGROUP_STORAGE, PERCPU_CGROUP_STORAGE -> {
                key = 8; // the cgroup inode id form of the key
                value = 8;
                max = 0;
            }
            case ARENA -> {
                key = 0;
                value = 0;
                flags = MapFlags.MMAPABLE;
            }
            case SK_STORAGE, INODE_STORAGE, TASK_STORAGE, CGRP_STORAGE, STRUCT_OPS -> {
                return Support.notProbed("needs BTF for its value type");
            }
            default -> { }
        }
        try (Arena arena = Arena.ofConfined()) {
            int inner = -1;
            if (t.isMapOfMaps()) {
                inner = rawMap(arena, MapType.ARRAY.value(), 4, 4, 1, 0, 0);
                if (inner < 0) {
                    return Support.refused(-inner, "inner map: " + Errno.name(-inner),
                            Refusals.mapType(MapType.ARRAY, -inner, caps));
                }
            }
            int fd = rawMap(arena, t.value(), key, value, max, flags, Math.max(inner, 0));
            if (inner >= 0) {
                Syscall.close(inner);
            }
            if (fd >= 0) {
                Syscall.close(fd);
                return Support.YES;
            }
            return Support.refused(-fd, Refusals.mapType(t, -fd, caps));
        }
    }

    private static int rawMap(Arena arena, int type, int key, int value, int max, int flags, int innerFd) {
        MemorySegment attr = arena.allocate(Attr.MapCreate.LAYOUT);
        attr.set(JAVA_INT, Attr.MapCreate.MAP_TYPE, type);
        attr.set(JAVA_INT, Attr.MapCreate.KEY_SIZE, key);
        attr.set(JAVA_INT, Attr.MapCreate.VALUE_SIZE, value);
        attr.set(JAVA_INT, Attr.MapCreate.MAX_ENTRIES, max);
        attr.set(JAVA_INT, Attr.MapCreate.MAP_FLAGS, flags);
        attr.set(JAVA_INT, Attr.MapCreate.INNER_MAP_FD, innerFd);
        return (int) Syscall.bpf(Attr.MAP_CREATE, attr, attr.byteSize());
    }

    /**
     * Attaches a pass-everything program with BPF_LINK_CREATE to the loopback device of a private,
     * throw-away network namespace (unshare on a dedicated platform thread, which ends with the
     * thread), so that the probe touches no device anyone uses. A process without CAP_SYS_ADMIN
     * cannot unshare (a daemon with only the capabilities of its work, see docs/server.md); it sends
     * instead requests that the kernel must refuse, and reads the refusals
     * ({@link #probeLinkAttachTypeByRefusal}): nothing is attached anywhere.
     */
    public static Map<AttachType, Support> probeLinkAttachTypes() {
        return probeLinkAttachTypes(Capabilities.current(), KernelVersion.current());
    }

    /**
     * Whether the kernel has link attach type {@code t} (one of {@link #LINK_ATTACH_TYPES}), asked in
     * a way that attaches nothing and so waits for nothing: {@link #probeLinkAttachTypes()} attaches
     * real links in a private namespace, and each tcx attach and detach waits for an RCU grace
     * period, a generic XDP attach flips a static key; together hundreds of milliseconds on a busy
     * machine. It agrees with that probe (LinkProbeTest); use it where only the answer matters, as
     * when an engine picks its attach method at start.
     */
    public static Support probeLinkAttachType(AttachType t) {
        if (!LINK_ATTACH_TYPES.contains(t)) {
            throw new IllegalArgumentException(t + " is not probed through BPF_LINK_CREATE (" + LINK_ATTACH_TYPES + ")");
        }
        return probeLinkAttachTypeByRefusal(t, "asked without attaching");
    }

    private static Map<AttachType, Support> probeLinkAttachTypes(Capabilities caps, KernelVersion kernel) {
        Map<AttachType, Support> out = new EnumMap<>(AttachType.class);
        Thread t = Thread.ofPlatform().name("jvisor-link-probe").unstarted(() -> {
            int r = Syscall.unshare(Syscall.CLONE_NEWNET);
            for (AttachType a : LINK_ATTACH_TYPES) {
                // without a private namespace (unshare needs CAP_SYS_ADMIN), ask in a way that attaches nothing
                out.put(a, r < 0 ? probeLinkAttachTypeByRefusal(a, "no private netns (unshare: " + Errno.name(-r) + ")")
                        : probeLinkAttachType(a, 1, caps, kernel));
            }
        });
        runOn(t, "probing links");
        return out;
    }

    /** An ifindex no device has (ifindexes are positive ints handed out upwards from 1). */
    private static final int NO_SUCH_IFINDEX = Integer.MAX_VALUE;
    /** XDP_FLAGS_HW_MODE: offload to the NIC, which a loopback device never offers. */
    private static final int XDP_FLAGS_HW_MODE = 1 << 3;

    /**
     * Probes an attach type with a BPF_LINK_CREATE request that the kernel must refuse, and reads from
     * the refusal how far the request got. A kernel that does not know the attach type refuses it
     * first, with EINVAL. One that knows tcx looks the device up and answers ENODEV for an ifindex
     * no device has. XDP answers EINVAL for a missing device too, so it is asked instead to offload
     * to this namespace's loopback device (ifindex 1), whose driver has no XDP: EOPNOTSUPP comes
     * from the driver check, after the kernel accepted the link. Neither attaches anything.
     */
    static Support probeLinkAttachTypeByRefusal(AttachType t, String why) {
        boolean xdp = t == AttachType.XDP;
        int errno = xdp ? linkCreateErrno(t, 1, XDP_FLAGS_HW_MODE) : linkCreateErrno(t, NO_SUCH_IFINDEX, 0);
        Errno known = xdp ? Errno.ENOTSUP : Errno.ENODEV;
        if (errno == known.number()) {
            return new Support(true, true, "kernel knows it (" + known.name() + (xdp ? " for offload on lo" : " for a"
                    + " missing device") + "); " + why, 0, "");
        }
        if (errno == 0) { // cannot happen for these requests; a kernel that did attach surely has the type
            return new Support(true, true, why, 0, "");
        }
        return Support.no(Errno.name(errno) + "; " + why);
    }

    /** The errno of BPF_LINK_CREATE of a pass-everything program of the attach type's program type. */
    private static int linkCreateErrno(AttachType t, int ifindex, int flags) {
        boolean xdp = t == AttachType.XDP;
        List<Instruction> code = List.of(
                new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, Register.R0, Register.R0, 0, xdp ? 2 : 0),
                new Instruction(Opcodes.JMP | Opcodes.EXIT, Register.R0, Register.R0, 0, 0));
        LoadResult prog = rawLoad(xdp ? ProgramType.XDP : ProgramType.SCHED_CLS, xdp ? AttachType.XDP : null, code, false);
        if (prog.errno != 0) {
            return prog.errno;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.LinkCreate.LAYOUT);
            attr.set(JAVA_INT, Attr.LinkCreate.PROG_FD, prog.fd);
            attr.set(JAVA_INT, Attr.LinkCreate.TARGET_IFINDEX, ifindex);
            attr.set(JAVA_INT, Attr.LinkCreate.ATTACH_TYPE, t.value());
            attr.set(JAVA_INT, Attr.LinkCreate.FLAGS, flags);
            long r = Syscall.bpf(Attr.LINK_CREATE, attr, attr.byteSize());
            if (r >= 0) {
                Syscall.close((int) r);
                return 0;
            }
            return (int) -r;
        } finally {
            Syscall.close(prog.fd);
        }
    }

    private static Support probeLinkAttachType(AttachType t, int ifindex, Capabilities caps, KernelVersion kernel) {
        boolean xdp = t == AttachType.XDP;
        ProgramType type = xdp ? ProgramType.XDP : ProgramType.SCHED_CLS;
        List<Instruction> code = List.of(
                new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, Register.R0, Register.R0, 0, xdp ? 2 : 0),
                new Instruction(Opcodes.JMP | Opcodes.EXIT, Register.R0, Register.R0, 0, 0));
        LoadResult prog = rawLoad(type, xdp ? AttachType.XDP : null, code, false);
        if (prog.errno != 0) {
            return Support.refused(prog.errno, "program load: " + Errno.name(prog.errno),
                    Refusals.programType(type, prog.errno, caps));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.LinkCreate.LAYOUT);
            attr.set(JAVA_INT, Attr.LinkCreate.PROG_FD, prog.fd);
            attr.set(JAVA_INT, Attr.LinkCreate.TARGET_IFINDEX, ifindex);
            attr.set(JAVA_INT, Attr.LinkCreate.ATTACH_TYPE, t.value());
            attr.set(JAVA_INT, Attr.LinkCreate.FLAGS, xdp ? 1 << 1 : 0); // generic XDP works on loopback
            long r = Syscall.bpf(Attr.LINK_CREATE, attr, attr.byteSize());
            if (r >= 0) {
                Syscall.close((int) r);
                return Support.YES;
            }
            return Support.refused((int) -r, Refusals.attachType(t, (int) -r, caps, kernel));
        } finally {
            Syscall.close(prog.fd);
        }
    }

    /** Loads a program of type {@code t} that calls {@code h}, and reads the verifier's verdict. */
    public static Support probeHelper(ProgramType t, Helper h) {
        return probeHelper(t, h, Capabilities.current(), KernelVersion.current());
    }

    static Support probeHelper(ProgramType t, Helper h, Capabilities caps, KernelVersion kernel) {
        List<Instruction> code = List.of(
                new Instruction(Opcodes.JMP | Opcodes.CALL, Register.R0, Register.R0, 0, h.id()),
                new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, Register.R0, Register.R0, 0, 0),
                new Instruction(Opcodes.JMP | Opcodes.EXIT, Register.R0, Register.R0, 0, 0));
        LoadResult r = rawLoad(t, expectedAttachFor(t), code, true);
        if (r.errno == 0) {
            return Support.YES;
        }
        String line = refusalLine(r.log);
        if (line != null) {
            return Support.refused(r.errno, "not available to " + t.kernelName(), Refusals.helper(t, h, caps, kernel));
        }
        if (r.errno == Errno.EPERM.number()) {
            // the program type itself is refused, so no helper of it can be used
            return Support.refused(r.errno, Refusals.programType(t, r.errno, caps));
        }
        // The verifier got past the helper and stopped at its (deliberately missing) arguments.
        return Support.YES;
    }

    /** The verifier's line refusing a helper, or null: the words bpftool reads too. */
    private static String refusalLine(String log) {
        for (String line : log.split("\n")) {
            if (line.contains("invalid func ") || line.contains("unknown func ")
                    || line.contains("program of this type cannot use helper")) {
                return line.strip();
            }
        }
        return null;
    }

    private record LoadResult(int fd, int errno, String log) {}

    /** Loads a program; with a log, a loaded program is closed at once (only the verdict matters). */
    private static LoadResult rawLoad(ProgramType t, AttachType expected, List<Instruction> code, boolean withLog) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insns = arena.allocate((long) Instruction.slots(code) * 8, 8);
            Instruction.encodeAll(code, insns);
            MemorySegment license = arena.allocateFrom("GPL");
            MemorySegment log = withLog ? arena.allocate(4096) : MemorySegment.NULL;
            MemorySegment attr = arena.allocate(Attr.ProgLoad.LAYOUT);
            attr.set(JAVA_INT, Attr.ProgLoad.PROG_TYPE, t.value());
            attr.set(JAVA_INT, Attr.ProgLoad.INSN_CNT, Instruction.slots(code));
            attr.set(JAVA_LONG, Attr.ProgLoad.INSNS, insns.address());
            attr.set(JAVA_LONG, Attr.ProgLoad.LICENSE, license.address());
            if (expected != null) {
                attr.set(JAVA_INT, Attr.ProgLoad.EXPECTED_ATTACH_TYPE, expected.value());
            }
            if (t == ProgramType.SYSCALL) {
                attr.set(JAVA_INT, Attr.ProgLoad.PROG_FLAGS, 1 << 4); // BPF_F_SLEEPABLE: syscall programs must be
            }
            if (withLog) {
                attr.set(JAVA_INT, Attr.ProgLoad.LOG_LEVEL, 1);
                attr.set(JAVA_INT, Attr.ProgLoad.LOG_SIZE, 4096);
                attr.set(JAVA_LONG, Attr.ProgLoad.LOG_BUF, log.address());
            }
            long r = Syscall.bpf(Attr.PROG_LOAD, attr, attr.byteSize());
            if (r >= 0) {
                if (withLog) {
                    Syscall.close((int) r);
                }
                return new LoadResult((int) r, 0, "");
            }
            return new LoadResult(-1, (int) -r, withLog ? log.getString(0, StandardCharsets.UTF_8) : "");
        }
    }

    // ---- rendering ------------------------------------------------------------------------------

    /**
     * Tables in the style of {@code bpftool feature probe}: the kernel and the capabilities, what
     * jvisor needs (with what each refusal wants and the fallback), then program, map and link attach
     * types, and helpers when probed.
     */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("Kernel: ").append(kernel.release()).append('\n');
        sb.append(capabilities.render()).append('\n');
        renderRequirements(sb);
        table(sb, "PROGRAM TYPE", programTypes.entrySet().stream()
                .map(e -> new String[] {e.getKey().kernelName(), e.getValue().word(), e.getValue().explanation()})
                .toList());
        table(sb, "MAP TYPE", mapTypes.entrySet().stream()
                .map(e -> new String[] {e.getKey().kernelName(), e.getValue().word(), e.getValue().explanation()})
                .toList());
        table(sb, "LINK ATTACH TYPE", attachTypes.entrySet().stream()
                .map(e -> new String[] {e.getKey().kernelName(), e.getValue().word(), e.getValue().explanation()})
                .toList());
        if (!helpers.isEmpty()) {
            for (var e : helpers.entrySet()) {
                long n = e.getValue().values().stream().filter(Support::supported).count();
                table(sb, "HELPER FOR " + e.getKey().kernelName().toUpperCase() + " (" + n + " of "
                        + e.getValue().size() + ")", e.getValue().entrySet().stream()
                        .map(h -> new String[] {h.getKey().cName(), h.getValue().word(), ""}).toList());
            }
        } else {
            sb.append("(helpers: run 'jvisor features --helpers' to probe each helper)\n");
        }
        return sb.toString();
    }

    private void renderRequirements(StringBuilder sb) {
        long met = requirements.stream().filter(Requirement::met).count();
        String title = "JVISOR NEEDS (" + met + " of " + requirements.size() + ")";
        int wKey = title.length(), wFeature = "FEATURE".length();
        for (Requirement r : requirements) {
            wKey = Math.max(wKey, r.key().length());
            wFeature = Math.max(wFeature, r.feature().length());
        }
        String format = "%-" + wKey + "s  %-" + wFeature + "s  %s%n";
        sb.append(String.format(format, title, "FEATURE", "SUPPORTED"));
        for (Requirement r : requirements) {
            Support s = r.support();
            String word = s.supported() || s.detail().isEmpty() ? s.word() : s.word() + " (" + s.detail() + ")";
            sb.append(String.format(format, r.key(), r.feature(), word));
            if (!r.met()) {
                String indent = " ".repeat(4);
                sb.append(indent).append("used by:  ").append(r.usedBy()).append('\n');
                sb.append(indent).append("hint:     ").append(s.hint().isEmpty() ? "unknown" : s.hint()).append('\n');
                sb.append(indent).append("fallback: ").append(r.fallback().isEmpty() ? "none" : r.fallback())
                        .append('\n');
            }
        }
        sb.append('\n');
    }

    private static void table(StringBuilder sb, String title, List<String[]> rows) {
        int w = title.length();
        for (String[] r : rows) {
            w = Math.max(w, r[0].length());
        }
        sb.append(String.format("%-" + w + "s  %-10s  %s%n", title, "SUPPORTED", "DETAIL"));
        for (String[] r : rows) {
            sb.append(String.format("%-" + w + "s  %-10s  %s%n", r[0], r[1], r[2]).stripTrailing()).append('\n');
        }
        sb.append('\n');
    }

    /** Names of the requirements that are not met, for one-line summaries. */
    public List<String> unmet() {
        List<String> out = new ArrayList<>();
        for (Requirement r : requirements) {
            if (!r.met()) {
                out.add(r.key());
            }
        }
        return out;
    }
}

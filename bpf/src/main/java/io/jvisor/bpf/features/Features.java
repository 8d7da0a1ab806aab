package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.MapFlags;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Probes what the running kernel supports, the way {@code bpftool feature probe} does: it loads a
 * minimal program of each type, creates a minimal map of each type, asks BPF_LINK_CREATE about
 * the networking attach types, and loads a call to each helper. Probing needs the privileges of
 * the real work (root or CAP_BPF); without them it throws with the usual EPERM hint.
 *
 * @param kernel the kernel version
 * @param programTypes support per program type
 * @param mapTypes support per map type
 * @param attachTypes support per networking link attach type
 * @param helpers per program type probed for helpers, the support of each helper
 */
public record Features(KernelVersion kernel, Map<ProgramType, Support> programTypes, Map<MapType, Support> mapTypes,
                       Map<AttachType, Support> attachTypes, Map<ProgramType, Map<Helper, Support>> helpers) {

    /** Program types whose helpers are probed: the ones jvisor's data planes use. */
    public static final List<ProgramType> HELPER_PROBE_TYPES =
            List.of(ProgramType.XDP, ProgramType.SCHED_CLS, ProgramType.SOCKET_FILTER);

    /** The attach types probed through BPF_LINK_CREATE. */
    public static final List<AttachType> LINK_ATTACH_TYPES =
            List.of(AttachType.XDP, AttachType.TCX_INGRESS, AttachType.TCX_EGRESS);

    /**
     * Runs every probe.
     *
     * @param withHelpers also probe every helper for {@link #HELPER_PROBE_TYPES} (a few hundred loads)
     */
    public static Features probe(boolean withHelpers) {
        Map<ProgramType, Support> progs = new EnumMap<>(ProgramType.class);
        for (ProgramType t : ProgramType.values()) {
            progs.put(t, probeProgramType(t));
        }
        Map<MapType, Support> maps = new EnumMap<>(MapType.class);
        for (MapType t : MapType.values()) {
            maps.put(t, probeMapType(t));
        }
        Map<AttachType, Support> attach = probeLinkAttachTypes();
        Map<ProgramType, Map<Helper, Support>> helpers = new EnumMap<>(ProgramType.class);
        if (withHelpers) {
            for (ProgramType t : HELPER_PROBE_TYPES) {
                if (!progs.get(t).supported()) {
                    continue;
                }
                Map<Helper, Support> m = new EnumMap<>(Helper.class);
                for (Helper h : Helper.values()) {
                    m.put(h, probeHelper(t, h));
                }
                helpers.put(t, m);
            }
        }
        return new Features(KernelVersion.current(), progs, maps, attach, helpers);
    }

    private static AttachType expectedAttachFor(ProgramType t) {
        return switch (t) {
            case CGROUP_SOCK_ADDR -> AttachType.CGROUP_INET4_CONNECT;
            case CGROUP_SOCKOPT -> AttachType.CGROUP_GETSOCKOPT;
            case SK_LOOKUP -> AttachType.SK_LOOKUP;
            case NETFILTER -> AttachType.NETFILTER;
            default -> null;
        };
    }

    /** Loads {@code r0 = 0; exit} as type {@code t}. */
    public static Support probeProgramType(ProgramType t) {
        switch (t) {
            case TRACING, EXT, LSM, STRUCT_OPS:
                return Support.notProbed("needs a BTF attach target");
            default:
                break;
        }
        List<Instruction> code = List.of(
                new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, Register.R0, Register.R0, 0, 0),
                new Instruction(Opcodes.JMP | Opcodes.EXIT, Register.R0, Register.R0, 0, 0));
        LoadResult r = rawLoad(t, expectedAttachFor(t), code, false);
        return r.errno == 0 ? Support.YES : Support.no(Errno.name(r.errno));
    }

    /** Creates the smallest valid map of type {@code t}. */
    public static Support probeMapType(MapType t) {
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
                    return Support.no("inner map: " + Errno.name(-inner));
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
            requirePrivilege(-fd, "BPF_MAP_CREATE probe");
            return Support.no(Errno.name(-fd));
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
        Map<AttachType, Support> out = new EnumMap<>(AttachType.class);
        java.util.concurrent.atomic.AtomicReference<RuntimeException> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = Thread.ofPlatform().name("jvisor-link-probe").unstarted(() -> {
            try {
                int r = Syscall.unshare(Syscall.CLONE_NEWNET);
                for (AttachType a : LINK_ATTACH_TYPES) {
                    out.put(a, r < 0 ? probeLinkAttachTypeByRefusal(a, "no private netns (unshare: " + Errno.name(-r) + ")")
                            : probeLinkAttachType(a, 1));
                }
            } catch (RuntimeException e) {
                failure.set(e); // such as EPERM without CAP_BPF: the caller's to report
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing links", e);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
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
                    + " missing device") + "); " + why);
        }
        if (errno == 0) { // cannot happen for these requests; a kernel that did attach surely has the type
            return new Support(true, true, why);
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

    private static Support probeLinkAttachType(AttachType t, int ifindex) {
        boolean xdp = t == AttachType.XDP;
        List<Instruction> code = List.of(
                new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, Register.R0, Register.R0, 0, xdp ? 2 : 0),
                new Instruction(Opcodes.JMP | Opcodes.EXIT, Register.R0, Register.R0, 0, 0));
        LoadResult prog = rawLoad(xdp ? ProgramType.XDP : ProgramType.SCHED_CLS, xdp ? AttachType.XDP : null, code, false);
        if (prog.errno != 0) {
            return Support.no("program load: " + Errno.name(prog.errno));
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
            return Support.no(Errno.name((int) -r));
        } finally {
            Syscall.close(prog.fd);
        }
    }

    /** Loads a program of type {@code t} that calls {@code h}, and reads the verifier's verdict. */
    public static Support probeHelper(ProgramType t, Helper h) {
        List<Instruction> code = List.of(
                new Instruction(Opcodes.JMP | Opcodes.CALL, Register.R0, Register.R0, 0, h.id()),
                new Instruction(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, Register.R0, Register.R0, 0, 0),
                new Instruction(Opcodes.JMP | Opcodes.EXIT, Register.R0, Register.R0, 0, 0));
        LoadResult r = rawLoad(t, expectedAttachFor(t), code, true);
        if (r.errno == 0) {
            return Support.YES;
        }
        // The verifier names unknown or forbidden helpers this way (bpftool reads the same words).
        if (r.log.contains("invalid func ") || r.log.contains("unknown func ")
                || r.log.contains("program of this type cannot use helper")) {
            return Support.no("not available to " + t.kernelName());
        }
        return Support.YES;
    }

    private record LoadResult(int fd, int errno, String log) {}

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
            requirePrivilege((int) -r, "BPF_PROG_LOAD probe");
            return new LoadResult(-1, (int) -r, withLog ? log.getString(0, StandardCharsets.UTF_8) : "");
        }
    }

    private static void requirePrivilege(int errno, String op) {
        if (errno == Errno.EPERM.number()) {
            throw new BpfException(op, errno, BpfException.defaultHint(errno));
        }
    }

    /** A table in the style of {@code bpftool feature probe}. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("Kernel: ").append(kernel.release()).append("\n\n");
        table(sb, "PROGRAM TYPE", programTypes.entrySet().stream()
                .map(e -> new String[] {e.getKey().kernelName(), e.getValue().word(), e.getValue().detail()}).toList());
        table(sb, "MAP TYPE", mapTypes.entrySet().stream()
                .map(e -> new String[] {e.getKey().kernelName(), e.getValue().word(), e.getValue().detail()}).toList());
        table(sb, "LINK ATTACH TYPE", attachTypes.entrySet().stream()
                .map(e -> new String[] {e.getKey().kernelName(), e.getValue().word(), e.getValue().detail()}).toList());
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
}

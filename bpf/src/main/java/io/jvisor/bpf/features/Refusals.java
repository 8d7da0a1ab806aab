package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Helper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a refusal wants: the capability or kernel setting where upstream Linux says so, else what is
 * known of why this kernel refuses it. The capability rules are those of kernel/bpf/syscall.c
 * (map_create, bpf_prog_load's is_net_admin_prog_type and is_perfmon_prog_type); a kernel that
 * refuses with every one of them granted is restricted by its build or a security policy, and the
 * hint says that instead of guessing.
 */
final class Refusals {
    private Refusals() {}

    private static final int EPERM = Errno.EPERM.number();

    /** Kernel versions that introduced the helpers jvisor calls (for a refusal on an older kernel). */
    private static final Map<Helper, String> HELPER_SINCE = Map.ofEntries(
            Map.entry(Helper.XDP_ADJUST_META, "4.15"), Map.entry(Helper.REDIRECT_MAP, "4.14"),
            Map.entry(Helper.SKB_ADJUST_ROOM, "4.13"), Map.entry(Helper.JIFFIES64, "5.5"),
            Map.entry(Helper.RINGBUF_OUTPUT, "5.8"), Map.entry(Helper.RINGBUF_RESERVE, "5.8"),
            Map.entry(Helper.RINGBUF_SUBMIT, "5.8"), Map.entry(Helper.REDIRECT_PEER, "5.10"),
            Map.entry(Helper.SNPRINTF, "5.13"), Map.entry(Helper.LOOP, "5.17"),
            Map.entry(Helper.XDP_GET_BUFF_LEN, "5.18"), Map.entry(Helper.XDP_LOAD_BYTES, "5.18"));

    /** Base helpers the kernel offers only to CAP_BPF (bpf_base_func_proto). */
    private static final List<Helper> NEED_CAP_BPF = List.of(Helper.JIFFIES64, Helper.SNPRINTF, Helper.LOOP,
            Helper.RINGBUF_OUTPUT, Helper.RINGBUF_RESERVE, Helper.RINGBUF_SUBMIT);

    static boolean unprivilegedBpfDisabled() {
        try {
            return !Capabilities.readProc(Path.of("/proc/sys/kernel/unprivileged_bpf_disabled")).trim().equals("0");
        } catch (java.io.IOException | RuntimeException e) {
            return true; // the safe reading: CAP_BPF is wanted
        }
    }

    /** The capabilities upstream Linux asks for loading a program of type {@code t}. */
    static List<Capability> wantedFor(ProgramType t) {
        List<Capability> out = new ArrayList<>();
        boolean unprivileged = t == ProgramType.SOCKET_FILTER || t == ProgramType.CGROUP_SKB;
        if (!unprivileged || unprivilegedBpfDisabled()) {
            out.add(Capability.BPF);
        }
        switch (t) {
            case SCHED_CLS, SCHED_ACT, XDP, LWT_IN, LWT_OUT, LWT_XMIT, LWT_SEG6LOCAL, SK_SKB, SK_MSG, FLOW_DISSECTOR,
                 CGROUP_DEVICE, CGROUP_SOCK, CGROUP_SOCK_ADDR, CGROUP_SOCKOPT, CGROUP_SYSCTL, SOCK_OPS, NETFILTER ->
                    out.add(Capability.NET_ADMIN);
            case KPROBE, TRACEPOINT, PERF_EVENT, RAW_TRACEPOINT, RAW_TRACEPOINT_WRITABLE, TRACING, LSM, STRUCT_OPS ->
                    out.add(Capability.PERFMON);
            case EXT -> {
                out.add(Capability.NET_ADMIN);
                out.add(Capability.PERFMON);
            }
            default -> { }
        }
        return out;
    }

    /** The capabilities upstream Linux asks for creating a map of type {@code t}. */
    static List<Capability> wantedFor(MapType t) {
        List<Capability> out = new ArrayList<>();
        switch (t) {
            case SOCKMAP, SOCKHASH, DEVMAP, DEVMAP_HASH, XSKMAP -> {
                if (unprivilegedBpfDisabled()) {
                    out.add(Capability.BPF);
                }
                out.add(Capability.NET_ADMIN);
            }
            case ARRAY, PERCPU_ARRAY, PROG_ARRAY, PERF_EVENT_ARRAY, CGROUP_ARRAY, ARRAY_OF_MAPS, HASH, PERCPU_HASH,
                 HASH_OF_MAPS, RINGBUF, USER_RINGBUF, CGROUP_STORAGE, PERCPU_CGROUP_STORAGE -> {
                if (unprivilegedBpfDisabled()) {
                    out.add(Capability.BPF);
                }
            }
            default -> out.add(Capability.BPF);
        }
        return out;
    }

    /**
     * For an EPERM: the capabilities of {@code wanted} the process lacks, or, with all of them, that
     * this kernel refuses it anyway.
     */
    static String permission(List<Capability> wanted, Capabilities caps, String what) {
        List<String> lacking = caps.lacking(wanted);
        if (!lacking.isEmpty()) {
            return "needs " + String.join(" and ", lacking);
        }
        if (wanted.isEmpty()) {
            return "refused by this kernel: upstream Linux asks no capability for " + what;
        }
        return "refused by this kernel although this process has "
                + String.join(" and ", wanted.stream().map(Capability::capName).toList())
                + ", all that upstream Linux asks for " + what + " (a security policy or this kernel build refuses it)";
    }

    static String programType(ProgramType t, int errno, Capabilities caps) {
        if (errno == EPERM) {
            return permission(wantedFor(t), caps, t.kernelName() + " programs");
        }
        if (errno == Errno.EINVAL.number()) {
            return "this kernel does not offer the type (not built in, or older than the type)";
        }
        return "refused by this kernel (" + Errno.name(errno) + ")";
    }

    static String mapType(MapType t, int errno, Capabilities caps) {
        if (errno == EPERM) {
            return permission(wantedFor(t), caps, t.kernelName() + " maps");
        }
        if (errno == Errno.EINVAL.number()) {
            return "this kernel does not offer the type (not built in, or older than the type)";
        }
        if (t == MapType.ARENA && (errno == Errno.ENOTSUP.number() || errno == Errno.ENOTSUPP.number())) {
            return "this kernel's JIT has no arena support";
        }
        return "refused by this kernel (" + Errno.name(errno) + ")";
    }

    static String attachType(AttachType a, int errno, Capabilities caps, KernelVersion kernel) {
        if (errno == EPERM) {
            return permission(List.of(Capability.BPF, Capability.NET_ADMIN), caps, a.kernelName() + " links");
        }
        String since = a == AttachType.XDP ? "5.9" : "6.6";
        if (errno == Errno.EINVAL.number() && !atLeast(kernel, since)) {
            return "needs kernel " + since + "+";
        }
        return "refused by this kernel (" + Errno.name(errno) + ")";
    }

    /** A helper the verifier refused to a program of type {@code t}. */
    static String helper(ProgramType t, Helper h, Capabilities caps, KernelVersion kernel) {
        if (NEED_CAP_BPF.contains(h) && !caps.allows(Capability.BPF)) {
            return "needs CAP_BPF";
        }
        String since = HELPER_SINCE.get(h);
        if (since != null) {
            if (!atLeast(kernel, since)) {
                return "needs kernel " + since + "+";
            }
            return "this kernel build does not offer " + h.cName() + " to " + t.kernelName()
                    + " programs; upstream Linux does since " + since + ", and no capability changes that";
        }
        return "this kernel does not offer " + h.cName() + " to " + t.kernelName() + " programs";
    }

    /** True when {@code kernel} is at least {@code version} ("5.10"). */
    private static boolean atLeast(KernelVersion kernel, String version) {
        String[] v = version.split("\\.");
        return kernel.atLeast(Integer.parseInt(v[0]), Integer.parseInt(v[1]));
    }
}

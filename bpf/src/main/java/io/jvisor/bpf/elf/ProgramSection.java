package io.jvisor.bpf.elf;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.ProgramSpec;

import java.util.List;
import java.util.Optional;

/**
 * libbpf's program section names ({@code SEC("xdp")}, {@code SEC("tracepoint/syscalls/sys_enter_getpid")},
 * ...) and the program type, expected attach type and flags each implies.
 *
 * @param section the ELF section name
 * @param type the program type
 * @param attachType the expected attach type, or null
 * @param target the attach target named by the section ({@code syscalls/sys_enter_getpid} for a
 *     tracepoint, {@code sched_switch} for raw_tp and tp_btf), or empty
 * @param flags BPF_F_* program flags the section implies ({@link ProgramSpec#SLEEPABLE} for syscall)
 */
public record ProgramSection(String section, ProgramType type, AttachType attachType, String target, int flags) {
    private record Convention(String prefix, boolean exact, ProgramType type, AttachType attachType, int flags) {}

    /** The conventions, most specific first. */
    private static final List<Convention> CONVENTIONS = List.of(
            new Convention("xdp.frags", true, ProgramType.XDP, AttachType.XDP, 1 << 5),
            new Convention("xdp", true, ProgramType.XDP, AttachType.XDP, 0),
            new Convention("xdp/", false, ProgramType.XDP, AttachType.XDP, 0),
            new Convention("tcx/ingress", true, ProgramType.SCHED_CLS, AttachType.TCX_INGRESS, 0),
            new Convention("tcx/egress", true, ProgramType.SCHED_CLS, AttachType.TCX_EGRESS, 0),
            new Convention("tc/ingress", true, ProgramType.SCHED_CLS, AttachType.TCX_INGRESS, 0),
            new Convention("tc/egress", true, ProgramType.SCHED_CLS, AttachType.TCX_EGRESS, 0),
            new Convention("tc", true, ProgramType.SCHED_CLS, null, 0),
            new Convention("tc/", false, ProgramType.SCHED_CLS, null, 0),
            new Convention("classifier", true, ProgramType.SCHED_CLS, null, 0),
            new Convention("classifier/", false, ProgramType.SCHED_CLS, null, 0),
            new Convention("action", true, ProgramType.SCHED_ACT, null, 0),
            new Convention("action/", false, ProgramType.SCHED_ACT, null, 0),
            new Convention("socket", true, ProgramType.SOCKET_FILTER, null, 0),
            new Convention("socket/", false, ProgramType.SOCKET_FILTER, null, 0),
            new Convention("tracepoint/", false, ProgramType.TRACEPOINT, null, 0),
            new Convention("tp/", false, ProgramType.TRACEPOINT, null, 0),
            new Convention("raw_tracepoint/", false, ProgramType.RAW_TRACEPOINT, null, 0),
            new Convention("raw_tp/", false, ProgramType.RAW_TRACEPOINT, null, 0),
            new Convention("tp_btf/", false, ProgramType.TRACING, AttachType.TRACE_RAW_TP, 0),
            new Convention("syscall", true, ProgramType.SYSCALL, null, ProgramSpec.SLEEPABLE),
            new Convention("sk_lookup", true, ProgramType.SK_LOOKUP, AttachType.SK_LOOKUP, 0),
            new Convention("cgroup_skb/ingress", true, ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, 0),
            new Convention("cgroup_skb/egress", true, ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 0),
            new Convention("perf_event", true, ProgramType.PERF_EVENT, null, 0));

    /**
     * The conventions a section name follows, or empty when it follows none (then the section is
     * not a program).
     */
    public static Optional<ProgramSection> of(String section) {
        for (Convention c : CONVENTIONS) {
            if (c.exact() ? section.equals(c.prefix()) : section.startsWith(c.prefix()) && section.length() > c.prefix().length()) {
                String target = c.exact() ? "" : section.substring(c.prefix().length());
                return Optional.of(new ProgramSection(section, c.type(), c.attachType(), target, c.flags()));
            }
        }
        return Optional.empty();
    }

    /** The tracepoint category ({@code syscalls} of {@code tracepoint/syscalls/sys_enter_getpid}), or empty. */
    public String category() {
        int slash = target.indexOf('/');
        return slash < 0 ? "" : target.substring(0, slash);
    }

    /** The tracepoint event name ({@code sys_enter_getpid} of {@code tracepoint/syscalls/sys_enter_getpid}). */
    public String event() {
        int slash = target.indexOf('/');
        return slash < 0 ? target : target.substring(slash + 1);
    }
}

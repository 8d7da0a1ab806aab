package io.jvisor.net;

/**
 * A tc filter as the kernel reports it (RTM_NEWTFILTER in a dump or a get), as
 * {@code tc filter show} would print it. Only cls_bpf ({@code kind "bpf"}) filters fill the
 * program fields.
 *
 * @param ifindex the device
 * @param parent the hook's handle (tcm_parent), e.g. {@code 0xfffffff2} for clsact ingress
 * @param priority the filter's priority (tc's {@code pref})
 * @param protocol the ethertype it matches, in host order ({@code 3} is ETH_P_ALL)
 * @param handle the filter's handle
 * @param chain the filter chain, 0 by default
 * @param kind the classifier, e.g. {@code "bpf"}
 * @param programId the kernel id of the bpf program (TCA_BPF_ID), or 0
 * @param name the filter's name (TCA_BPF_NAME), or empty
 * @param tag the program's tag (TCA_BPF_TAG) in hex, as bpftool prints it, or empty
 * @param directAction whether the program's return value is the action (TCA_BPF_FLAG_ACT_DIRECT)
 */
public record TcFilter(int ifindex, int parent, int priority, int protocol, int handle, int chain, String kind,
                       int programId, String name, String tag, boolean directAction) {

    /** The clsact hook this filter is on, or null when it is attached elsewhere. */
    public TcDirection direction() {
        return TcDirection.ofParent(parent);
    }

    /** True for a cls_bpf filter. */
    public boolean isBpf() {
        return kind.equals("bpf");
    }
}

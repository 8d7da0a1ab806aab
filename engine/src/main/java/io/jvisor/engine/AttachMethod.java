package io.jvisor.engine;

/**
 * How device entries are attached.
 *
 * <p>{@link #LINK} uses bpf links: tcx (kernel 6.6+) for tc, BPF_LINK_CREATE for XDP (5.9+).
 * {@link #NETLINK} uses the older rtnetlink paths that kernels without them have: a clsact qdisc
 * with a cls_bpf direct-action filter for tc, IFLA_XDP for XDP. Both swap programs atomically (link
 * update; filter replace; XDP replace with the expected program) and both survive the engine's
 * process. {@link #AUTO} picks LINK when the kernel has it, by feature probe.
 */
public enum AttachMethod {
    /** LINK when the running kernel supports it, else NETLINK. */
    AUTO,
    /** tcx links, XDP links. */
    LINK,
    /** clsact + cls_bpf, IFLA_XDP. */
    NETLINK
}

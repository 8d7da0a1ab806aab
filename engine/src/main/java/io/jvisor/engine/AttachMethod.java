package io.jvisor.engine;

/**
 * How device entries are attached.
 *
 * <p>{@link #LINK} uses bpf links: tcx (kernel 6.6+) for tc, BPF_LINK_CREATE for XDP (5.9+).
 * {@link #NETLINK} uses the older rtnetlink paths that kernels without them have: a clsact qdisc
 * with a cls_bpf direct-action filter for tc, IFLA_XDP for XDP. Both swap programs atomically (link
 * update; filter replace; XDP replace with the expected program) and both survive the engine's
 * process.
 *
 * <p>{@link #AUTO} picks NETLINK on the tc hook: a tcx link's attach and its detach each wait one
 * RCU grace period while holding RTNL (about 10 ms here, the same from several threads), so 300
 * devices took 3 s to attach and 3 s to detach, against 0.15 s and 0.01 s for cls_bpf filters
 * (docs/benchmarks.md, "Apply time"). Choose LINK for tcx's ownership model: a link belongs to its
 * pins, detaches when they go, and cannot be replaced by another tool's {@code tc filter} command.
 * On the XDP hook AUTO picks LINK where the kernel has XDP links (they attach in a tenth of a
 * millisecond), else NETLINK.
 */
public enum AttachMethod {
    /** NETLINK on tc; on XDP, LINK when the running kernel supports it, else NETLINK. */
    AUTO,
    /** tcx links, XDP links. */
    LINK,
    /** clsact + cls_bpf, IFLA_XDP. */
    NETLINK
}

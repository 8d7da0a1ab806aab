package io.jvisor.net;

/**
 * A hook of the clsact qdisc: where a tc filter sees packets. The two are the qdisc's pseudo
 * classes, {@code ffff:fff2} and {@code ffff:fff3} (TC_H_MIN_INGRESS and TC_H_MIN_EGRESS under
 * TC_H_CLSACT in linux/pkt_sched.h).
 */
public enum TcDirection {
    /** Packets the device receives ({@code tc filter ... ingress}). */
    INGRESS(0xFFFF_FFF2),
    /** Packets the device sends ({@code tc filter ... egress}). */
    EGRESS(0xFFFF_FFF3);

    private final int parent;

    TcDirection(int parent) {
        this.parent = parent;
    }

    /** The tcm_parent handle of this hook: {@code 0xfffffff2} or {@code 0xfffffff3}. */
    public int parent() {
        return parent;
    }

    /** The direction whose hook is {@code parent}, or null when it is neither clsact hook. */
    public static TcDirection ofParent(int parent) {
        for (TcDirection d : values()) {
            if (d.parent == parent) {
                return d;
            }
        }
        return null;
    }

    /** {@code "ingress"} or {@code "egress"}, as tc spells it. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

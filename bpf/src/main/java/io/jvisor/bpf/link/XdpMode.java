package io.jvisor.bpf.link;

/** Where an XDP program runs. */
public enum XdpMode {
    /** Let the kernel choose: native when the driver supports it, else generic. */
    AUTO(0),
    /** Generic (skb) mode: works on every device, slower, after the skb is built. */
    GENERIC(1 << 1),
    /** Native (driver) mode: in the driver before an skb exists; fails on devices without support. */
    DRIVER(1 << 2);

    private final int flags;

    XdpMode(int flags) {
        this.flags = flags;
    }

    /** The XDP_FLAGS_* value. */
    public int flags() {
        return flags;
    }
}

package io.jvisor.net;

/**
 * Where an XDP program attached through rtnetlink (IFLA_XDP) runs. A device can carry one
 * program per mode, but the kernel refuses generic and driver programs on one device at once.
 */
public enum XdpAttachMode {
    /** Generic (skb) mode, XDP_FLAGS_SKB_MODE: works on every device, after the skb is built. */
    GENERIC(1 << 1),
    /**
     * Native (driver) mode, XDP_FLAGS_DRV_MODE: in the driver before an skb exists; the kernel
     * refuses it (EOPNOTSUPP) on devices whose driver lacks support.
     */
    DRIVER(1 << 2);

    private final int flags;

    XdpAttachMode(int flags) {
        this.flags = flags;
    }

    /** The XDP_FLAGS_* mode bit (linux/if_link.h): 2 or 4. */
    public int flags() {
        return flags;
    }

    /** {@code "generic"} or {@code "driver"}. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

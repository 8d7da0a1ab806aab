package io.jvisor.engine;

/**
 * The constants the C SDK ({@code jvisor/module.h}) and the engine share. A change on one side
 * must be made on the other; {@code SdkTest} checks them against a compiled module.
 */
public final class Sdk {
    private Sdk() {}

    /** Ports per instance: 0 .. MAX_PORTS - 1. */
    public static final int MAX_PORTS = 32;
    /** Instances per engine: the patch panel's slots. */
    public static final int MAX_SLOTS = 1024;
    /** Bytes of a packet copied to user space. */
    public static final int SNAPLEN = 1536;
    /** The kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT). */
    public static final int MAX_TAIL_CALLS = 33;

    /** Peer kinds in {@code jv_ports}. */
    public static final int PEER_NONE = 0, PEER_DEVICE = 1, PEER_INSTANCE = 2;

    /** A device peer's flag in {@code jv_ports}: frames to the veth peer's MAC go by bpf_redirect_peer. */
    public static final int DEV_F_PEER_REDIRECT = 1;

    /** Framework drop reasons; modules use {@link #DROP_USER} and up. */
    public static final int DROP_MODULE = 0, DROP_UNCONNECTED = 1, DROP_BAD_PORT = 2, DROP_MISSED_TAIL_CALL = 3,
            DROP_SLOWPATH_FULL = 4, DROP_FLOOD_LIMIT = 5, DROP_NO_METADATA = 6, DROP_USER = 256;

    /** The framework's shared maps, created once per engine and given to every instance by name. */
    public static final java.util.List<String> SHARED_MAPS = java.util.List.of("jv_patch_tc", "jv_patch_xdp", "jv_ports",
            "jv_stats", "jv_drops", "jv_missed", "jv_slowpath", "jv_logs", "jv_log_budget", "jv_xdp_scratch");

    /** The .rodata constant holding an instance's slot. */
    public static final String SLOT_CONSTANT = "jv_slot";
    /** The .rodata constant holding a device entry's port. */
    public static final String ENTRY_PORT_CONSTANT = "jv_entry_port";
    /** The .rodata constant choosing the XDP metadata channel (enum jv_xdp_md_channel, {@link XdpMetadata}). */
    public static final String XDP_MD_CHANNEL_CONSTANT = "jv_xdp_md_channel";

    /** A readable name for a drop reason. */
    public static String dropReasonName(int reason) {
        return switch (reason) {
            case DROP_MODULE -> "module";
            case DROP_UNCONNECTED -> "unconnected_port";
            case DROP_BAD_PORT -> "bad_port";
            case DROP_MISSED_TAIL_CALL -> "missed_tail_call";
            case DROP_SLOWPATH_FULL -> "slowpath_full";
            case DROP_FLOOD_LIMIT -> "flood_limit";
            case DROP_NO_METADATA -> "no_metadata";
            default -> reason >= DROP_USER ? "user_" + (reason - DROP_USER) : "reason_" + reason;
        };
    }
}

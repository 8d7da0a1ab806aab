package io.jvisor.engine;

/**
 * The constants and layouts the C SDK ({@code jvisor/module.h}) and the engine share. A change on
 * one side must be made on the other: {@code SdkTest} compiles the engine's entry program and
 * compares, by name, every constant here with the SDK's enums and limits, and every
 * {@code *Layout} class with its C struct's members (offset of each, and {@code SIZE}), so a
 * C change fails the build until this class follows.
 */
public final class Sdk {
    private Sdk() {}

    /** Ports per instance: 0 .. MAX_PORTS - 1. */
    public static final int MAX_PORTS = 32;
    /** Instances per engine: the patch panel's slots. */
    public static final int MAX_SLOTS = 1024;
    /** Bytes of a packet copied to user space. */
    public static final int SNAPLEN = 1536;
    /** Bytes of one log line ({@code struct jv_log_line.text}), its terminating NUL included. */
    public static final int LOG_LEN = 128;
    /** The kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT). */
    public static final int MAX_TAIL_CALLS = 33;

    /** Peer kinds in {@code jv_ports}. */
    public static final int PEER_NONE = 0, PEER_DEVICE = 1, PEER_INSTANCE = 2;

    /** A device peer's flag in {@code jv_ports}: frames to the veth peer's MAC go by bpf_redirect_peer. */
    public static final int DEV_F_PEER_REDIRECT = 1;

    /** Framework drop reasons; modules use {@link #DROP_USER} and up. */
    public static final int DROP_MODULE = 0, DROP_UNCONNECTED = 1, DROP_BAD_PORT = 2, DROP_MISSED_TAIL_CALL = 3,
            DROP_SLOWPATH_FULL = 4, DROP_FLOOD_LIMIT = 5, DROP_NO_METADATA = 6, DROP_TAIL_CALL_LIMIT = 7,
            DROP_USER = 256;

    /** Where a slow-path packet was taken ({@code enum jv_hook}, in {@code jv_packet_in.hook}). */
    public static final int HOOK_TC = 0, HOOK_XDP = 1;

    /** How struct jv_md travels between XDP programs ({@code enum jv_xdp_md_channel}, {@link XdpMetadata}). */
    public static final int XDP_MD_META = 0, XDP_MD_SCRATCH = 1;

    /** The framework's shared maps, created once per engine and given to every instance by name. */
    public static final java.util.List<String> SHARED_MAPS = java.util.List.of("jv_patch_tc", "jv_patch_xdp", "jv_ports",
            "jv_stats", "jv_drops", "jv_missed", "jv_slowpath", "jv_logs", "jv_log_budget", "jv_xdp_scratch",
            "jv_svc_tc", "jv_svc_xdp", "jv_flood_devs_of");

    /**
     * An instance's own program array: the program of the instance each port leads to, by port
     * (direct tail calls; the engine keeps it in step with {@code jv_ports} and the patch panel).
     */
    public static final String NEXT_MAP = "jv_next";
    /** An instance's own devmap of the devices its ports lead to, by port (XDP flooding). */
    public static final String FLOOD_DEVS_MAP = "jv_flood_devs";

    /** The engine-wide programs' keys in {@code jv_svc_tc} and {@code jv_svc_xdp} (enum jv_service), and their number. */
    public static final int SVC_FLOOD = 0, SVC_COUNT = 1;

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
            case DROP_TAIL_CALL_LIMIT -> "tail_call_limit";
            default -> reason >= DROP_USER ? "user_" + (reason - DROP_USER) : "reason_" + reason;
        };
    }

    // ---- struct layouts: the byte offset of each member, and the struct's size ----------------------

    /** {@code struct jv_md}, the per-packet metadata: the skb's cb[0..4] in tc, the metadata area or scratch slot in XDP. */
    public static final class MdLayout {
        private MdLayout() {}

        public static final int IN_PORT = 0, HOPS = 4, MARK = 8, OUT_PORT = 12, REASON = 16, SIZE = 20;
    }

    /**
     * {@code struct jv_peer}, a value of {@code jv_ports}: an instance peer (kind, slot, port, flags)
     * or a device peer (kind, ifindex, the veth peer's MAC and {@link #DEV_F_PEER_REDIRECT}), which
     * share the bytes from offset 8.
     */
    public static final class PeerLayout {
        private PeerLayout() {}

        public static final int KIND = 0, TARGET = 4, PORT = 8, FLAGS = 12, PEER_MAC = 8, DEV_FLAGS = 14, SIZE = 16;
    }

    /** {@code struct jv_port_stats}, a per-CPU value of {@code jv_stats}. */
    public static final class PortStatsLayout {
        private PortStatsLayout() {}

        public static final int RX_PACKETS = 0, RX_BYTES = 8, TX_PACKETS = 16, TX_BYTES = 24, SIZE = 32;
    }

    /** {@code struct jv_drop_key}, a key of {@code jv_drops}. */
    public static final class DropKeyLayout {
        private DropKeyLayout() {}

        public static final int SLOT = 0, REASON = 4, SIZE = 8;
    }

    /** {@code struct jv_packet_in}, a record of the {@code jv_slowpath} ring buffer: this header, then {@link #SNAPLEN} bytes. */
    public static final class PacketInLayout {
        private PacketInLayout() {}

        public static final int SLOT = 0, IN_PORT = 4, REASON = 8, LEN = 12, WIRE_LEN = 16, MARK = 20, HOOK = 24,
                IFINDEX = 28, DATA = 32, SIZE = 32 + SNAPLEN;
    }

    /** {@code struct jv_log_line}, a record of the {@code jv_logs} ring buffer. */
    public static final class LogLineLayout {
        private LogLineLayout() {}

        public static final int SLOT = 0, LEN = 4, TS = 8, TEXT = 16, SIZE = 16 + LOG_LEN;
    }
}

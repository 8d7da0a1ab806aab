package io.jvisor.engine;

/**
 * How an engine on the XDP hook carries a packet's metadata (struct jv_md: in port, slot, mark)
 * from the device entry through each chained instance. The tc hook always uses the skb's control
 * block and ignores this choice.
 *
 * <p>Both channels give the same per-packet semantics: the device entry writes every field before
 * the chain starts, and each instance reads and rewrites it before a tail call. Some kernels refuse
 * {@code bpf_xdp_adjust_meta} to XDP programs (measured: "program of this type cannot use helper
 * bpf_xdp_adjust_meta#54" on a 6.18 build), which is why the scratch channel exists.
 */
public enum XdpMetadata {
    /** {@link #METADATA_AREA} when the kernel lets XDP programs call bpf_xdp_adjust_meta, else {@link #PER_CPU_SCRATCH}. */
    AUTO,
    /**
     * The XDP metadata area in front of the packet, grown by the device entry with
     * bpf_xdp_adjust_meta. Travels with the frame; needs the helper.
     */
    METADATA_AREA,
    /**
     * A one-slot per-CPU array (jv_xdp_scratch) that the device entry writes and each chained
     * program reads. One XDP invocation runs its whole tail-call chain on one CPU before another XDP
     * program runs there, so the slot cannot be overwritten half-way. Needs no helper beyond map
     * lookups.
     */
    PER_CPU_SCRATCH;

    /** The value of the SDK's {@code jv_xdp_md_channel} constant for this (resolved) channel. */
    int sdkValue() {
        return switch (this) {
            case METADATA_AREA -> Sdk.XDP_MD_META;
            case PER_CPU_SCRATCH -> Sdk.XDP_MD_SCRATCH;
            case AUTO -> throw new IllegalStateException("AUTO is resolved when the engine starts");
        };
    }
}

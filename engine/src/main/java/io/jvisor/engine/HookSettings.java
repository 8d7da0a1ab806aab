package io.jvisor.engine;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.features.Features;
import io.jvisor.bpf.features.Support;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * How an engine attaches devices and, at XDP, carries metadata: the options' choices with AUTO
 * resolved by probing the kernel, and reconciled with the running objects of a saved state, which
 * keep the way they were set up.
 *
 * @param attach      LINK or NETLINK
 * @param xdpMetadata the XDP metadata channel, or null on the tc hook
 */
record HookSettings(AttachMethod attach, XdpMetadata xdpMetadata) {
    private static final Logger LOG = LoggerFactory.getLogger(HookSettings.class);

    /** @throws TopologyException when a forced choice is refused by the kernel or contradicts the running objects */
    static HookSettings resolve(EngineOptions options, Optional<StateStore.State> saved) {
        XdpMetadata channel = resolveXdpMetadata(options);
        if (saved.isEmpty()) {
            return new HookSettings(resolveAttach(options), channel);
        }
        StateStore.State s = saved.get();
        String engine = "engine '" + options.name() + "'";
        if (!s.hook().equals(options.hook().name())) {
            throw new TopologyException(engine, "its running objects use the " + s.hook() + " hook, not "
                    + options.hook());
        }
        // the running objects were attached one way; keep using it, whatever AUTO would pick now
        AttachMethod running = s.attach() == null ? AttachMethod.LINK : AttachMethod.valueOf(s.attach());
        if (options.attach() != AttachMethod.AUTO && options.attach() != running) {
            throw new TopologyException(engine, "its devices are attached by " + running + ", not " + options.attach());
        }
        if (channel != null) {
            // the running programs agree on one channel; new ones must use it too
            XdpMetadata runningChannel = s.xdpMetadata() == null ? XdpMetadata.METADATA_AREA
                    : XdpMetadata.valueOf(s.xdpMetadata());
            if (runningChannel != channel) {
                if (options.xdpMetadata() != XdpMetadata.AUTO) {
                    throw new TopologyException(engine, "its running XDP programs carry metadata by "
                            + runningChannel + ", not " + options.xdpMetadata());
                }
                channel = runningChannel;
            }
        }
        return new HookSettings(running, channel);
    }

    /**
     * AUTO becomes NETLINK on the tc hook (clsact + cls_bpf: tcx links cost a grace period each), and
     * LINK on the XDP hook when the kernel has XDP links (5.9+), else NETLINK.
     */
    private static AttachMethod resolveAttach(EngineOptions options) {
        if (options.attach() != AttachMethod.AUTO) {
            return options.attach();
        }
        if (options.hook() == Hook.TC) {
            // Every tcx attach and every detach waits one RCU grace period under RTNL (about 10 ms
            // here, and threads do not help: docs/benchmarks.md, "Apply time"), while a cls_bpf
            // filter is added in half a millisecond and removed in tens of microseconds.
            return AttachMethod.NETLINK;
        }
        // only the hook's type, asked without attaching anything (no RCU grace periods at start)
        return Features.probeLinkAttachType(AttachType.XDP).supported() ? AttachMethod.LINK : AttachMethod.NETLINK;
    }

    /**
     * On the XDP hook, AUTO becomes METADATA_AREA when the kernel lets XDP programs call
     * bpf_xdp_adjust_meta, else PER_CPU_SCRATCH; a forced METADATA_AREA the kernel refuses is an error
     * naming the helper. On tc: null.
     */
    private static XdpMetadata resolveXdpMetadata(EngineOptions options) {
        if (options.hook() != Hook.XDP) {
            return null;
        }
        if (options.xdpMetadata() == XdpMetadata.PER_CPU_SCRATCH) {
            return XdpMetadata.PER_CPU_SCRATCH;
        }
        Support meta = Features.xdpMetadata();
        if (meta.supported()) {
            return XdpMetadata.METADATA_AREA;
        }
        if (options.xdpMetadata() == XdpMetadata.METADATA_AREA) {
            throw new TopologyException("engine '" + options.name() + "'", "the XDP metadata channel "
                    + XdpMetadata.METADATA_AREA + " needs the helper bpf_xdp_adjust_meta, which this kernel refuses "
                    + "to XDP programs (" + meta.detail() + "); use " + XdpMetadata.PER_CPU_SCRATCH + " or "
                    + XdpMetadata.AUTO);
        }
        LOG.info("engine '{}': this kernel refuses bpf_xdp_adjust_meta to XDP programs ({}); XDP metadata "
                + "travels in a per-CPU scratch slot", options.name(), meta.detail());
        return XdpMetadata.PER_CPU_SCRATCH;
    }
}

package io.jvisor.bpf.link;

import io.jvisor.bpf.AttachType;

/** The tcx hook of a device. */
public enum TcxDirection {
    /** Packets the device receives. */
    INGRESS(AttachType.TCX_INGRESS),
    /** Packets the device sends. */
    EGRESS(AttachType.TCX_EGRESS);

    private final AttachType attachType;

    TcxDirection(AttachType t) {
        this.attachType = t;
    }

    /** The kernel attach type. */
    public AttachType attachType() {
        return attachType;
    }
}

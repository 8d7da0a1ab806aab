package io.jvisor.bpf.link;

import io.jvisor.bpf.AttachType;

/** What the kernel reports about a link (BPF_OBJ_GET_INFO_BY_FD), by link type. */
public sealed interface LinkInfo {
    /** The link's id. */
    int id();

    /** The id of the program it runs. */
    int programId();

    /** An XDP link on a device. */
    record Xdp(int id, int programId, int ifindex) implements LinkInfo {}

    /** A tcx link on a device. */
    record Tcx(int id, int programId, int ifindex, AttachType attachType) implements LinkInfo {}

    /** Any other link type (the kernel's BPF_LINK_TYPE_* number). */
    record Other(int id, int programId, int linkType) implements LinkInfo {}
}

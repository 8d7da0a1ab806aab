package io.jvisor.engine;

/** Where instances run: tc (the default, and the right choice on veth) or XDP (for native-XDP devices). */
public enum Hook {
    /** tcx, or clsact + cls_bpf on kernels without tcx. */
    TC,
    /** XDP in driver mode. */
    XDP
}

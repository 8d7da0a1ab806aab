package io.jvisor.engine;

import io.jvisor.bpf.BpfProgram;

/** One device connected to an instance port: its entry program and how it is attached. */
final class LiveDevice {
    final Endpoint.Device device;
    final int ifindex;
    Endpoint.Port target;
    BpfProgram stub;
    final DeviceAttachment attachment;

    LiveDevice(Endpoint.Device device, int ifindex, Endpoint.Port target, BpfProgram stub,
               DeviceAttachment attachment) {
        this.device = device;
        this.ifindex = ifindex;
        this.target = target;
        this.stub = stub;
        this.attachment = attachment;
    }
}

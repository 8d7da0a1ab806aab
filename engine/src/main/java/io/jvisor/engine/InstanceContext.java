package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;

import java.util.Map;

/** What an instance's control plane can reach: its maps, its configuration, and its ports. */
public interface InstanceContext {
    /** The instance's name. */
    String name();

    /** Its configuration. */
    Map<String, String> config();

    /** One of its own maps (not the framework's), by the name the C source gives it. */
    BpfMap map(String name);

    /**
     * Sends a frame out of one of the instance's ports from user space, as if the data plane had
     * forwarded it there.
     *
     * @throws TopologyException when the port is not connected to a device
     */
    void transmit(int port, byte[] frame);
}

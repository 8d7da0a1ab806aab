package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One running instance: its slot in the patch panel, the program and maps it runs now, and its
 * control plane. Mutable only under the engine's lock (the executor swaps code and configuration).
 */
final class LiveInstance implements InstanceContext {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LiveInstance.class);

    /** Sends a frame out of an instance's port from user space. */
    @FunctionalInterface
    interface PortTransmitter {
        void transmit(LiveInstance instance, int port, byte[] frame);
    }

    private final PortTransmitter transmitter;
    final String name;
    String type;
    ModuleCode code;
    final int slot;
    Map<String, String> config;
    Map<String, BpfMap> maps;
    BpfProgram program;
    ModuleHandler handler;
    /** Frames and bytes its control plane transmitted, by port (counted in Java: see Transmitter). */
    final AtomicLongArray userTxPackets = new AtomicLongArray(Sdk.MAX_PORTS);
    final AtomicLongArray userTxBytes = new AtomicLongArray(Sdk.MAX_PORTS);

    LiveInstance(PortTransmitter transmitter, String name, String type, ModuleCode code, int slot,
                 Map<String, String> config, Map<String, BpfMap> maps, BpfProgram program, ModuleHandler handler) {
        this.transmitter = transmitter;
        this.name = name;
        this.type = type;
        this.code = code;
        this.slot = slot;
        this.config = config;
        this.maps = maps;
        this.program = program;
        this.handler = Objects.requireNonNull(handler);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, String> config() {
        return config;
    }

    @Override
    public BpfMap map(String mapName) {
        BpfMap m = maps.get(mapName);
        if (m == null) {
            throw new TopologyException("instance '" + name + "'", "has no map '" + mapName + "' (it has "
                    + maps.keySet() + ")");
        }
        return m;
    }

    @Override
    public void transmit(int port, byte[] frame) {
        transmitter.transmit(this, port, frame);
    }

    /** Starts the control plane; a failure is logged, never thrown: the data plane runs regardless. */
    void startControlPlane() {
        try {
            handler.onStart(this);
        } catch (RuntimeException e) {
            LOG.warn("instance '{}' failed to start its control plane", name, e);
        }
    }

    /** Stops the control plane; a failure is logged, never thrown. */
    void stopControlPlane() {
        try {
            handler.onStop(this);
        } catch (RuntimeException e) {
            LOG.warn("instance '{}' failed to stop", name, e);
        }
    }

    void closeFds() {
        program.close();
        maps.values().forEach(BpfMap::close);
    }
}

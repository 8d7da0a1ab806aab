package io.jvisor.engine;

import java.util.Map;

/**
 * The live state as the planner sees it: plain values, no kernel objects, so that planning and
 * validation run (and are tested) without root.
 *
 * @param instances the running instances by name, in creation order
 * @param peers     each wired port's peer
 * @param devices   each attached device's target port
 * @param usedSlots patch-panel slots in use
 */
record LiveView(Map<String, InstanceView> instances, Map<Endpoint.Port, Endpoint> peers,
                Map<Endpoint.Device, Endpoint.Port> devices, int usedSlots) {
    /** Nothing runs. */
    static final LiveView EMPTY = new LiveView(Map.of(), Map.of(), Map.of(), 0);

    /** One running instance: its type, the hash of the code it runs, and its configuration. */
    record InstanceView(String type, String codeHash, Map<String, String> config) {}
}

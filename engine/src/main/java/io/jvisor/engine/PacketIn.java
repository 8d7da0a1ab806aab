package io.jvisor.engine;

/**
 * A packet a data plane sent to user space with {@code jv_controller()}.
 *
 * @param instance the instance's name
 * @param inPort the port it entered the instance on
 * @param reason the module's reason code
 * @param data the packet bytes (at most {@link Sdk#SNAPLEN})
 * @param wireLength the packet's full length
 * @param mark the metadata mark it carried
 * @param hook where it was taken
 * @param ifindex the index of the device it arrived on, in that device's network namespace (the
 *     kernel's {@code ingress_ifindex}: the device whose entry started the chain, or the engine's
 *     own reinjection device for a frame a control plane transmitted), or 0 when not known
 */
public record PacketIn(String instance, int inPort, int reason, byte[] data, int wireLength, int mark, Hook hook,
                       int ifindex) {}

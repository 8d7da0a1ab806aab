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
 * @param ifindex the index of the device the packet arrived on, in the namespace of that device
 *     (the first device: a packet chained through instances keeps it)
 */
public record PacketIn(String instance, int inPort, int reason, byte[] data, int wireLength, int mark, Hook hook,
                       int ifindex) {}

package io.jvisor.engine;

/**
 * The counters of one port, summed over CPUs.
 *
 * @param rxPackets packets that entered the instance on this port
 * @param rxBytes their bytes
 * @param txPackets packets the instance sent out of this port
 * @param txBytes their bytes
 */
public record PortStats(long rxPackets, long rxBytes, long txPackets, long txBytes) {}

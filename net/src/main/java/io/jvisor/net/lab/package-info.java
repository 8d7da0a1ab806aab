/**
 * The lab: network topologies without hardware, for tests and for users trying things out.
 * A {@link io.jvisor.net.lab.LabSpec} (Java or YAML) lists hosts (namespaces), root bridges and
 * wires (veth pairs); {@link io.jvisor.net.lab.Lab#up} builds it under a unique prefix and
 * {@link io.jvisor.net.lab.Lab#close()} removes it. Traffic tools report exact figures:
 * {@link io.jvisor.net.lab.UdpStream} (sequence-numbered UDP), {@link io.jvisor.net.lab.Ping} and
 * {@link io.jvisor.net.lab.Iperf3}.
 */
package io.jvisor.net.lab;

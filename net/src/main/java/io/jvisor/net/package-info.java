/**
 * Host networking from Java over FFM, with no JNI and no {@code ip} commands: rtnetlink
 * ({@link io.jvisor.net.Rtnl}: links, veth, vxlan, bridges, addresses, routes, neighbours),
 * iproute2-compatible network namespaces ({@link io.jvisor.net.Netns}), and device offloads
 * ({@link io.jvisor.net.Ethtool}). Test topologies built from these live in
 * {@link io.jvisor.net.lab}.
 */
package io.jvisor.net;

package io.jvisor.server.manifest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A declarative topology, as written in YAML or JSON: Kubernetes-like, with a schema version.
 *
 * <pre>{@code
 * apiVersion: jvisor.io/v1
 * kind: Topology
 * metadata: {name: quickstart}
 * spec:
 *   hosts:                       # optional lab hosts (network namespaces)
 *     - name: h1
 *       interfaces: [{name: eth0, addresses: [10.0.1.10/24]}]
 *       gateway: 10.0.1.1
 *   instances:
 *     - {name: br1, type: bridge}
 *     - name: r1
 *       type: router
 *       config: {port.0: 10.0.1.1/24, port.1: 10.0.2.1/24}
 *   connections:                 # instance port to instance port
 *     - {a: br1:2, b: r1:0}
 *   attachments:                 # instance port to a lab host interface or an existing device
 *     - {port: br1:0, host: h1:eth0}
 *     - {port: br1:1, device: eth1}
 *   checks:                      # optional traffic expectations; without them every host pair must reach
 *     - {from: h1, ping: 10.0.2.10}
 *     - {from: h1, tcp: 10.0.2.10:80, servers: [h3]}
 * }</pre>
 *
 * See docs/manifest.md. {@link ManifestReader} reads one and names the field at fault;
 * {@link ManifestResolver} checks it against the module types and turns it into an engine topology
 * and a lab.
 *
 * @param apiVersion the schema version, {@value #API_VERSION}
 * @param kind {@value #KIND}
 * @param metadata the name and labels
 * @param spec what the network consists of
 */
public record Manifest(String apiVersion, String kind, Metadata metadata, Spec spec) {
    /** The only schema version so far. */
    public static final String API_VERSION = "jvisor.io/v1";
    /** The only kind so far. */
    public static final String KIND = "Topology";

    /**
     * @param name the topology's name, 1-63 of {@code [a-z0-9-]} starting with a letter or digit
     * @param labels free-form labels
     */
    public record Metadata(String name, Map<String, String> labels) {
        public Metadata {
            labels = labels == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        }
    }

    /**
     * @param hosts lab hosts to create (network namespaces wired to instance ports)
     * @param instances module instances
     * @param connections wires between two instance ports
     * @param attachments wires between an instance port and a host interface or a device
     * @param checks the traffic the topology is expected to carry or block; empty for the default
     *     (every pair of hosts reaches each other)
     */
    public record Spec(List<Host> hosts, List<Instance> instances, List<Connection> connections,
                       List<Attachment> attachments, List<Check> checks) {
        public Spec {
            hosts = hosts == null ? List.of() : List.copyOf(hosts);
            instances = instances == null ? List.of() : List.copyOf(instances);
            connections = connections == null ? List.of() : List.copyOf(connections);
            attachments = attachments == null ? List.of() : List.copyOf(attachments);
            checks = checks == null ? List.of() : List.copyOf(checks);
        }

        /** A spec without checks. */
        public Spec(List<Host> hosts, List<Instance> instances, List<Connection> connections,
                    List<Attachment> attachments) {
            this(hosts, instances, connections, attachments, List.of());
        }

        /** This spec with other hosts, instances, connections and attachments, and the same checks. */
        public Spec with(List<Host> hosts, List<Instance> instances, List<Connection> connections,
                         List<Attachment> attachments) {
            return new Spec(hosts, instances, connections, attachments, checks);
        }
    }

    /** The protocols of a {@link Check}. */
    public enum Protocol {
        /** ICMP echo (iputils ping). */
        PING,
        /** A UDP datagram answered by a listener. */
        UDP,
        /** A TCP connection answered by a listener. */
        TCP
    }

    /**
     * A traffic expectation: from a lab host, to an address (and port), the traffic reaches or is
     * blocked. For UDP and TCP the check starts a small listener in each of {@code servers}, which
     * answers every probe with its host's name and the client address it saw.
     *
     * @param from the lab host that sends
     * @param protocol ping, udp or tcp
     * @param target an IPv4 address (ping) or {@code ADDRESS:PORT} (udp, tcp)
     * @param servers lab hosts that listen, each {@code HOST} or {@code HOST:PORT} (the port defaults
     *     to the target's); empty when something else answers
     * @param expect {@code reach} (the default when null) or {@code blocked}
     * @param count pings, or probes each from a new socket (a new flow); 0 for the default (3 pings, 1 probe)
     * @param clientSeenAs for udp and tcp: the client address every answering server must have seen
     *     (a NAT's public address, or the real client behind a DNAT), or null
     */
    public record Check(String from, Protocol protocol, String target, List<String> servers, String expect,
                        int count, String clientSeenAs) {
        public Check {
            servers = servers == null ? List.of() : List.copyOf(servers);
        }
    }

    /**
     * A lab host: a network namespace.
     *
     * @param name its name
     * @param interfaces its interfaces; each must be attached to an instance port
     * @param gateway its IPv4 default gateway, or null
     * @param sysctls sysctls set inside it
     */
    public record Host(String name, List<Interface> interfaces, String gateway, Map<String, String> sysctls) {
        public Host {
            interfaces = interfaces == null ? List.of() : List.copyOf(interfaces);
            sysctls = sysctls == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sysctls));
        }
    }

    /**
     * @param name the interface name inside the host
     * @param addresses addresses with prefix lengths, e.g. {@code 10.0.1.10/24}
     * @param mac its MAC, or null for a random one
     * @param mtu its MTU, or 0 for the default
     */
    public record Interface(String name, List<String> addresses, String mac, int mtu) {
        public Interface {
            addresses = addresses == null ? List.of() : List.copyOf(addresses);
        }
    }

    /**
     * @param name unique name, 1-32 of {@code [A-Za-z0-9_-]}
     * @param type the module type
     * @param config the configuration, flat keys (nested YAML maps are joined with dots)
     */
    public record Instance(String name, String type, Map<String, String> config) {
        public Instance {
            config = config == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(config));
        }
    }

    /**
     * A wire between two instance ports, each {@code instance:port}.
     *
     * @param a one end
     * @param b the other end
     */
    public record Connection(String a, String b) {}

    /**
     * A wire between an instance port and either a lab host's interface or an existing device.
     *
     * @param port {@code instance:port}
     * @param host {@code host:interface} of a lab host, or null
     * @param device an existing network device, or null
     * @param netns the named network namespace of {@code device}, or null for the daemon's own
     */
    public record Attachment(String port, String host, String device, String netns) {}

    /** The name, or "" when there is no metadata. */
    public String name() {
        return metadata == null || metadata.name() == null ? "" : metadata.name();
    }

    /** A manifest with nothing in it, named {@code name}. */
    public static Manifest empty(String name) {
        return new Manifest(API_VERSION, KIND, new Metadata(name, Map.of()),
                new Spec(List.of(), List.of(), List.of(), List.of(), List.of()));
    }

    /** This manifest with another spec. */
    public Manifest withSpec(Spec s) {
        return new Manifest(apiVersion, kind, metadata, s);
    }

    /** This manifest with one more instance (or the instance of that name replaced). */
    public Manifest withInstance(Instance i) {
        List<Instance> l = new ArrayList<>(spec.instances());
        l.removeIf(x -> x.name().equals(i.name()));
        l.add(i);
        return withSpec(spec.with(spec.hosts(), l, spec.connections(), spec.attachments()));
    }
}

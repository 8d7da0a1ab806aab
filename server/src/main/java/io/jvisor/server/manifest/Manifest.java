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
     */
    public record Spec(List<Host> hosts, List<Instance> instances, List<Connection> connections,
                       List<Attachment> attachments) {
        public Spec {
            hosts = hosts == null ? List.of() : List.copyOf(hosts);
            instances = instances == null ? List.of() : List.copyOf(instances);
            connections = connections == null ? List.of() : List.copyOf(connections);
            attachments = attachments == null ? List.of() : List.copyOf(attachments);
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
                new Spec(List.of(), List.of(), List.of(), List.of()));
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
        return withSpec(new Spec(spec.hosts(), l, spec.connections(), spec.attachments()));
    }
}

package io.jvisor.server.manifest;

import io.jvisor.engine.Endpoint;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.Sdk;
import io.jvisor.engine.Topology;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.MacAddress;
import io.jvisor.net.lab.HostSpec;
import io.jvisor.net.lab.InterfaceSpec;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.WireSpec;

import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a {@link Manifest} against the module types (names, references, values, each module's own
 * configuration check) and turns it into an engine {@link Topology} and a lab {@link LabSpec}. Every
 * fault is reported at once, by field path.
 */
public final class ManifestResolver {
    /** Topology names: 1-63 of {@code [a-z0-9-]}, starting with a letter or digit. */
    public static final Pattern TOPOLOGY_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** Instance and host names. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    /** Device names: what the kernel takes, less '/', ':', whitespace and the names "." and "..". */
    private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9_.@-]{1,15}");
    /** Named namespaces live in /run/netns: a plain file name, never a path. */
    private static final Pattern NETNS = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");
    private static final Pattern CONFIG_KEY = Pattern.compile("key '([^']*)':\\s*(?:'([^']*)':\\s*)?(.*)", Pattern.DOTALL);

    /**
     * A resolved manifest.
     *
     * @param manifest the manifest
     * @param topology the engine topology; host attachments name the lab's root devices
     * @param lab the lab hosts and wires, or null when the manifest has no hosts
     * @param hostDevices for each host attachment {@code host:iface}, the lab's root device name (without prefix)
     */
    public record Resolved(Manifest manifest, Topology topology, LabSpec lab, Map<String, String> hostDevices) {}

    private final ModuleCatalog catalog;
    private final List<ManifestProblem> problems = new ArrayList<>();

    private ManifestResolver(ModuleCatalog catalog) {
        this.catalog = catalog;
    }

    /**
     * Checks {@code m} and resolves it.
     *
     * @param labPrefix the prefix of the lab's root devices (see {@link io.jvisor.net.lab.Lab#rootDevice}), or
     *     null when there is no lab yet (host attachments then name unprefixed devices)
     * @throws ManifestException naming every fault
     */
    public static Resolved resolve(Manifest m, ModuleCatalog catalog, String labPrefix) {
        return new ManifestResolver(catalog).run(m, labPrefix == null ? "" : labPrefix);
    }

    /** Checks {@code m} without resolving it. */
    public static void check(Manifest m, ModuleCatalog catalog) {
        resolve(m, catalog, null);
    }

    /** The lab root device name (without prefix) of host interface {@code host:iface}: stable, 9 bytes. */
    public static String rootDeviceName(String hostIface) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(hostIface.getBytes(StandardCharsets.UTF_8));
            return "v" + HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Resolved run(Manifest m, String prefix) {
        if (!TOPOLOGY_NAME.matcher(m.name()).matches()) {
            problem("metadata.name", m.name(), "must be 1-63 of [a-z0-9-], starting with a letter or digit");
        }
        Manifest.Spec s = m.spec();
        // hosts
        Map<String, Manifest.Host> hosts = new LinkedHashMap<>();
        Map<String, String> hostIfaceField = new LinkedHashMap<>();
        List<HostSpec> hostSpecs = new ArrayList<>();
        for (int i = 0; i < s.hosts().size(); i++) {
            Manifest.Host h = s.hosts().get(i);
            String f = "spec.hosts[" + i + "]";
            if (!name(f + ".name", h.name())) {
                continue;
            }
            if (hosts.putIfAbsent(h.name(), h) != null) {
                problem(f + ".name", h.name(), "defined twice");
                continue;
            }
            hostSpecs.add(host(h, f, hostIfaceField));
        }
        // instances
        Map<String, Manifest.Instance> instances = new LinkedHashMap<>();
        Topology.Builder b = Topology.builder();
        for (int i = 0; i < s.instances().size(); i++) {
            Manifest.Instance in = s.instances().get(i);
            String f = "spec.instances[" + i + "]";
            boolean ok = name(f + ".name", in.name());
            if (ok && instances.containsKey(in.name())) {
                problem(f + ".name", in.name(), "defined twice");
                ok = false;
            }
            ModuleType type = in.type() == null ? null : catalog.get(in.type());
            if (in.type() != null && type == null) {
                problem(f + ".type", in.type(), "unknown module type (known: "
                        + String.join(", ", catalog.all().keySet()) + ")");
                ok = false;
            }
            if (type != null) {
                String bad;
                try {
                    bad = type.validateConfig(in.config());
                } catch (RuntimeException e) {
                    bad = e.getMessage() == null ? e.toString() : e.getMessage();
                }
                if (bad != null) {
                    configProblem(f + ".config", in.config(), bad);
                    ok = false;
                }
            }
            if (ok && in.name() != null) {
                instances.put(in.name(), in);
                b.instance(in.name(), in.type(), in.config());
            } else if (in.name() != null && NAME.matcher(in.name()).matches()) {
                instances.putIfAbsent(in.name(), in); // still a valid reference target; its fault is reported
            }
        }
        if (instances.size() > Sdk.MAX_SLOTS) {
            problem("spec.instances", String.valueOf(instances.size()), "more than " + Sdk.MAX_SLOTS + " instances");
        }
        // connections
        Set<String> used = new HashSet<>();
        Map<String, String> endpointField = new HashMap<>();
        for (int i = 0; i < s.connections().size(); i++) {
            Manifest.Connection c = s.connections().get(i);
            String f = "spec.connections[" + i + "]";
            Endpoint.Port a = port(f + ".a", c.a(), instances, used, endpointField);
            Endpoint.Port p = port(f + ".b", c.b(), instances, used, endpointField);
            if (a != null && p != null) {
                if (a.equals(p)) {
                    problem(f + ".b", c.b(), "a port cannot be connected to itself");
                } else {
                    b.connect(a.toString(), p.toString());
                }
            }
        }
        // attachments
        Map<String, String> hostDevices = new LinkedHashMap<>();
        Set<String> attachedHostIfaces = new HashSet<>();
        Set<String> usedDevices = new HashSet<>();
        List<WireSpec> wires = new ArrayList<>();
        for (int i = 0; i < s.attachments().size(); i++) {
            Manifest.Attachment a = s.attachments().get(i);
            String f = "spec.attachments[" + i + "]";
            Endpoint.Port p = port(f + ".port", a.port(), instances, used, endpointField);
            if ((a.host() == null) == (a.device() == null)) {
                problem(f, null, "give exactly one of host (HOST:IFACE of a lab host) or device (an existing device)");
                continue;
            }
            String dev;
            if (a.host() != null) {
                if (a.netns() != null) {
                    problem(f + ".netns", a.netns(), "only a device attachment takes a namespace; a host is its own");
                    continue;
                }
                if (!hostIfaceField.containsKey(a.host())) {
                    problem(f + ".host", a.host(), hosts.isEmpty() ? "there are no hosts in spec.hosts"
                            : "no such host interface (known: " + String.join(", ", hostIfaceField.keySet()) + ")");
                    continue;
                }
                if (!attachedHostIfaces.add(a.host())) {
                    problem(f + ".host", a.host(), "attached twice");
                    continue;
                }
                String root = rootDeviceName(a.host());
                hostDevices.put(a.host(), root);
                wires.add(WireSpec.toRoot(a.host(), root, null));
                dev = "dev:" + prefix + root;
            } else {
                if (!DEVICE.matcher(a.device()).matches() || a.device().equals(".") || a.device().equals("..")) {
                    problem(f + ".device", a.device(), "not a device name (1-15 of [A-Za-z0-9_.@-])");
                    continue;
                }
                if (a.netns() != null && (!NETNS.matcher(a.netns()).matches() || a.netns().contains(".."))) {
                    problem(f + ".netns", a.netns(), "not a namespace name (1-64 of [A-Za-z0-9_.-], no path)");
                    continue;
                }
                String key = (a.netns() == null ? "" : a.netns() + "/") + a.device();
                if (!usedDevices.add(key)) {
                    problem(f + ".device", key, "attached twice");
                    continue;
                }
                dev = "dev:" + key;
            }
            if (p != null) {
                b.connect(p.toString(), dev);
            }
        }
        for (var e : hostIfaceField.entrySet()) {
            if (!attachedHostIfaces.contains(e.getKey())) {
                problem(e.getValue(), e.getKey(), "not attached to any instance port; add an attachment {port: "
                        + "INSTANCE:PORT, host: " + e.getKey() + "}");
            }
        }
        for (int i = 0; i < s.checks().size(); i++) {
            check(s.checks().get(i), "spec.checks[" + i + "]", hosts);
        }
        if (!problems.isEmpty()) {
            throw new ManifestException(problems);
        }
        LabSpec lab = null;
        if (!hostSpecs.isEmpty()) {
            lab = new LabSpec(List.of(), hostSpecs, wires);
            try {
                lab.validate();
            } catch (RuntimeException e) {
                throw new ManifestException("spec.hosts", null, e.getMessage());
            }
        }
        return new Resolved(m, b.build(), lab, hostDevices);
    }

    private void check(Manifest.Check c, String f, Map<String, Manifest.Host> hosts) {
        if (c.from() != null && !hosts.containsKey(c.from())) {
            problem(f + ".from", c.from(), hosts.isEmpty() ? "there are no hosts in spec.hosts"
                    : "no host named '" + c.from() + "' (hosts: " + String.join(", ", hosts.keySet()) + ")");
        }
        if (c.expect() != null && !c.expect().equals("reach") && !c.expect().equals("blocked")) {
            problem(f + ".expect", c.expect(), "must be reach or blocked");
        }
        if (c.protocol() == null || c.target() == null) {
            return;
        }
        String key = f + "." + c.protocol().name().toLowerCase(java.util.Locale.ROOT);
        if (c.protocol() == Manifest.Protocol.PING) {
            if (ipv4(c.target()) == null) {
                problem(key, c.target(), "not an IPv4 address");
            }
            if (!c.servers().isEmpty()) {
                problem(f + ".servers", String.join(", ", c.servers()), "only udp and tcp checks start listeners");
            }
            if (c.clientSeenAs() != null) {
                problem(f + ".clientSeenAs", c.clientSeenAs(), "only udp and tcp checks see the client's address");
            }
            return;
        }
        int colon = c.target().lastIndexOf(':');
        if (colon < 0 || ipv4(c.target().substring(0, colon)) == null
                || checkPort(c.target().substring(colon + 1)) < 0) {
            problem(key, c.target(), "not ADDRESS:PORT (an IPv4 address and a port 1..65535)");
        }
        for (int k = 0; k < c.servers().size(); k++) {
            String sv = c.servers().get(k);
            String host = sv;
            int sc = sv.indexOf(':');
            if (sc >= 0) {
                host = sv.substring(0, sc);
                if (checkPort(sv.substring(sc + 1)) < 0) {
                    problem(f + ".servers[" + k + "]", sv, "the port must be 1..65535");
                    continue;
                }
            }
            if (!hosts.containsKey(host)) {
                problem(f + ".servers[" + k + "]", sv, "no host named '" + host + "'"
                        + (hosts.isEmpty() ? "" : " (hosts: " + String.join(", ", hosts.keySet()) + ")"));
            }
        }
        if (c.clientSeenAs() != null) {
            if (ipv4(c.clientSeenAs()) == null) {
                problem(f + ".clientSeenAs", c.clientSeenAs(), "not an IPv4 address");
            } else if (c.servers().isEmpty()) {
                problem(f + ".clientSeenAs", c.clientSeenAs(), "needs servers: only the check's own listeners report "
                        + "the address they saw");
            }
        }
    }

    private static Inet4Address ipv4(String text) {
        if (text == null || !text.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return null;
        }
        String[] parts = text.split("\\.");
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            int v = Integer.parseInt(parts[i]);
            if (v > 255) {
                return null;
            }
            b[i] = (byte) v;
        }
        try {
            return (Inet4Address) java.net.InetAddress.getByAddress(b); // a literal: no name lookup
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    private static int checkPort(String text) {
        if (!text.matches("\\d{1,5}")) {
            return -1;
        }
        int p = Integer.parseInt(text);
        return p >= 1 && p <= 65535 ? p : -1;
    }

    private HostSpec host(Manifest.Host h, String f, Map<String, String> hostIfaceField) {
        HostSpec hs = HostSpec.named(h.name());
        Set<String> names = new HashSet<>();
        for (int j = 0; j < h.interfaces().size(); j++) {
            Manifest.Interface in = h.interfaces().get(j);
            String fi = f + ".interfaces[" + j + "]";
            if (in.name() == null) {
                continue;
            }
            if (!DEVICE.matcher(in.name()).matches() || in.name().equals("lo") || in.name().startsWith(".")) {
                problem(fi + ".name", in.name(), "not an interface name (1-15 of [A-Za-z0-9_.@-], not lo)");
                continue;
            }
            if (!names.add(in.name())) {
                problem(fi + ".name", in.name(), "defined twice on host " + h.name());
                continue;
            }
            List<IpPrefix> addrs = new ArrayList<>();
            for (int k = 0; k < in.addresses().size(); k++) {
                String a = in.addresses().get(k);
                try {
                    addrs.add(IpPrefix.parse(a));
                } catch (IllegalArgumentException e) {
                    problem(fi + ".addresses[" + k + "]", a, e.getMessage());
                }
            }
            MacAddress mac = null;
            if (in.mac() != null) {
                try {
                    mac = MacAddress.parse(in.mac());
                } catch (IllegalArgumentException e) {
                    problem(fi + ".mac", in.mac(), "not a MAC address (XX:XX:XX:XX:XX:XX)");
                }
            }
            hostIfaceField.put(h.name() + ":" + in.name(), fi);
            hs = hs.withInterface(new InterfaceSpec(in.name(), mac, addrs, in.mtu()));
        }
        if (h.gateway() != null) {
            try {
                if (!(IpPrefix.literal(h.gateway()) instanceof Inet4Address)) {
                    problem(f + ".gateway", h.gateway(), "not an IPv4 address");
                } else {
                    hs = hs.withGateway(h.gateway());
                }
            } catch (IllegalArgumentException e) {
                problem(f + ".gateway", h.gateway(), "not an IP address");
            }
        }
        for (var e : h.sysctls().entrySet()) {
            if (!e.getKey().matches("[a-z0-9_]+(\\.[A-Za-z0-9_-]+)+")) {
                problem(f + ".sysctls." + e.getKey(), e.getValue(), "not a sysctl name (e.g. net.ipv4.ip_forward)");
            } else {
                hs = hs.withSysctl(e.getKey(), e.getValue());
            }
        }
        return hs;
    }

    /** A module's message "key 'K': 'V': why" becomes field config.K, value V, reason why. */
    private void configProblem(String f, Map<String, String> config, String message) {
        Matcher mt = CONFIG_KEY.matcher(message);
        if (mt.matches()) {
            String key = mt.group(1);
            String value = mt.group(2) != null ? mt.group(2) : config.get(key);
            problem(f + "." + key, value, mt.group(3));
        } else {
            Matcher unknown = Pattern.compile("unknown key '([^']*)'(.*)", Pattern.DOTALL).matcher(message);
            if (unknown.matches()) {
                problem(f + "." + unknown.group(1), config.get(unknown.group(1)), "unknown key" + unknown.group(2));
            } else {
                problem(f, null, message);
            }
        }
    }

    private boolean name(String f, String n) {
        if (n == null) {
            return false; // reported as missing by the reader
        }
        if (!NAME.matcher(n).matches()) {
            problem(f, n, "must be 1-32 of [A-Za-z0-9_-]");
            return false;
        }
        return true;
    }

    private Endpoint.Port port(String f, String text, Map<String, Manifest.Instance> instances, Set<String> used,
                               Map<String, String> fields) {
        if (text == null) {
            return null;
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            problem(f, text, "not an instance port (INSTANCE:PORT)");
            return null;
        }
        String inst = text.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            problem(f, text, "the port is not a number");
            return null;
        }
        Manifest.Instance in = instances.get(inst);
        if (in == null) {
            problem(f, text, "no instance named '" + inst + "'"
                    + (instances.isEmpty() ? "" : " (instances: " + String.join(", ", instances.keySet()) + ")"));
            return null;
        }
        ModuleType type = in.type() == null ? null : catalog.get(in.type());
        int ports = type == null ? Sdk.MAX_PORTS : type.ports();
        if (port < 0 || port >= ports) {
            problem(f, text, inst + " (" + in.type() + ") has ports 0.." + (ports - 1));
            return null;
        }
        String key = inst + ":" + port;
        String before = fields.putIfAbsent(key, f);
        if (!used.add(key)) {
            problem(f, text, "already connected by " + before);
            return null;
        }
        return new Endpoint.Port(inst, port);
    }

    private void problem(String field, String value, String reason) {
        problems.add(new ManifestProblem(field, value, reason));
    }
}

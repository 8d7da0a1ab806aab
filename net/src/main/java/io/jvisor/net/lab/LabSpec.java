package io.jvisor.net.lab;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.MacAddress;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a lab consists of: Linux bridges in the root namespace, hosts, and the wires between them.
 * Built in Java with the {@code with*} methods, or read from YAML:
 *
 * <pre>{@code
 * bridges: [br0]
 * hosts:
 *   - name: h1
 *     interfaces:
 *       - name: eth0
 *         mac: 02:00:00:00:01:01      # optional
 *         addresses: [10.1.2.1/24]
 *         mtu: 1500                    # optional
 *     gateway: 10.1.2.254              # optional; gateway6 for IPv6
 *     sysctls: {net.ipv4.ip_forward: 1}
 *   - name: h2
 *     interfaces: [{name: eth0, addresses: [10.1.2.2/24]}]
 * wires:
 *   - {a: h1:eth0, b: p1, bridge: br0}  # to root device p1, enslaved to br0
 *   - {a: h2:eth0, b: p2, bridge: br0}
 * }</pre>
 *
 * Root-namespace names (bridges and root wire ends) get the running lab's unique prefix, so they are
 * limited to {@value #MAX_ROOT_NAME} bytes. {@link #validate()} reports the first fault by field.
 *
 * @param bridges the bridges to create in the root namespace
 * @param hosts the hosts
 * @param wires the wires
 */
public record LabSpec(List<String> bridges, List<HostSpec> hosts, List<WireSpec> wires) {
    /** The longest root-namespace name: 15 bytes less the 6-byte lab prefix. */
    public static final int MAX_ROOT_NAME = 15 - Lab.PREFIX_LENGTH;

    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));

    /** Copies the lists. */
    public LabSpec {
        bridges = List.copyOf(bridges);
        hosts = List.copyOf(hosts);
        wires = List.copyOf(wires);
    }

    /** An empty lab. */
    public static LabSpec empty() {
        return new LabSpec(List.of(), List.of(), List.of());
    }

    /** The same lab with one more bridge. */
    public LabSpec withBridge(String name) {
        List<String> l = new ArrayList<>(bridges);
        l.add(name);
        return new LabSpec(l, hosts, wires);
    }

    /** The same lab with one more host. */
    public LabSpec withHost(HostSpec h) {
        List<HostSpec> l = new ArrayList<>(hosts);
        l.add(h);
        return new LabSpec(bridges, l, wires);
    }

    /** The same lab with one more wire. */
    public LabSpec withWire(WireSpec w) {
        List<WireSpec> l = new ArrayList<>(wires);
        l.add(w);
        return new LabSpec(bridges, hosts, l);
    }

    /** The host called {@code name}, or null. */
    public HostSpec host(String name) {
        return hosts.stream().filter(h -> h.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * Checks names, references and lengths: unique hosts and root names, every host interface on
     * exactly one wire, wires that name existing hosts, interfaces and bridges.
     *
     * @return this spec
     * @throws LabSpecException naming the field at fault
     */
    public LabSpec validate() {
        Set<String> rootNames = new HashSet<>();
        for (int i = 0; i < bridges.size(); i++) {
            checkRootName("bridges[" + i + "]", bridges.get(i), rootNames);
        }
        Map<String, Integer> wiredCount = new HashMap<>();
        Set<String> hostNames = new HashSet<>();
        for (int i = 0; i < hosts.size(); i++) {
            HostSpec h = hosts.get(i);
            String f = "hosts[" + i + "]";
            if (!HOST_NAME.matcher(h.name()).matches()) {
                throw new LabSpecException(f + ".name", "'" + h.name() + "' must be 1-32 letters, digits, '-' or '_'");
            }
            if (!hostNames.add(h.name())) {
                throw new LabSpecException(f + ".name", "host '" + h.name() + "' is defined twice");
            }
            Set<String> ifaces = new HashSet<>();
            for (int j = 0; j < h.interfaces().size(); j++) {
                InterfaceSpec in = h.interfaces().get(j);
                String fi = f + ".interfaces[" + j + "]";
                if (in.name().isEmpty() || in.name().getBytes(StandardCharsets.UTF_8).length > 15 || in.name().equals("lo")
                        || in.name().contains("/") || in.name().contains(" ")) {
                    throw new LabSpecException(fi + ".name", "'" + in.name() + "' is not a usable interface name (1-15 bytes, not lo)");
                }
                if (!ifaces.add(in.name())) {
                    throw new LabSpecException(fi + ".name", "interface '" + in.name() + "' is defined twice on " + h.name());
                }
                wiredCount.put(h.name() + ":" + in.name(), 0);
            }
        }
        for (int i = 0; i < wires.size(); i++) {
            WireSpec w = wires.get(i);
            String f = "wires[" + i + "]";
            checkHostEnd(f + ".a", w.a(), wiredCount);
            if (w.b().isRoot()) {
                checkRootName(f + ".b", w.b().device(), rootNames);
                if (w.bridge() != null && !bridges.contains(w.bridge())) {
                    throw new LabSpecException(f + ".bridge", "no bridge '" + w.bridge() + "' in bridges " + bridges);
                }
            } else {
                checkHostEnd(f + ".b", w.b(), wiredCount);
            }
        }
        for (int i = 0; i < hosts.size(); i++) {
            HostSpec h = hosts.get(i);
            for (int j = 0; j < h.interfaces().size(); j++) {
                if (wiredCount.get(h.name() + ":" + h.interfaces().get(j).name()) == 0) {
                    throw new LabSpecException("hosts[" + i + "].interfaces[" + j + "]",
                            "interface " + h.name() + ":" + h.interfaces().get(j).name() + " is on no wire");
                }
            }
        }
        return this;
    }

    private static void checkRootName(String field, String name, Set<String> seen) {
        int len = name.getBytes(StandardCharsets.UTF_8).length;
        if (len == 0 || len > MAX_ROOT_NAME || name.contains("/") || name.contains(":") || name.contains(" ")) {
            throw new LabSpecException(field, "root device name '" + name + "' must be 1-" + MAX_ROOT_NAME
                    + " bytes (the lab prefix takes " + Lab.PREFIX_LENGTH + " of the kernel's 15)");
        }
        if (!seen.add(name)) {
            throw new LabSpecException(field, "root device name '" + name + "' is used twice");
        }
    }

    private static void checkHostEnd(String field, WireSpec.End end, Map<String, Integer> wired) {
        Integer n = wired.get(end.toString());
        if (n == null) {
            throw new LabSpecException(field, "no host interface '" + end + "'");
        }
        if (n > 0) {
            throw new LabSpecException(field, "interface '" + end + "' is on two wires");
        }
        wired.put(end.toString(), 1);
    }

    // ---------------------------------------------------------------- YAML

    /** Reads a lab from the YAML file at {@code path}. */
    public static LabSpec fromYaml(Path path) throws IOException {
        return fromYaml(Files.readString(path));
    }

    /**
     * Reads a lab from YAML text.
     *
     * @throws LabSpecException naming the field at fault, for bad syntax, unknown keys or values
     */
    public static LabSpec fromYaml(String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new LabSpecException("(document)", "not valid YAML: " + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return empty();
        }
        object(root, "(document)", "bridges", "hosts", "wires");
        List<String> bridges = new ArrayList<>();
        for (JsonNode b : list(root, "bridges")) {
            bridges.add(text(b, "bridges[" + bridges.size() + "]"));
        }
        List<HostSpec> hosts = new ArrayList<>();
        for (JsonNode h : list(root, "hosts")) {
            hosts.add(host(h, "hosts[" + hosts.size() + "]"));
        }
        List<WireSpec> wires = new ArrayList<>();
        for (JsonNode w : list(root, "wires")) {
            String f = "wires[" + wires.size() + "]";
            object(w, f, "a", "b", "bridge");
            try {
                WireSpec.End a = WireSpec.End.parse(text(w.get("a"), f + ".a"));
                WireSpec.End b = WireSpec.End.parse(text(w.get("b"), f + ".b"));
                wires.add(new WireSpec(a, b, w.hasNonNull("bridge") ? text(w.get("bridge"), f + ".bridge") : null));
            } catch (LabSpecException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new LabSpecException(f, e.getMessage(), e);
            }
        }
        return new LabSpec(bridges, hosts, wires).validate();
    }

    private static HostSpec host(JsonNode h, String f) {
        object(h, f, "name", "interfaces", "gateway", "gateway6", "sysctls");
        String name = text(h.get("name"), f + ".name");
        List<InterfaceSpec> ifaces = new ArrayList<>();
        for (JsonNode i : list(h, "interfaces")) {
            String fi = f + ".interfaces[" + ifaces.size() + "]";
            object(i, fi, "name", "mac", "addresses", "mtu");
            List<IpPrefix> addrs = new ArrayList<>();
            for (JsonNode a : list(i, "addresses")) {
                String fa = fi + ".addresses[" + addrs.size() + "]";
                try {
                    addrs.add(IpPrefix.parse(text(a, fa)));
                } catch (IllegalArgumentException e) {
                    throw new LabSpecException(fa, e.getMessage(), e);
                }
            }
            MacAddress mac = null;
            if (i.hasNonNull("mac")) {
                try {
                    mac = MacAddress.parse(text(i.get("mac"), fi + ".mac"));
                } catch (IllegalArgumentException e) {
                    throw new LabSpecException(fi + ".mac", e.getMessage(), e);
                }
            }
            int mtu = 0;
            if (i.hasNonNull("mtu")) {
                if (!i.get("mtu").canConvertToInt() || i.get("mtu").asInt() < 68) {
                    throw new LabSpecException(fi + ".mtu", "'" + i.get("mtu").asText() + "' is not an MTU (68 or more)");
                }
                mtu = i.get("mtu").asInt();
            }
            ifaces.add(new InterfaceSpec(text(i.get("name"), fi + ".name"), mac, addrs, mtu));
        }
        InetAddress gw = address(h, "gateway", f);
        InetAddress gw6 = address(h, "gateway6", f);
        Map<String, String> sysctls = new LinkedHashMap<>();
        if (h.hasNonNull("sysctls")) {
            JsonNode s = h.get("sysctls");
            if (!s.isObject()) {
                throw new LabSpecException(f + ".sysctls", "must be a map of key: value");
            }
            s.properties().forEach(e -> sysctls.put(e.getKey(), e.getValue().asText()));
        }
        try {
            return new HostSpec(name, ifaces, gw, gw6, sysctls);
        } catch (IllegalArgumentException e) {
            throw new LabSpecException(f, e.getMessage(), e);
        }
    }

    private static InetAddress address(JsonNode h, String key, String f) {
        if (!h.hasNonNull(key)) {
            return null;
        }
        try {
            return IpPrefix.literal(text(h.get(key), f + "." + key));
        } catch (IllegalArgumentException e) {
            throw new LabSpecException(f + "." + key, e.getMessage(), e);
        }
    }

    private static void object(JsonNode n, String f, String... keys) {
        if (n == null || !n.isObject()) {
            throw new LabSpecException(f, "must be a map");
        }
        Set<String> allowed = Set.of(keys);
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new LabSpecException(f + "." + k, "unknown key (expected one of " + String.join(", ", keys) + ")");
            }
        }
    }

    private static List<JsonNode> list(JsonNode parent, String key) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new LabSpecException(key, "must be a list");
        }
        List<JsonNode> out = new ArrayList<>();
        n.forEach(out::add);
        return out;
    }

    private static String text(JsonNode n, String f) {
        if (n == null || n.isNull()) {
            throw new LabSpecException(f, "is missing");
        }
        if (!n.isValueNode()) {
            throw new LabSpecException(f, "must be a single value");
        }
        return n.asText();
    }

    /** This lab as YAML, in the form {@link #fromYaml(String)} reads. */
    public String toYaml() {
        ObjectNode root = YAML.createObjectNode();
        if (!bridges.isEmpty()) {
            ArrayNode b = root.putArray("bridges");
            bridges.forEach(b::add);
        }
        ArrayNode hs = root.putArray("hosts");
        for (HostSpec h : hosts) {
            ObjectNode hn = hs.addObject();
            hn.put("name", h.name());
            ArrayNode is = hn.putArray("interfaces");
            for (InterfaceSpec i : h.interfaces()) {
                ObjectNode in = is.addObject();
                in.put("name", i.name());
                if (i.mac() != null) {
                    in.put("mac", i.mac().toString());
                }
                ArrayNode as = in.putArray("addresses");
                i.addresses().forEach(a -> as.add(a.toString()));
                if (i.mtu() > 0) {
                    in.put("mtu", i.mtu());
                }
            }
            if (h.gateway() != null) {
                hn.put("gateway", h.gateway().getHostAddress());
            }
            if (h.gateway6() != null) {
                hn.put("gateway6", h.gateway6().getHostAddress());
            }
            if (!h.sysctls().isEmpty()) {
                ObjectNode s = hn.putObject("sysctls");
                h.sysctls().forEach(s::put);
            }
        }
        ArrayNode ws = root.putArray("wires");
        for (WireSpec w : wires) {
            ObjectNode wn = ws.addObject();
            wn.put("a", w.a().toString());
            wn.put("b", w.b().toString());
            if (w.bridge() != null) {
                wn.put("bridge", w.bridge());
            }
        }
        try {
            return YAML.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

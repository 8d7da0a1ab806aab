package io.jvisor.server.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import org.yaml.snakeyaml.LoaderOptions;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads manifests from YAML or JSON (JSON is YAML) and writes them back. Structural faults (bad
 * syntax, unknown or duplicate keys, wrong types, a wrong {@code apiVersion} or {@code kind}) are
 * collected and thrown together as a {@link ManifestException} naming each field; references and
 * values are checked by {@link ManifestResolver}.
 */
public final class ManifestReader {
    /** The largest manifest read: 8 MiB. */
    public static final int MAX_BYTES = 8 << 20;

    private static final ObjectMapper YAML;
    private static final ObjectMapper WRITER = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .build());
    private static final ObjectMapper TREE = new ObjectMapper();

    static {
        LoaderOptions lo = new LoaderOptions();
        lo.setMaxAliasesForCollections(20); // "billion laughs" documents are refused
        lo.setAllowDuplicateKeys(false);
        lo.setCodePointLimit(MAX_BYTES);
        lo.setNestingDepthLimit(40);
        YAMLFactory f = YAMLFactory.builder().loaderOptions(lo)
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(40).build())
                .build();
        f.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        YAML = new ObjectMapper(f);
    }

    private final List<ManifestProblem> problems = new ArrayList<>();

    private ManifestReader() {}

    /**
     * Reads a manifest.
     *
     * @throws ManifestException naming every field at fault
     */
    public static Manifest read(String text) {
        // SnakeYAML limits (aliases, nesting, size) surface as its own exceptions: parseTree reports them
        return fromTree(parseTree(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /**
     * Parses YAML or JSON into a tree, with the same limits as manifests (size, aliases, nesting).
     *
     * @throws ManifestException for bad syntax
     */
    public static JsonNode parseTree(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            throw new ManifestException("(document)", null, "larger than " + MAX_BYTES + " bytes");
        }
        try {
            return YAML.readTree(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")";
            throw new ManifestException("(document)", null, "not valid YAML or JSON" + where + ": "
                    + firstLine(e.getOriginalMessage()));
        } catch (RuntimeException e) {
            throw new ManifestException("(document)", null, "not readable: " + firstLine(e.getMessage()));
        }
    }

    /** Reads a manifest from bytes (UTF-8). */
    public static Manifest read(byte[] bytes) {
        return fromTree(parseTree(bytes));
    }

    /** Reads a manifest from a parsed tree. */
    public static Manifest fromTree(JsonNode root) {
        ManifestReader r = new ManifestReader();
        Manifest m = r.manifest(root);
        if (!r.problems.isEmpty()) {
            throw new ManifestException(r.problems);
        }
        return m;
    }

    /** The manifest as YAML. */
    public static String toYaml(Manifest m) {
        try {
            return WRITER.writeValueAsString(toTree(m));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The manifest as a tree (the same shape as the YAML), leaving out empty parts. */
    public static ObjectNode toTree(Manifest m) {
        ObjectNode root = TREE.createObjectNode();
        root.put("apiVersion", m.apiVersion());
        root.put("kind", m.kind());
        ObjectNode md = root.putObject("metadata");
        md.put("name", m.name());
        if (m.metadata() != null) {
            putIfAny(md, "labels", m.metadata().labels());
        }
        ObjectNode spec = root.putObject("spec");
        if (!m.spec().hosts().isEmpty()) {
            ArrayNode hosts = spec.putArray("hosts");
            for (Manifest.Host h : m.spec().hosts()) {
                ObjectNode o = hosts.addObject();
                o.put("name", h.name());
                ArrayNode ifs = o.putArray("interfaces");
                for (Manifest.Interface i : h.interfaces()) {
                    ObjectNode io = ifs.addObject();
                    io.put("name", i.name());
                    ArrayNode a = io.putArray("addresses");
                    i.addresses().forEach(a::add);
                    putIfSet(io, "mac", i.mac());
                    putIfSet(io, "mtu", i.mtu());
                }
                putIfSet(o, "gateway", h.gateway());
                putIfAny(o, "sysctls", h.sysctls());
            }
        }
        ArrayNode insts = spec.putArray("instances");
        for (Manifest.Instance i : m.spec().instances()) {
            ObjectNode o = insts.addObject();
            o.put("name", i.name());
            o.put("type", i.type());
            putIfAny(o, "config", i.config());
        }
        if (!m.spec().connections().isEmpty()) {
            ArrayNode cs = spec.putArray("connections");
            for (Manifest.Connection c : m.spec().connections()) {
                cs.addObject().put("a", c.a()).put("b", c.b());
            }
        }
        if (!m.spec().attachments().isEmpty()) {
            ArrayNode as = spec.putArray("attachments");
            for (Manifest.Attachment a : m.spec().attachments()) {
                ObjectNode o = as.addObject().put("port", a.port());
                putIfSet(o, "host", a.host());
                putIfSet(o, "device", a.device());
                putIfSet(o, "netns", a.netns());
            }
        }
        if (!m.spec().checks().isEmpty()) {
            ArrayNode cs = spec.putArray("checks");
            for (Manifest.Check c : m.spec().checks()) {
                ObjectNode o = cs.addObject().put("from", c.from());
                if (c.protocol() != null) {
                    o.put(c.protocol().name().toLowerCase(java.util.Locale.ROOT), c.target());
                }
                if (!c.servers().isEmpty()) {
                    ArrayNode sv = o.putArray("servers");
                    c.servers().forEach(sv::add);
                }
                putIfSet(o, "expect", c.expect());
                putIfSet(o, "count", c.count());
                putIfSet(o, "clientSeenAs", c.clientSeenAs());
            }
        }
        return root;
    }

    /** Puts {@code value} unless it is null (left out of the tree). */
    private static void putIfSet(ObjectNode o, String field, String value) {
        if (value != null) {
            o.put(field, value);
        }
    }

    /** Puts {@code value} unless it is 0 (left out of the tree). */
    private static void putIfSet(ObjectNode o, String field, int value) {
        if (value != 0) {
            o.put(field, value);
        }
    }

    /** Puts {@code map} unless it is empty (left out of the tree). */
    private static void putIfAny(ObjectNode o, String field, Map<String, String> map) {
        if (!map.isEmpty()) {
            o.set(field, TREE.valueToTree(map));
        }
    }

    // ---- the tree walk ---------------------------------------------------------------------------

    private Manifest manifest(JsonNode root) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            problem("(document)", null, "empty; a manifest starts with apiVersion: " + Manifest.API_VERSION);
            return null;
        }
        if (!object(root, "(document)", Set.of("apiVersion", "kind", "metadata", "spec"))) {
            return null;
        }
        String api = requiredText(root, "apiVersion", "apiVersion");
        if (api != null && !api.equals(Manifest.API_VERSION)) {
            problem("apiVersion", api, "unsupported schema version (supported: " + Manifest.API_VERSION + ")");
        }
        String kind = requiredText(root, "kind", "kind");
        if (kind != null && !kind.equals(Manifest.KIND)) {
            problem("kind", kind, "unknown kind (known: " + Manifest.KIND + ")");
        }
        Manifest.Metadata md = null;
        JsonNode mdn = root.get("metadata");
        if (mdn == null || mdn.isNull()) {
            problem("metadata", null, "missing; give at least metadata.name");
        } else if (object(mdn, "metadata", Set.of("name", "labels"))) {
            md = new Manifest.Metadata(requiredText(mdn, "name", "metadata.name"), stringMap(mdn.get("labels"),
                    "metadata.labels"));
        }
        JsonNode sn = root.get("spec");
        Manifest.Spec spec = new Manifest.Spec(null, null, null, null, null);
        if (sn != null && !sn.isNull() && object(sn, "spec", Set.of("hosts", "instances", "connections",
                "attachments", "checks"))) {
            spec = new Manifest.Spec(list(sn, "hosts", "spec.hosts", this::host),
                    list(sn, "instances", "spec.instances", this::instance),
                    list(sn, "connections", "spec.connections", this::connection),
                    list(sn, "attachments", "spec.attachments", this::attachment),
                    list(sn, "checks", "spec.checks", this::check));
        }
        return new Manifest(api, kind, md, spec);
    }

    private Manifest.Host host(JsonNode n, String f) {
        if (!object(n, f, Set.of("name", "interfaces", "gateway", "sysctls"))) {
            return null;
        }
        return new Manifest.Host(requiredText(n, "name", f + ".name"), list(n, "interfaces", f + ".interfaces",
                this::iface), optionalText(n, "gateway", f + ".gateway"), stringMap(n.get("sysctls"), f + ".sysctls"));
    }

    private Manifest.Interface iface(JsonNode n, String f) {
        if (!object(n, f, Set.of("name", "addresses", "mac", "mtu"))) {
            return null;
        }
        List<String> addrs = list(n, "addresses", f + ".addresses", (a, af) -> scalar(a, af));
        int mtu = optionalInt(n, "mtu", f + ".mtu", 68, 65535);
        return new Manifest.Interface(requiredText(n, "name", f + ".name"), addrs, optionalText(n, "mac", f + ".mac"),
                mtu);
    }

    private Manifest.Instance instance(JsonNode n, String f) {
        if (!object(n, f, Set.of("name", "type", "config"))) {
            return null;
        }
        Map<String, String> config = new LinkedHashMap<>();
        JsonNode c = n.get("config");
        if (c != null && !c.isNull()) {
            if (!c.isObject()) {
                problem(f + ".config", c.toString(), "must be a map of keys to values");
            } else {
                flatten(c, "", f + ".config", config);
            }
        }
        return new Manifest.Instance(requiredText(n, "name", f + ".name"), requiredText(n, "type", f + ".type"), config);
    }

    /** Nested maps become dotted keys: {@code port: {0: x}} is {@code port.0: x}. */
    private void flatten(JsonNode n, String prefix, String f, Map<String, String> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            var e = it.next();
            String key = prefix + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                flatten(v, key + ".", f, out);
            } else if (v.isValueNode() && !v.isNull()) {
                if (out.put(key, v.asText()) != null) {
                    problem(f + "." + key, v.asText(), "given twice (once nested, once dotted)");
                }
            } else {
                problem(f + "." + key, v.toString(), "must be a single value (text or number)");
            }
        }
    }

    private Manifest.Connection connection(JsonNode n, String f) {
        if (n.isArray()) { // [a, b]
            if (n.size() != 2) {
                problem(f, n.toString(), "a connection is [a, b] or {a: INSTANCE:PORT, b: INSTANCE:PORT}");
                return null;
            }
            return new Manifest.Connection(scalar(n.get(0), f + "[0]"), scalar(n.get(1), f + "[1]"));
        }
        if (!object(n, f, Set.of("a", "b"))) {
            return null;
        }
        return new Manifest.Connection(requiredText(n, "a", f + ".a"), requiredText(n, "b", f + ".b"));
    }

    private Manifest.Attachment attachment(JsonNode n, String f) {
        if (!object(n, f, Set.of("port", "host", "device", "netns"))) {
            return null;
        }
        return new Manifest.Attachment(requiredText(n, "port", f + ".port"), optionalText(n, "host", f + ".host"),
                optionalText(n, "device", f + ".device"), optionalText(n, "netns", f + ".netns"));
    }

    private Manifest.Check check(JsonNode n, String f) {
        if (!object(n, f, Set.of("from", "ping", "udp", "tcp", "servers", "expect", "count", "clientSeenAs"))) {
            return null;
        }
        Manifest.Protocol protocol = null;
        String target = null;
        for (Manifest.Protocol p : Manifest.Protocol.values()) {
            String key = p.name().toLowerCase(java.util.Locale.ROOT);
            if (n.has(key)) {
                if (protocol != null) {
                    problem(f + "." + key, null, "give only one of ping, udp or tcp");
                    continue;
                }
                protocol = p;
                target = requiredText(n, key, f + "." + key);
            }
        }
        if (protocol == null) {
            problem(f, null, "give one of ping: ADDRESS, udp: ADDRESS:PORT or tcp: ADDRESS:PORT");
        }
        int count = optionalInt(n, "count", f + ".count", 1, 1000);
        return new Manifest.Check(requiredText(n, "from", f + ".from"), protocol, target,
                list(n, "servers", f + ".servers", (a, af) -> scalar(a, af)), optionalText(n, "expect", f + ".expect"),
                count, optionalText(n, "clientSeenAs", f + ".clientSeenAs"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The whole number at {@code key} in {@code min..max}; 0 when it is absent or at fault (a problem then). */
    private int optionalInt(JsonNode n, String key, String f, int min, int max) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            problem(f, v.asText(), "not a whole number");
            return 0;
        }
        if (v.intValue() < min || v.intValue() > max) {
            problem(f, v.asText(), "out of range " + min + ".." + max);
            return 0;
        }
        return v.intValue();
    }

    private interface Element<T> {
        T read(JsonNode n, String field);
    }

    private <T> List<T> list(JsonNode parent, String key, String f, Element<T> element) {
        JsonNode n = parent.get(key);
        List<T> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isArray()) {
            problem(f, n.isValueNode() ? n.asText() : n.toString(), "must be a list");
            return out;
        }
        for (int i = 0; i < n.size(); i++) {
            T t = element.read(n.get(i), f + "[" + i + "]");
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    private boolean object(JsonNode n, String f, Set<String> keys) {
        if (!n.isObject()) {
            problem(f, n.isValueNode() ? n.asText() : n.toString(), "must be a map with keys "
                    + new java.util.TreeSet<>(keys));
            return false;
        }
        // unknown keys are reported, and the known ones still read, so that one pass finds every fault
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) {
                problem(f.equals("(document)") ? k : f + "." + k, null, "unknown field (known: "
                        + String.join(", ", new java.util.TreeSet<>(keys)) + ")");
            }
        }
        return true;
    }

    private String requiredText(JsonNode parent, String key, String f) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            problem(f, null, "missing");
            return null;
        }
        return scalar(n, f);
    }

    private String optionalText(JsonNode parent, String key, String f) {
        JsonNode n = parent.get(key);
        return n == null || n.isNull() ? null : scalar(n, f);
    }

    private String scalar(JsonNode n, String f) {
        if (n == null || n.isNull()) {
            problem(f, null, "missing");
            return null;
        }
        if (!n.isValueNode()) {
            problem(f, n.toString(), "must be a single value, not a " + (n.isArray() ? "list" : "map"));
            return null;
        }
        return n.asText();
    }

    private Map<String, String> stringMap(JsonNode n, String f) {
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            problem(f, n.isValueNode() ? n.asText() : n.toString(), "must be a map");
            return out;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            var e = it.next();
            String v = scalar(e.getValue(), f + "." + e.getKey());
            if (v != null) {
                out.put(e.getKey(), v);
            }
        }
        return out;
    }

    private void problem(String field, String value, String reason) {
        problems.add(new ManifestProblem(field, value, reason));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}

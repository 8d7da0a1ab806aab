package io.jvisor.server;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.MapInfo;
import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfValues;
import io.jvisor.bpf.btf.LoadedBtf;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An instance's own maps as tables of entries. Keys and values are shown in hex, and, for maps that
 * carry BTF (every map of a module compiled by jvisor), also decoded by their C types with
 * {@link BtfValues}: a struct as its members, a {@code __be32} as an IPv4 address, a MAC as
 * colon-separated hex. A key or value can be written in either form. Names are checked against a
 * strict pattern before they reach the file system, and only the instance's own pin directory is
 * read, so no name reaches a path outside the engine's.
 */
public final class Tables {
    private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");
    private static final Pattern INSTANCE = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final HexFormat HEX = HexFormat.of();
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);
    /** The most entries one list returns. */
    public static final int MAX_LIST = 100_000;

    private final Engine engine;
    /** BTF objects read back from the kernel, by id; a map's BTF does not change while it lives. */
    private final Map<Integer, Btf> btfs = new ConcurrentHashMap<>();

    /** The tables of {@code engine}'s instances. */
    public Tables(Engine engine) {
        this.engine = engine;
    }

    /**
     * One table.
     *
     * @param name its name in the module's C source
     * @param type the map type
     * @param keySize key bytes
     * @param valueSize value bytes
     * @param maxEntries capacity
     * @param perCpu whether it holds a value per CPU
     * @param keyType the key's C type from BTF, such as {@code struct fdb_key}; null without BTF
     * @param valueType the value's C type from BTF; null without BTF
     */
    public record Info(String name, String type, int keySize, int valueSize, int maxEntries, boolean perCpu,
                       String keyType, String valueType) {}

    /**
     * One entry.
     *
     * @param key the key in hex
     * @param value the value in hex (per-CPU tables: null)
     * @param values per-CPU tables: a value per CPU, in hex
     * @param keyFields the key decoded by its BTF type; null without BTF
     * @param valueFields the value decoded by its BTF type (per-CPU tables: a list, a value per CPU);
     *     null without BTF
     */
    public record Entry(String key, String value, List<String> values, Object keyFields, Object valueFields) {}

    /** A map's key and value types, from its BTF; a type id is 0 when the map has none. */
    private record Types(Btf btf, int key, int value) {
        static final Types NONE = new Types(null, 0, 0);

        Object decode(int id, byte[] bytes) {
            if (id == 0) {
                return null;
            }
            try {
                return BtfValues.decode(btf, id, bytes);
            } catch (RuntimeException e) {
                return null; // a type this decoder cannot show: the hex still stands
            }
        }
    }

    /** The instance's tables. */
    public List<Info> list(String instance) {
        Path dir = instanceDir(instance);
        List<Info> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String f = p.getFileName().toString();
                if (!f.startsWith("map_")) {
                    continue;
                }
                String name = f.substring(4);
                BpfMap m;
                try {
                    m = engine.map(instance, name);
                } catch (RuntimeException e) {
                    continue; // sections such as .rodata: not tables
                }
                out.add(info(instance, name, m));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** One table's description. */
    public Info info(String instance, String table) {
        return info(instance, table, map(instance, table));
    }

    private Info info(String instance, String name, BpfMap m) {
        Types t = types(instance, m);
        return new Info(name, m.type().name().toLowerCase(java.util.Locale.ROOT), m.keySize(), m.valueSize(),
                m.maxEntries(), m.type().isPerCpu(), t.key == 0 ? null : t.btf.describe(t.key),
                t.value == 0 ? null : t.btf.describe(t.value));
    }

    private Types types(String instance, BpfMap m) {
        MapInfo i;
        try {
            i = m.info();
        } catch (RuntimeException e) {
            return Types.NONE;
        }
        if (i.btfId() == 0 || (i.btfKeyTypeId() == 0 && i.btfValueTypeId() == 0)) {
            return Types.NONE;
        }
        Btf btf;
        try {
            btf = btfs.computeIfAbsent(i.btfId(), id -> btf(instance, id));
        } catch (RuntimeException e) {
            return Types.NONE;
        }
        if (btf == null) {
            return Types.NONE;
        }
        int k = i.btfKeyTypeId(), v = i.btfValueTypeId();
        if (k != 0 && btf.sizeOf(k) != m.keySize()) {
            k = 0;
        }
        if (v != 0 && btf.sizeOf(v) != m.valueSize()) {
            v = 0;
        }
        return new Types(btf, k, v);
    }

    /**
     * The kernel's copy of BTF {@code id}; when the kernel does not let this process read it
     * (BPF_BTF_GET_FD_BY_ID needs CAP_SYS_ADMIN, which jvisord does without), the BTF of the code the
     * instance runs, as the engine compiled and loaded it: the kernel keeps the type ids it was given.
     */
    private Btf btf(String instance, int id) {
        try {
            return LoadedBtf.fetch(id);
        } catch (BpfException e) {
            if (e.errno() != Errno.EPERM.number()) {
                throw e;
            }
            return engine.codeBtf(instance);
        }
    }

    /** Up to {@code limit} entries. */
    public List<Entry> entries(String instance, String table, int limit) {
        if (limit < 1 || limit > MAX_LIST) {
            throw new ApiException(400, "limit", Integer.toString(limit), "must be 1.." + MAX_LIST);
        }
        BpfMap m = map(instance, table);
        Types t = types(instance, m);
        List<Entry> out = new ArrayList<>();
        for (byte[] k : m.keys()) {
            if (out.size() >= limit) {
                break;
            }
            entry(m, t, k).ifPresent(out::add);
        }
        return out;
    }

    /**
     * One entry.
     *
     * @param key the key: hex bytes, or JSON (an object or a list) in the decoded form
     */
    public Optional<Entry> get(String instance, String table, String key) {
        BpfMap m = map(instance, table);
        Types t = types(instance, m);
        return entry(m, t, key(m, t, key));
    }

    /**
     * Writes one entry (created or replaced).
     *
     * @param key hex bytes, or JSON (an object or a list) in the decoded form
     * @param value a String of hex bytes, or the decoded form (a Map, List, Number or Boolean, as
     *     {@link #entries} shows it); members left out are zero
     */
    public Entry put(String instance, String table, String key, Object value) {
        BpfMap m = map(instance, table);
        Types t = types(instance, m);
        byte[] k = key(m, t, key);
        if (m.type().isPerCpu()) {
            throw new ApiException(400, "table", table, "a per-CPU table; its entries are read-only here");
        }
        if (value == null) {
            throw new ApiException(400, "value", null, "missing: give the value in hex, or decoded as the table shows it");
        }
        byte[] v = value instanceof String hex ? bytes("value", hex, m.valueSize()) : encode("value", t, t.value, value);
        try {
            m.update(k, v);
        } catch (RuntimeException e) {
            throw new ApiException(409, "key", key, "the kernel refused the write: " + e.getMessage());
        }
        return new Entry(HEX.formatHex(k), HEX.formatHex(v), null, t.decode(t.key, k), t.decode(t.value, v));
    }

    /**
     * Deletes one entry; false when there was none.
     *
     * @param key hex bytes, or JSON (an object or a list) in the decoded form
     */
    public boolean delete(String instance, String table, String key) {
        BpfMap m = map(instance, table);
        byte[] k = key(m, types(instance, m), key);
        if (m.type().isIndexed()) {
            throw new ApiException(400, "table", table, "an array; its entries cannot be deleted, write zeros instead");
        }
        try {
            return m.delete(k);
        } catch (RuntimeException e) {
            throw new ApiException(409, "key", key, "the kernel refused the delete: " + e.getMessage());
        }
    }

    private static Optional<Entry> entry(BpfMap m, Types t, byte[] k) {
        Object kf = t.decode(t.key, k);
        if (m.type().isPerCpu()) {
            return m.lookupPerCpu(k).map(vs -> new Entry(HEX.formatHex(k), null, vs.stream().map(HEX::formatHex).toList(),
                    kf, t.value == 0 ? null : vs.stream().map(v -> t.decode(t.value, v)).toList()));
        }
        return m.lookup(k).map(v -> new Entry(HEX.formatHex(k), HEX.formatHex(v), null, kf, t.decode(t.value, v)));
    }

    /** A key given in hex, or as JSON in the decoded form (it starts with '{' or '['). */
    private static byte[] key(BpfMap m, Types t, String key) {
        if (key != null && (key.startsWith("{") || key.startsWith("["))) {
            Object decoded;
            try {
                decoded = JSON.readValue(key, Object.class);
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw new ApiException(400, "key", key, "not JSON: " + e.getOriginalMessage());
            }
            return encode("key", t, t.key, decoded);
        }
        return bytes("key", key, m.keySize());
    }

    private static byte[] encode(String field, Types t, int typeId, Object decoded) {
        if (typeId == 0) {
            throw new ApiException(400, field, String.valueOf(decoded), "this table's " + field
                    + "s have no BTF type; give them in hex");
        }
        try {
            return BtfValues.encode(t.btf, typeId, decoded);
        } catch (BtfValues.BtfValueException e) {
            throw new ApiException(400, e.path().isEmpty() ? field : field + "." + e.path(), String.valueOf(decoded),
                    e.getMessage() + " (" + field + " type " + t.btf.describe(typeId) + ")");
        }
    }

    private BpfMap map(String instance, String table) {
        instanceDir(instance);
        if (table == null || !TABLE.matcher(table).matches()) {
            throw new ApiException(400, "table", table, "not a table name (1-64 of [A-Za-z0-9_])");
        }
        try {
            return engine.map(instance, table);
        } catch (RuntimeException e) {
            throw new ApiException(404, "table", table, "instance '" + instance + "' has no such table (tables: "
                    + String.join(", ", list(instance).stream().map(Info::name).toList()) + ")");
        }
    }

    private Path instanceDir(String instance) {
        if (instance == null || !INSTANCE.matcher(instance).matches()) {
            throw new ApiException(400, "instance", instance, "not an instance name (1-32 of [A-Za-z0-9_-])");
        }
        Topology t = engine.topology();
        if (t.instance(instance) == null) {
            throw new ApiException(404, "instance", instance, "no such instance");
        }
        return engine.options().pinRoot().resolve("inst").resolve(instance);
    }

    private static byte[] bytes(String field, String hex, int size) {
        if (hex == null) {
            throw new ApiException(400, field, null, "missing");
        }
        String h = hex.startsWith("0x") ? hex.substring(2) : hex;
        h = h.replace(":", "").replace(" ", "");
        byte[] b;
        try {
            b = HEX.parseHex(h);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, field, hex, "not hex bytes");
        }
        if (b.length != size) {
            throw new ApiException(400, field, hex, "is " + b.length + " bytes; this table's " + field + "s are "
                    + size + " bytes (" + 2 * size + " hex digits)");
        }
        return b;
    }
}

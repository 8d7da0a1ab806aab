package io.jvisor.server;

import io.jvisor.bpf.BpfMap;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An instance's own maps as tables of entries, keys and values in hex. Names are checked against a
 * strict pattern before they reach the file system, and only the instance's own pin directory is
 * read, so no name reaches a path outside the engine's.
 */
public final class Tables {
    private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");
    private static final Pattern INSTANCE = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final HexFormat HEX = HexFormat.of();
    /** The most entries one list returns. */
    public static final int MAX_LIST = 100_000;

    private final Engine engine;

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
     */
    public record Info(String name, String type, int keySize, int valueSize, int maxEntries, boolean perCpu) {}

    /**
     * One entry.
     *
     * @param key the key in hex
     * @param value the value in hex (per-CPU tables: null)
     * @param values per-CPU tables: a value per CPU, in hex
     */
    public record Entry(String key, String value, List<String> values) {}

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
                out.add(info(name, m));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** One table's description. */
    public Info info(String instance, String table) {
        return info(table, map(instance, table));
    }

    private static Info info(String name, BpfMap m) {
        return new Info(name, m.type().name().toLowerCase(java.util.Locale.ROOT), m.keySize(), m.valueSize(),
                m.maxEntries(), m.type().isPerCpu());
    }

    /** Up to {@code limit} entries. */
    public List<Entry> entries(String instance, String table, int limit) {
        if (limit < 1 || limit > MAX_LIST) {
            throw new ApiException(400, "limit", Integer.toString(limit), "must be 1.." + MAX_LIST);
        }
        BpfMap m = map(instance, table);
        List<Entry> out = new ArrayList<>();
        for (byte[] k : m.keys()) {
            if (out.size() >= limit) {
                break;
            }
            entry(m, k).ifPresent(out::add);
        }
        return out;
    }

    /** One entry. */
    public Optional<Entry> get(String instance, String table, String key) {
        BpfMap m = map(instance, table);
        return entry(m, bytes("key", key, m.keySize()));
    }

    /** Writes one entry (created or replaced). */
    public Entry put(String instance, String table, String key, String value) {
        BpfMap m = map(instance, table);
        byte[] k = bytes("key", key, m.keySize());
        if (m.type().isPerCpu()) {
            throw new ApiException(400, "table", table, "a per-CPU table; its entries are read-only here");
        }
        if (value == null) {
            throw new ApiException(400, "value", null, "missing: give the value in hex");
        }
        byte[] v = bytes("value", value, m.valueSize());
        try {
            m.update(k, v);
        } catch (RuntimeException e) {
            throw new ApiException(409, "key", key, "the kernel refused the write: " + e.getMessage());
        }
        return new Entry(HEX.formatHex(k), HEX.formatHex(v), null);
    }

    /** Deletes one entry; false when there was none. */
    public boolean delete(String instance, String table, String key) {
        BpfMap m = map(instance, table);
        byte[] k = bytes("key", key, m.keySize());
        if (m.type().isIndexed()) {
            throw new ApiException(400, "table", table, "an array; its entries cannot be deleted, write zeros instead");
        }
        try {
            return m.delete(k);
        } catch (RuntimeException e) {
            throw new ApiException(409, "key", key, "the kernel refused the delete: " + e.getMessage());
        }
    }

    private Optional<Entry> entry(BpfMap m, byte[] k) {
        if (m.type().isPerCpu()) {
            return m.lookupPerCpu(k).map(vs -> new Entry(HEX.formatHex(k), null, vs.stream().map(HEX::formatHex).toList()));
        }
        return m.lookup(k).map(v -> new Entry(HEX.formatHex(k), HEX.formatHex(v), null));
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

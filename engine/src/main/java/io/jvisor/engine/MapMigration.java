package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What happens to a map's entries when new code keeps the map's name but changes its layout
 * ({@link MapLayoutCheck} finds a difference), declared by the module type for that map
 * ({@link ModuleType#mapMigrations()}). Without a declaration, a swap that would reuse such a map is
 * refused: reusing it silently would have the new code read the old bytes with another meaning.
 * A declared migration is not used when the layouts are the same.
 */
public sealed interface MapMigration {
    /** The new code gets a new, empty map; the old entries are dropped. */
    record StartEmpty() implements MapMigration {}

    /**
     * The old map is kept as it is: the new layout means the same bytes (a member renamed without a
     * change of meaning, or a map whose old code gave no BTF type). Only where the map's type, key
     * size, value size and capacity are unchanged; otherwise the map cannot be reused at all.
     */
    record KeepBytes() implements MapMigration {}

    /**
     * The new code gets a new map, filled by converting each old entry.
     *
     * @param converter the new entry for an old one, or empty to drop it
     */
    record Convert(EntryConverter converter) implements MapMigration {
        public Convert {
            Objects.requireNonNull(converter, "converter");
        }
    }

    /**
     * Converts one entry. The value is as {@link BpfMap#lookupBatch} gives it: for a per-CPU map,
     * every possible CPU's value back to back, each padded to a multiple of 8 bytes, and the new
     * value must have the same form at the new size.
     */
    @FunctionalInterface
    interface EntryConverter {
        /** The new entry for {@code old}, or empty to drop it. */
        Optional<BpfMap.Entry> convert(BpfMap.Entry old);
    }

    /** {@link StartEmpty}. */
    static MapMigration startEmpty() {
        return new StartEmpty();
    }

    /** {@link KeepBytes}. */
    static MapMigration keepBytes() {
        return new KeepBytes();
    }

    /** {@link Convert}. */
    static MapMigration convert(EntryConverter converter) {
        return new Convert(converter);
    }

    /**
     * Converts every old entry with {@code migration}, checking each new entry's sizes.
     *
     * @param map the map's name, for errors
     * @param keySize the new key size in bytes
     * @param valueSize the size of a new value as {@link EntryConverter} describes it
     * @return the new entries, in the old entries' order
     * @throws TopologyException naming the map and the entry when the converter throws or returns an
     *     entry of the wrong size
     */
    static List<BpfMap.Entry> convertAll(String map, Convert migration, Iterable<BpfMap.Entry> old, int keySize,
                                         int valueSize) {
        List<BpfMap.Entry> out = new ArrayList<>();
        int index = 0;
        for (BpfMap.Entry e : old) {
            String el = "map '" + map + "' entry " + index++;
            Optional<BpfMap.Entry> converted;
            try {
                converted = Objects.requireNonNull(migration.converter().convert(e), "the converter returned null");
            } catch (RuntimeException ex) {
                throw new TopologyException(el, "its migration failed: " + ex.getMessage(), ex);
            }
            if (converted.isEmpty()) {
                continue;
            }
            BpfMap.Entry n = converted.get();
            if (n.key() == null || n.key().length != keySize || n.value() == null || n.value().length != valueSize) {
                throw new TopologyException(el, "its migration made a key of " + length(n.key()) + " bytes and a value of "
                        + length(n.value()) + ", not " + keySize + " and " + valueSize);
            }
            out.add(n);
        }
        return out;
    }

    private static String length(byte[] b) {
        return b == null ? "no" : Integer.toString(b.length);
    }
}

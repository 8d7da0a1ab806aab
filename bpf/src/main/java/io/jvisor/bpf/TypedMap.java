package io.jvisor.bpf;

import io.jvisor.bpf.codec.Codec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A view of a {@link BpfMap} in Java types, through a key codec and a value codec. It owns nothing:
 * closing the underlying map ends it.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class TypedMap<K, V> {
    private final BpfMap map;
    private final Codec<K> keys;
    private final Codec<V> values;

    TypedMap(BpfMap map, Codec<K> keys, Codec<V> values) {
        if (keys.size() != map.keySize()) {
            throw new IllegalArgumentException("key codec is " + keys.size() + " bytes but " + map + " has keySize "
                    + map.keySize());
        }
        if (values.size() != map.valueSize()) {
            throw new IllegalArgumentException("value codec is " + values.size() + " bytes but " + map
                    + " has valueSize " + map.valueSize());
        }
        this.map = map;
        this.keys = keys;
        this.values = values;
    }

    /** The underlying map. */
    public BpfMap map() {
        return map;
    }

    /** The value under {@code key}, or empty. */
    public Optional<V> get(K key) {
        return map.lookup(keys.toBytes(key)).map(values::fromBytes);
    }

    /** Creates or replaces. */
    public void put(K key, V value) {
        map.update(keys.toBytes(key), values.toBytes(value), UpdateFlag.ANY);
    }

    /** Stores per {@code flag}. */
    public void put(K key, V value, UpdateFlag flag) {
        map.update(keys.toBytes(key), values.toBytes(value), flag);
    }

    /** Removes {@code key}; false when absent. */
    public boolean remove(K key) {
        return map.delete(keys.toBytes(key));
    }

    /** Per-CPU maps: each possible CPU's value. */
    public Optional<List<V>> getPerCpu(K key) {
        return map.lookupPerCpu(keys.toBytes(key)).map(l -> l.stream().map(values::fromBytes).toList());
    }

    /** Every entry, read in batches. */
    public List<Map.Entry<K, V>> entries() {
        List<Map.Entry<K, V>> out = new ArrayList<>();
        for (BpfMap.Entry e : map.lookupBatch(256)) {
            out.add(Map.entry(keys.fromBytes(e.key()), values.fromBytes(e.value())));
        }
        return out;
    }

    /** The keys, by iteration. */
    public List<K> keys() {
        List<K> out = new ArrayList<>();
        for (byte[] k : map.keys()) {
            out.add(keys.fromBytes(k));
        }
        return out;
    }
}

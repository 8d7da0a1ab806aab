package io.jvisor.modules;

import io.jvisor.bpf.BpfMap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a control plane's desired table contents into a module's map with as few kernel writes as
 * possible, so that entries the packets are using are never removed and re-added.
 */
public final class MapSync {
    private MapSync() {
    }

    /**
     * Makes {@code m} hold exactly {@code want}: adds and changes first, then deletes; entries that
     * are already right are left alone.
     */
    public static void sync(BpfMap m, Map<ByteKey, byte[]> want) {
        Set<ByteKey> have = new HashSet<>();
        for (byte[] k : keys(m)) {
            have.add(new ByteKey(k));
        }
        for (var e : want.entrySet()) {
            setIfDifferent(m, e.getKey().b(), e.getValue());
        }
        for (ByteKey k : have) {
            if (!want.containsKey(k)) {
                m.delete(k.b());
            }
        }
    }

    /** Writes {@code v} under {@code k} unless the map already holds exactly that. */
    public static void setIfDifferent(BpfMap m, byte[] k, byte[] v) {
        var old = m.lookup(k);
        if (old.isEmpty() || !Arrays.equals(old.get(), v)) {
            m.update(k, v);
        }
    }

    /** The map's keys, read before any change is made. */
    public static List<byte[]> keys(BpfMap m) {
        List<byte[]> out = new ArrayList<>();
        m.keys().forEach(out::add);
        return out;
    }

    /** A map key with value equality, for sets and maps of keys. */
    public record ByteKey(byte[] b) {
        @Override
        public boolean equals(Object o) {
            return o instanceof ByteKey k && Arrays.equals(b, k.b);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(b);
        }

        @Override
        public String toString() {
            return java.util.HexFormat.of().formatHex(b);
        }
    }
}

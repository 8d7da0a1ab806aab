package io.jvisor.modules.lb;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016), with weights: the lookup table a load
 * balancer indexes with a flow's hash.
 *
 * <p>Each backend has a permutation of the table's slots, derived from two hashes of its key
 * (offset and skip; the table size is a prime, so every skip visits every slot). Backends take
 * turns claiming their next free preferred slot until the table is full. Weights change how often
 * a backend gets a turn: each round adds its weight to a credit, and it claims one slot whenever the
 * credit reaches the largest weight (Katran's weighted variant). So each backend ends up with a
 * share of the slots proportional to its weight, within a slot or two, and removing one of N equal
 * backends moves its slots plus only a small fraction of the others.
 *
 * <p>A backend's key must be stable (jvisor uses {@code address:port}): its permutation, and so its
 * slots, depend only on it, not on its position in the list or on the other backends.
 */
public final class Maglev {
    /** The default table size, a prime: 65537. */
    public static final int DEFAULT_SIZE = 65537;

    private Maglev() {}

    /**
     * A backend as Maglev sees it.
     *
     * @param key its stable identity
     * @param weight its weight; 0 takes no slot (a draining backend)
     */
    public record Backend(String key, int weight) {
        public Backend {
            if (weight < 0) {
                throw new IllegalArgumentException("backend " + key + ": negative weight");
            }
        }
    }

    /**
     * Builds the table.
     *
     * @param backends the backends; their keys must be distinct
     * @param size the table size, a prime larger than the number of backends
     * @return for each slot, the position in {@code backends} of the backend that owns it; all -1 when
     *     no backend has a positive weight
     */
    public static int[] table(List<Backend> backends, int size) {
        if (!isPrime(size)) {
            throw new IllegalArgumentException("the table size " + size + " is not a prime");
        }
        int n = backends.size();
        if (n >= size) {
            throw new IllegalArgumentException("the table size " + size + " must be larger than the number of backends (" + n + ")");
        }
        int[] table = new int[size];
        Arrays.fill(table, -1);
        int maxWeight = 0;
        for (Backend b : backends) {
            maxWeight = Math.max(maxWeight, b.weight());
        }
        if (maxWeight == 0) {
            return table;
        }
        int[] offset = new int[n], skip = new int[n], next = new int[n];
        long[] credit = new long[n];
        for (int i = 0; i < n; i++) {
            byte[] k = backends.get(i).key().getBytes(StandardCharsets.UTF_8);
            offset[i] = (int) Long.remainderUnsigned(hash(k, 0x5bd1e995L), size);
            skip[i] = (int) Long.remainderUnsigned(hash(k, 0x27d4eb2fL), size - 1) + 1;
        }
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                int w = backends.get(i).weight();
                if (w == 0) {
                    continue;
                }
                credit[i] += w;
                if (credit[i] < maxWeight) {
                    continue;
                }
                credit[i] -= maxWeight;
                int c = slot(offset[i], skip[i], next[i], size);
                while (table[c] >= 0) {
                    next[i]++;
                    c = slot(offset[i], skip[i], next[i], size);
                }
                table[c] = i;
                next[i]++;
                if (++filled == size) {
                    return table;
                }
            }
        }
    }

    private static int slot(int offset, int skip, int j, int size) {
        return (int) ((offset + (long) j * skip) % size);
    }

    /** A 64-bit hash of the key with a seed (FNV-1a, then the SplitMix64 finalizer). */
    static long hash(byte[] key, long seed) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : key) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= seed * 0x9e3779b97f4a7c15L;
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** True when n is a prime. */
    public static boolean isPrime(int n) {
        if (n < 2) {
            return false;
        }
        if (n % 2 == 0) {
            return n == 2;
        }
        for (int d = 3; (long) d * d <= n; d += 2) {
            if (n % d == 0) {
                return false;
            }
        }
        return true;
    }
}

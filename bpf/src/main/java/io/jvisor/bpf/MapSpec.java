package io.jvisor.bpf;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a map is, before it exists in the kernel: immutable and deterministic. Turn it into a live
 * map with {@link BpfMap#create(MapSpec)}; {@link #validate()} runs first and names the offending
 * field of a spec the kernel would refuse.
 *
 * @param name up to 15 characters of {@code [A-Za-z0-9_.]}; may be empty
 * @param type the map type
 * @param keySize key size in bytes
 * @param valueSize value size in bytes (per CPU, for per-CPU maps)
 * @param maxEntries capacity (for ring buffers: the data size in bytes)
 * @param flags {@link MapFlags} bits
 * @param innerMap template of the inner maps, for map-in-map types; otherwise null
 * @param mapExtra type-specific extra (bloom filter hash count); usually 0
 */
public record MapSpec(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags,
                      MapSpec innerMap, long mapExtra) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.]{0,15}");
    /** KMALLOC_MAX_SIZE on x86_64 with 4 KiB pages; larger values cannot be allocated. */
    public static final int MAX_VALUE_SIZE = 4 << 20;
    /** PCPU_MIN_UNIT_SIZE: the largest per-CPU value the kernel accepts. */
    public static final int MAX_PERCPU_VALUE_SIZE = 32 << 10;
    /** MAX_BPF_STACK: hash keys must fit on the program stack. */
    public static final int MAX_HASH_KEY_SIZE = 512;
    /** Largest key of an lpm_trie: 4-byte prefix length plus 256 bytes of data. */
    public static final int MAX_LPM_KEY_SIZE = 4 + 256;

    public MapSpec {
        Objects.requireNonNull(type, "type");
        name = name == null ? "" : name;
    }

    /** A hash map. */
    public static MapSpec hash(String name, int keySize, int valueSize, int maxEntries) {
        return of(name, MapType.HASH, keySize, valueSize, maxEntries);
    }

    /** An array map (u32 index keys). */
    public static MapSpec array(String name, int valueSize, int maxEntries) {
        return of(name, MapType.ARRAY, 4, valueSize, maxEntries);
    }

    /** A map of any type with no flags. */
    public static MapSpec of(String name, MapType type, int keySize, int valueSize, int maxEntries) {
        int flags = type == MapType.LPM_TRIE ? MapFlags.NO_PREALLOC : 0;
        return new MapSpec(name, type, keySize, valueSize, maxEntries, flags, null, 0);
    }

    /** A longest-prefix-match trie over {@code dataBytes} bytes of address (4 for IPv4). */
    public static MapSpec lpmTrie(String name, int dataBytes, int valueSize, int maxEntries) {
        return of(name, MapType.LPM_TRIE, 4 + dataBytes, valueSize, maxEntries);
    }

    /** A tail-call program array. */
    public static MapSpec progArray(String name, int maxEntries) {
        return of(name, MapType.PROG_ARRAY, 4, 4, maxEntries);
    }

    /** A ring buffer of {@code bytes} bytes (a power of two, multiple of the page size). */
    public static MapSpec ringBuf(String name, int bytes) {
        return of(name, MapType.RINGBUF, 0, 0, bytes);
    }

    /** A map of maps whose inner maps look like {@code inner}. */
    public static MapSpec mapOfMaps(String name, MapType type, int keySize, int maxEntries, MapSpec inner) {
        return new MapSpec(name, type, keySize, 4, maxEntries, 0, inner, 0);
    }

    /** This spec with other flags. */
    public MapSpec withFlags(int newFlags) {
        return new MapSpec(name, type, keySize, valueSize, maxEntries, newFlags, innerMap, mapExtra);
    }

    /** This spec with another name. */
    public MapSpec withName(String newName) {
        return new MapSpec(newName, type, keySize, valueSize, maxEntries, flags, innerMap, mapExtra);
    }

    /** This spec with another capacity. */
    public MapSpec withMaxEntries(int newMax) {
        return new MapSpec(name, type, keySize, valueSize, newMax, flags, innerMap, mapExtra);
    }

    /**
     * Checks the spec against the kernel's rules for its type.
     *
     * @throws InvalidSpecException naming the first offending field
     */
    public void validate() {
        String what = "map '" + name + "' (" + type.kernelName() + ")";
        if (!NAME.matcher(name).matches()) {
            throw new InvalidSpecException(what, "name",
                    "'" + name + "' must be at most 15 characters of letters, digits, '_' and '.'");
        }
        if (maxEntries <= 0 && type != MapType.PERF_EVENT_ARRAY) {
            throw new InvalidSpecException(what, "maxEntries", maxEntries + " must be positive");
        }
        if (keySize < 0) {
            throw new InvalidSpecException(what, "keySize", keySize + " must not be negative");
        }
        if (valueSize < 0) {
            throw new InvalidSpecException(what, "valueSize", valueSize + " must not be negative");
        }
        switch (type) {
            case QUEUE, STACK, BLOOM_FILTER -> {
                requireKeySize(what, 0);
                requirePositiveValue(what);
            }
            case RINGBUF, USER_RINGBUF -> {
                requireKeySize(what, 0);
                if (valueSize != 0) {
                    throw new InvalidSpecException(what, "valueSize", valueSize + " must be 0 for a ring buffer");
                }
                if (Integer.bitCount(maxEntries) != 1 || maxEntries % 4096 != 0) {
                    throw new InvalidSpecException(what, "maxEntries",
                            maxEntries + " must be a power of two and a multiple of the page size (4096)");
                }
            }
            case LPM_TRIE -> {
                if (keySize <= 4 || keySize > MAX_LPM_KEY_SIZE) {
                    throw new InvalidSpecException(what, "keySize", keySize
                            + " must be 4 (prefix length) plus 1..256 bytes of data");
                }
                if ((flags & MapFlags.NO_PREALLOC) == 0) {
                    throw new InvalidSpecException(what, "flags", "lpm_trie requires NO_PREALLOC");
                }
                requirePositiveValue(what);
            }
            case PROG_ARRAY -> {
                requireKeySize(what, 4);
                requireValueSize(what, 4);
            }
            case DEVMAP, DEVMAP_HASH, CPUMAP -> {
                requireKeySize(what, 4);
                if (valueSize != 4 && valueSize != 8) {
                    throw new InvalidSpecException(what, "valueSize", valueSize + " must be 4 (ifindex) or 8 (ifindex + program fd)");
                }
            }
            case ARRAY_OF_MAPS, HASH_OF_MAPS -> {
                if (type == MapType.ARRAY_OF_MAPS) {
                    requireKeySize(what, 4);
                } else if (keySize == 0) {
                    throw new InvalidSpecException(what, "keySize", "0 must be positive");
                }
                requireValueSize(what, 4);
                if (innerMap == null) {
                    throw new InvalidSpecException(what, "innerMap", "a map-in-map needs an inner map template");
                }
                innerMap.validate();
            }
            case HASH, LRU_HASH, PERCPU_HASH, LRU_PERCPU_HASH -> {
                if (keySize == 0) {
                    throw new InvalidSpecException(what, "keySize", "0 must be positive");
                }
                if (keySize > MAX_HASH_KEY_SIZE) {
                    throw new InvalidSpecException(what, "keySize", keySize + " is too large: at most "
                            + MAX_HASH_KEY_SIZE + " bytes (a key must fit on the BPF stack)");
                }
                requirePositiveValue(what);
            }
            default -> {
                if (type.isIndexed()) {
                    requireKeySize(what, 4);
                } else if (keySize == 0) {
                    throw new InvalidSpecException(what, "keySize", "0 must be positive");
                }
                requirePositiveValue(what);
            }
        }
        int maxValue = type.isPerCpu() ? MAX_PERCPU_VALUE_SIZE : MAX_VALUE_SIZE;
        if (valueSize > maxValue) {
            throw new InvalidSpecException(what, "valueSize", valueSize + " is too large: at most " + maxValue
                    + " bytes for " + type.kernelName());
        }
        if (innerMap != null && !type.isMapOfMaps()) {
            throw new InvalidSpecException(what, "innerMap", "only array_of_maps and hash_of_maps take an inner map");
        }
        int known = MapFlags.NO_PREALLOC | MapFlags.NO_COMMON_LRU | MapFlags.RDONLY | MapFlags.WRONLY
                | MapFlags.ZERO_SEED | MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG | MapFlags.MMAPABLE
                | MapFlags.PRESERVE_ELEMS | MapFlags.INNER_MAP | 4 /* NUMA_NODE */;
        if ((flags & ~known) != 0) {
            throw new InvalidSpecException(what, "flags", String.format("unknown bits 0x%x", flags & ~known));
        }
        if ((flags & MapFlags.MMAPABLE) != 0 && type != MapType.ARRAY) {
            throw new InvalidSpecException(what, "flags", "MMAPABLE applies only to array maps");
        }
        if ((flags & MapFlags.NO_PREALLOC) != 0 && (type == MapType.ARRAY || type == MapType.PERCPU_ARRAY
                || type == MapType.LRU_HASH || type == MapType.LRU_PERCPU_HASH)) {
            throw new InvalidSpecException(what, "flags", "NO_PREALLOC is not allowed for " + type.kernelName());
        }
        if ((flags & MapFlags.NO_COMMON_LRU) != 0 && type != MapType.LRU_HASH && type != MapType.LRU_PERCPU_HASH) {
            throw new InvalidSpecException(what, "flags", "NO_COMMON_LRU applies only to LRU maps");
        }
    }

    private void requireKeySize(String what, int expected) {
        if (keySize != expected) {
            throw new InvalidSpecException(what, "keySize", keySize + " must be " + expected + " for " + type.kernelName());
        }
    }

    private void requireValueSize(String what, int expected) {
        if (valueSize != expected) {
            throw new InvalidSpecException(what, "valueSize", valueSize + " must be " + expected + " for " + type.kernelName());
        }
    }

    private void requirePositiveValue(String what) {
        if (valueSize == 0) {
            throw new InvalidSpecException(what, "valueSize", "0 must be positive");
        }
    }
}

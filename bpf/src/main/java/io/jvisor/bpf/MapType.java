package io.jvisor.bpf;

/** The kernel's map types (enum bpf_map_type) that jvisor knows. */
public enum MapType {
    HASH(1), ARRAY(2), PROG_ARRAY(3), PERF_EVENT_ARRAY(4), PERCPU_HASH(5), PERCPU_ARRAY(6), STACK_TRACE(7),
    CGROUP_ARRAY(8), LRU_HASH(9), LRU_PERCPU_HASH(10), LPM_TRIE(11), ARRAY_OF_MAPS(12), HASH_OF_MAPS(13),
    DEVMAP(14), SOCKMAP(15), CPUMAP(16), XSKMAP(17), SOCKHASH(18), CGROUP_STORAGE(19),
    REUSEPORT_SOCKARRAY(20), PERCPU_CGROUP_STORAGE(21), QUEUE(22), STACK(23), SK_STORAGE(24), DEVMAP_HASH(25),
    STRUCT_OPS(26), RINGBUF(27), INODE_STORAGE(28), TASK_STORAGE(29), BLOOM_FILTER(30), USER_RINGBUF(31),
    CGRP_STORAGE(32), ARENA(33);

    private final int value;

    MapType(int value) {
        this.value = value;
    }

    /** The kernel's enum value. */
    public int value() {
        return value;
    }

    /** The kernel-style lower-case name, e.g. {@code lru_hash}. */
    public String kernelName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The constant for a kernel enum value, or null. */
    public static MapType of(int value) {
        for (MapType t : values()) {
            if (t.value == value) {
                return t;
            }
        }
        return null;
    }

    /** True for the per-CPU types, whose values hold one slot per possible CPU. */
    public boolean isPerCpu() {
        return this == PERCPU_HASH || this == PERCPU_ARRAY || this == LRU_PERCPU_HASH || this == PERCPU_CGROUP_STORAGE;
    }

    /** True for array-like types whose key is a u32 index below max_entries. */
    public boolean isIndexed() {
        return this == ARRAY || this == PERCPU_ARRAY || this == PROG_ARRAY || this == ARRAY_OF_MAPS
                || this == DEVMAP || this == CPUMAP || this == XSKMAP || this == PERF_EVENT_ARRAY
                || this == CGROUP_ARRAY || this == SOCKMAP || this == REUSEPORT_SOCKARRAY;
    }

    /** True for map-in-map types, whose values are fds of inner maps. */
    public boolean isMapOfMaps() {
        return this == ARRAY_OF_MAPS || this == HASH_OF_MAPS;
    }

    /** True for types that have no key: queue, stack, ring buffers, bloom filter. */
    public boolean isKeyless() {
        return this == QUEUE || this == STACK || this == RINGBUF || this == USER_RINGBUF || this == BLOOM_FILTER;
    }
}

package io.jvisor.bpf;

/** Flags of BPF_MAP_CREATE ({@code map_flags}). */
public final class MapFlags {
    private MapFlags() {}

    /** Allocate elements on demand; required by lpm_trie. */
    public static final int NO_PREALLOC = 1;
    /** LRU maps: one LRU list per CPU instead of a common one. */
    public static final int NO_COMMON_LRU = 1 << 1;
    /** User space may only read. */
    public static final int RDONLY = 1 << 3;
    /** User space may only write. */
    public static final int WRONLY = 1 << 4;
    /** Hash with a zero seed (tests only). */
    public static final int ZERO_SEED = 1 << 6;
    /** Programs may only read. */
    public static final int RDONLY_PROG = 1 << 7;
    /** Programs may only write. */
    public static final int WRONLY_PROG = 1 << 8;
    /** Array may be mmap()ed. */
    public static final int MMAPABLE = 1 << 10;
    /** prog_array entries survive the closing of the map's last user fd. */
    public static final int PRESERVE_ELEMS = 1 << 11;
    /** Inner map of a map-in-map may differ in max_entries. */
    public static final int INNER_MAP = 1 << 12;
}

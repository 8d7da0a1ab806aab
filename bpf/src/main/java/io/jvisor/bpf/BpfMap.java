package io.jvisor.bpf;

import io.jvisor.bpf.codec.Codec;
import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Kernel;
import io.jvisor.bpf.sys.Scratch;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A live map: a kernel object owned through one file descriptor. Created from a {@link MapSpec},
 * opened from a pin or an id, closed with {@link #close()}.
 *
 * <p>Two API levels: the {@link MemorySegment} methods ({@link #lookup(MemorySegment, MemorySegment)}
 * and friends) allocate nothing and are what hot paths use; the {@code byte[]} methods are for
 * convenience, and {@link #typed(Codec, Codec)} gives a view in records.
 *
 * <p>Per-CPU maps hold one value per possible CPU; their raw values are {@link #valueStride()}
 * bytes: each CPU's value padded to 8 bytes, one after the other.
 */
public final class BpfMap implements AutoCloseable {
    private final Fd fd;
    private final MapType type;
    private final String name;
    private final int keySize;
    private final int valueSize;
    private final int maxEntries;
    private final int flags;
    private final int id;
    private final int stride;
    private volatile boolean frozen;

    private BpfMap(Fd fd, MapInfo info) {
        this.fd = fd;
        this.type = info.type();
        this.name = info.name();
        this.keySize = info.keySize();
        this.valueSize = info.valueSize();
        this.maxEntries = info.maxEntries();
        this.flags = info.flags();
        this.id = info.id();
        this.stride = type != null && type.isPerCpu() ? align8(valueSize) * Cpus.possible() : valueSize;
    }

    /** A second descriptor of the same kernel object: what it is was read once already. */
    private BpfMap(Fd fd, BpfMap same) {
        this.fd = fd;
        this.type = same.type;
        this.name = same.name;
        this.keySize = same.keySize;
        this.valueSize = same.valueSize;
        this.maxEntries = same.maxEntries;
        this.flags = same.flags;
        this.id = same.id;
        this.stride = same.stride;
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }

    /**
     * Creates a map.
     *
     * @throws InvalidSpecException when the spec breaks a rule of its type
     * @throws BpfException when the kernel refuses it
     */
    public static BpfMap create(MapSpec spec) {
        return create(spec, BtfTypes.NONE);
    }

    /**
     * Creates a map whose key and value are described by BTF types (so that tools such as
     * {@code bpftool map dump} can print them).
     */
    public static BpfMap create(MapSpec spec, BtfTypes btf) {
        spec.validate();
        BpfMap inner = spec.innerMap() == null ? null : create(spec.innerMap());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.MapCreate.LAYOUT);
            attr.set(JAVA_INT, Attr.MapCreate.MAP_TYPE, spec.type().value());
            attr.set(JAVA_INT, Attr.MapCreate.KEY_SIZE, spec.keySize());
            attr.set(JAVA_INT, Attr.MapCreate.VALUE_SIZE, spec.valueSize());
            attr.set(JAVA_INT, Attr.MapCreate.MAX_ENTRIES, spec.maxEntries());
            attr.set(JAVA_INT, Attr.MapCreate.MAP_FLAGS, spec.flags());
            attr.set(JAVA_INT, Attr.MapCreate.INNER_MAP_FD, inner == null ? 0 : inner.fd.get());
            attr.set(JAVA_LONG, Attr.MapCreate.MAP_EXTRA, spec.mapExtra());
            Kernel.putName(attr, Attr.MapCreate.MAP_NAME, spec.name());
            if (btf.fd() > 0) {
                attr.set(JAVA_INT, Attr.MapCreate.BTF_FD, btf.fd());
                attr.set(JAVA_INT, Attr.MapCreate.BTF_KEY_TYPE_ID, btf.keyTypeId());
                attr.set(JAVA_INT, Attr.MapCreate.BTF_VALUE_TYPE_ID, btf.valueTypeId());
            }
            long r = Syscall.bpf(Attr.MAP_CREATE, attr, attr.byteSize());
            if (r < 0) {
                int errno = (int) -r;
                throw new BpfException("BPF_MAP_CREATE " + spec.type().kernelName() + " '" + spec.name() + "'", errno,
                        createHint(spec, errno));
            }
            Fd fd = Fd.adopt((int) r, "map '" + spec.name() + "' (" + spec.type().kernelName() + ")");
            try {
                return new BpfMap(fd, readInfo(fd));
            } catch (RuntimeException e) {
                fd.close();
                throw e;
            }
        } finally {
            if (inner != null) {
                inner.close();
            }
        }
    }

    private static String createHint(MapSpec spec, int errno) {
        return switch (Errno.name(errno)) {
            case "EINVAL" -> "the kernel refused the combination type=" + spec.type().kernelName() + " keySize="
                    + spec.keySize() + " valueSize=" + spec.valueSize() + " maxEntries=" + spec.maxEntries()
                    + String.format(" flags=0x%x", spec.flags());
            case "E2BIG" -> "keySize " + spec.keySize() + " or valueSize " + spec.valueSize() + " is too large for "
                    + spec.type().kernelName();
            case "ENOMEM" -> "cannot allocate " + spec.maxEntries() + " entries; lower maxEntries";
            default -> BpfException.defaultHint(errno);
        };
    }

    /** Opens the map pinned at {@code path}. It is the same kernel object as the one pinned. */
    public static BpfMap openPinned(Path path) {
        return adopt(Pins.open(path, "map"), "pinned map " + path);
    }

    /**
     * Opens the map with kernel id {@code id}. The kernel allows this only with CAP_SYS_ADMIN; to
     * keep a map of one's own, prefer {@link #duplicate()}.
     */
    public static BpfMap fromId(int id) {
        return adopt(Kernel.fdById(Attr.MAP_GET_FD_BY_ID, id, "map"), "map id " + id);
    }

    /**
     * A second owner of this map: a new descriptor of the same kernel object, closed on its own.
     * Unlike {@link #fromId}, which needs CAP_SYS_ADMIN, this needs no capability.
     */
    public BpfMap duplicate() {
        int raw = Syscall.dup(fd.get());
        if (raw < 0) {
            throw new BpfException("duplicate the descriptor of map '" + name + "'", -raw,
                    BpfException.defaultHint(-raw));
        }
        return new BpfMap(Fd.adopt(raw, "map '" + name + "' (id " + id + ")"), this);
    }

    private static BpfMap adopt(int rawFd, String description) {
        Fd fd = Fd.adopt(rawFd, description);
        try {
            return new BpfMap(fd, readInfo(fd));
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private static MapInfo readInfo(Fd fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment i = Kernel.info(fd.get(), arena.allocate(Attr.MapInfo.LAYOUT), "map");
            return new MapInfo(MapType.of(i.get(JAVA_INT, Attr.MapInfo.TYPE)), i.get(JAVA_INT, Attr.MapInfo.ID),
                    Kernel.getName(i, Attr.MapInfo.NAME, 16), i.get(JAVA_INT, Attr.MapInfo.KEY_SIZE),
                    i.get(JAVA_INT, Attr.MapInfo.VALUE_SIZE), i.get(JAVA_INT, Attr.MapInfo.MAX_ENTRIES),
                    i.get(JAVA_INT, Attr.MapInfo.MAP_FLAGS), i.get(JAVA_INT, Attr.MapInfo.BTF_ID),
                    i.get(JAVA_INT, Attr.MapInfo.BTF_KEY_TYPE_ID), i.get(JAVA_INT, Attr.MapInfo.BTF_VALUE_TYPE_ID));
        }
    }

    /** Fresh information from the kernel. */
    public MapInfo info() {
        return readInfo(fd);
    }

    /** The owned descriptor. */
    public Fd fd() {
        return fd;
    }

    /** The map type. */
    public MapType type() {
        return type;
    }

    /** The object name. */
    public String name() {
        return name;
    }

    /** The kernel id. */
    public int id() {
        return id;
    }

    /** Key size in bytes. */
    public int keySize() {
        return keySize;
    }

    /** Value size in bytes (of one CPU's value, for per-CPU maps). */
    public int valueSize() {
        return valueSize;
    }

    /** Bytes of a raw value as the syscall sees it: valueSize, or 8-aligned valueSize times possible CPUs. */
    public int valueStride() {
        return stride;
    }

    /** Capacity. */
    public int maxEntries() {
        return maxEntries;
    }

    /** Creation flags. */
    public int flags() {
        return flags;
    }

    private String what() {
        return (type == null ? "map" : type.kernelName()) + " '" + name + "'";
    }

    // ---- raw, allocation-free element operations -------------------------------------------

    private long elem(int cmd, MemorySegment key, MemorySegment value, long flagsArg) {
        MemorySegment attr = Scratch.get().attr(Attr.MapElem.LAYOUT.byteSize());
        attr.set(JAVA_INT, Attr.MapElem.MAP_FD, fd.get());
        attr.set(JAVA_LONG, Attr.MapElem.KEY, key == null ? 0 : key.address());
        attr.set(JAVA_LONG, Attr.MapElem.VALUE, value == null ? 0 : value.address());
        attr.set(JAVA_LONG, Attr.MapElem.FLAGS, flagsArg);
        return Syscall.bpf(cmd, attr, Attr.MapElem.LAYOUT.byteSize());
    }

    /**
     * Looks up {@code key} into {@code value} ({@link #valueStride()} bytes).
     *
     * @return false when the key is absent
     */
    public boolean lookup(MemorySegment key, MemorySegment value) {
        long r = elem(Attr.MAP_LOOKUP_ELEM, key, value, 0);
        if (r == -Errno.ENOENT.number()) {
            return false;
        }
        check(r, "BPF_MAP_LOOKUP_ELEM", key, UpdateFlag.ANY);
        return true;
    }

    /** Creates or replaces per {@code flag}. */
    public void update(MemorySegment key, MemorySegment value, UpdateFlag flag) {
        check(elem(Attr.MAP_UPDATE_ELEM, key, value, flag.value()), "BPF_MAP_UPDATE_ELEM", key, flag);
    }

    /**
     * Deletes {@code key}.
     *
     * @return false when it was absent
     */
    public boolean delete(MemorySegment key) {
        long r = elem(Attr.MAP_DELETE_ELEM, key, null, 0);
        if (r == -Errno.ENOENT.number()) {
            return false;
        }
        check(r, "BPF_MAP_DELETE_ELEM", key, UpdateFlag.ANY);
        return true;
    }

    private void check(long r, String op, MemorySegment key, UpdateFlag flag) {
        if (r >= 0) {
            return;
        }
        int errno = (int) -r;
        String keyText = key == null ? "" : " key " + hex(key.asSlice(0, keySize).toArray(JAVA_BYTE));
        String hint = switch (Errno.name(errno)) {
            case "EEXIST" -> "the key is present and NOEXIST was given";
            case "ENOENT" -> flag == UpdateFlag.EXIST ? "the key is absent and EXIST was given" : "the key is absent";
            case "E2BIG" -> type != null && type.isIndexed()
                    ? "the index is out of range: " + what() + " has maxEntries " + maxEntries
                    : "the map is full (maxEntries " + maxEntries + ")";
            case "EINVAL" -> "the kernel refused the arguments (flags " + flag + ") for " + what();
            case "ENOTSUPP", "ENOTSUP" -> "this operation is not supported on " + what();
            case "EPERM" -> isFrozen() ? what() + " is frozen: user space may no longer write it"
                    : (flags & (MapFlags.RDONLY | MapFlags.WRONLY)) != 0 ? what() + " was created read-only or write-only for user space"
                    : BpfException.defaultHint(errno) + " (or the map was frozen by another process)";
            default -> BpfException.defaultHint(errno);
        };
        throw new BpfException(op + " " + what() + keyText, errno, hint);
    }

    private boolean isFrozen() {
        return frozen;
    }

    // ---- byte[] convenience ---------------------------------------------------------------

    private void checkKey(byte[] key) {
        if (key.length != keySize) {
            throw new IllegalArgumentException("key of " + what() + " must be " + keySize + " bytes, got " + key.length);
        }
        if (type != null && type.isIndexed()) {
            long index = Integer.toUnsignedLong(ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getInt());
            if (index >= maxEntries) {
                throw new BpfException("access " + what() + " index " + index, Errno.E2BIG.number(),
                        "the index is out of range: " + what() + " has maxEntries " + maxEntries);
            }
        }
    }

    private void checkValue(byte[] value, int expected) {
        if (value.length != expected) {
            throw new IllegalArgumentException("value of " + what() + " must be " + expected + " bytes, got " + value.length);
        }
    }

    private MemorySegment keyIn(MemorySegment data, byte[] key) {
        MemorySegment k = data.asSlice(0, Math.max(keySize, 1));
        if (key != null) {
            MemorySegment.copy(key, 0, k, JAVA_BYTE, 0, key.length);
        }
        return k;
    }

    private MemorySegment valueArea(MemorySegment data) {
        return data.asSlice(align8(Math.max(keySize, 1)), Math.max(stride, 1));
    }

    private MemorySegment scratch() {
        return Scratch.get().data(align8(Math.max(keySize, 1)) + Math.max(stride, 1) + 8L);
    }

    /** The value stored under {@code key}, or empty. For per-CPU maps use {@link #lookupPerCpu}. */
    public Optional<byte[]> lookup(byte[] key) {
        checkKey(key);
        MemorySegment data = scratch();
        MemorySegment v = valueArea(data);
        if (!lookup(keyIn(data, key), v)) {
            return Optional.empty();
        }
        return Optional.of(v.asSlice(0, stride).toArray(JAVA_BYTE));
    }

    /** Creates or replaces the value under {@code key}. */
    public void update(byte[] key, byte[] value) {
        update(key, value, UpdateFlag.ANY);
    }

    /** Stores {@code value} under {@code key} per {@code flag}. */
    public void update(byte[] key, byte[] value, UpdateFlag flag) {
        checkKey(key);
        checkValue(value, stride);
        MemorySegment data = scratch();
        MemorySegment v = valueArea(data);
        MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
        update(keyIn(data, key), v, flag);
    }

    /** Deletes {@code key}; returns false when absent. */
    public boolean delete(byte[] key) {
        checkKey(key);
        return delete(keyIn(scratch(), key));
    }

    /** Atomically reads and removes {@code key} (hash maps; for queue and stack use {@link #pop()}). */
    public Optional<byte[]> lookupAndDelete(byte[] key) {
        checkKey(key);
        MemorySegment data = scratch();
        MemorySegment v = valueArea(data);
        long r = elem(Attr.MAP_LOOKUP_AND_DELETE_ELEM, keyIn(data, key), v, 0);
        if (r == -Errno.ENOENT.number()) {
            return Optional.empty();
        }
        check(r, "BPF_MAP_LOOKUP_AND_DELETE_ELEM", keyIn(data, key), UpdateFlag.ANY);
        return Optional.of(v.asSlice(0, stride).toArray(JAVA_BYTE));
    }

    /** Queue and stack: pushes a value. */
    public void push(byte[] value) {
        checkValue(value, valueSize);
        MemorySegment data = scratch();
        MemorySegment v = valueArea(data);
        MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
        check(elem(Attr.MAP_UPDATE_ELEM, null, v, 0), "push to", null, UpdateFlag.ANY);
    }

    /** Queue and stack: removes and returns the next value, or empty. */
    public Optional<byte[]> pop() {
        return popOrPeek(Attr.MAP_LOOKUP_AND_DELETE_ELEM);
    }

    /** Queue and stack: returns the next value without removing it, or empty. */
    public Optional<byte[]> peek() {
        return popOrPeek(Attr.MAP_LOOKUP_ELEM);
    }

    private Optional<byte[]> popOrPeek(int cmd) {
        MemorySegment v = valueArea(scratch());
        long r = elem(cmd, null, v, 0);
        if (r == -Errno.ENOENT.number()) {
            return Optional.empty();
        }
        check(r, "pop from", null, UpdateFlag.ANY);
        return Optional.of(v.asSlice(0, valueSize).toArray(JAVA_BYTE));
    }

    /** Bloom filter: true when {@code value} may have been pushed, false when it certainly was not. */
    public boolean mightContain(byte[] value) {
        checkValue(value, valueSize);
        MemorySegment v = valueArea(scratch());
        MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
        long r = elem(Attr.MAP_LOOKUP_ELEM, null, v, 0);
        if (r == -Errno.ENOENT.number()) {
            return false;
        }
        check(r, "bloom filter lookup in", null, UpdateFlag.ANY);
        return true;
    }

    /** Per-CPU maps: the value of each possible CPU, in CPU order. */
    public Optional<List<byte[]>> lookupPerCpu(byte[] key) {
        requirePerCpu();
        return lookup(key).map(this::splitPerCpu);
    }

    /** Per-CPU maps: stores one value per possible CPU. */
    public void updatePerCpu(byte[] key, List<byte[]> values, UpdateFlag flag) {
        requirePerCpu();
        if (values.size() != Cpus.possible()) {
            throw new IllegalArgumentException(what() + " needs one value per possible CPU (" + Cpus.possible()
                    + "), got " + values.size());
        }
        byte[] raw = new byte[stride];
        int slot = align8(valueSize);
        for (int i = 0; i < values.size(); i++) {
            checkValue(values.get(i), valueSize);
            System.arraycopy(values.get(i), 0, raw, i * slot, valueSize);
        }
        update(key, raw, flag);
    }

    private List<byte[]> splitPerCpu(byte[] raw) {
        int slot = align8(valueSize);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < Cpus.possible(); i++) {
            byte[] v = new byte[valueSize];
            System.arraycopy(raw, i * slot, v, 0, valueSize);
            out.add(v);
        }
        return out;
    }

    private void requirePerCpu() {
        if (type == null || !type.isPerCpu()) {
            throw new UnsupportedOperationException(what() + " is not a per-CPU map");
        }
    }

    /** The key after {@code key} in the kernel's iteration order; {@code null} gives the first key. */
    public Optional<byte[]> nextKey(byte[] key) {
        if (key != null && key.length != keySize) {
            throw new IllegalArgumentException("key of " + what() + " must be " + keySize + " bytes, got " + key.length);
        }
        MemorySegment data = scratch();
        MemorySegment k = key == null ? null : keyIn(data, key);
        MemorySegment next = valueArea(data).asSlice(0, keySize);
        long r = elem(Attr.MAP_GET_NEXT_KEY, k, next, 0);
        if (r == -Errno.ENOENT.number()) {
            return Optional.empty();
        }
        check(r, "BPF_MAP_GET_NEXT_KEY", k, UpdateFlag.ANY);
        return Optional.of(next.toArray(JAVA_BYTE));
    }

    /**
     * The keys, by BPF_MAP_GET_NEXT_KEY. Iterating a map that others modify concurrently may skip
     * or repeat keys (a kernel property); batch lookups are the better tool for snapshots.
     */
    public Iterable<byte[]> keys() {
        return () -> new Iterator<>() {
            private byte[] next = nextKey(null).orElse(null);

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public byte[] next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                byte[] k = next;
                next = nextKey(k).orElse(null);
                return k;
            }
        };
    }

    // ---- map-in-map and program arrays ------------------------------------------------------

    /** Map-in-map: stores {@code inner} under {@code key}. */
    public void setInner(byte[] key, BpfMap inner) {
        update(key, intBytes(inner.fd.get()));
    }

    /** Map-in-map: the id of the inner map under {@code key}, or empty. */
    public Optional<Integer> innerId(byte[] key) {
        return lookup(key).map(BpfMap::intOf);
    }

    /** Program array: stores {@code program} at {@code index}. */
    public void setProgram(int index, BpfProgram program) {
        update(intBytes(index), intBytes(program.fd().get()));
    }

    /** Program array: the id of the program at {@code index}, or empty. */
    public Optional<Integer> programId(int index) {
        return lookup(intBytes(index)).map(BpfMap::intOf);
    }

    static byte[] intBytes(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static int intOf(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    // ---- batch operations ----------------------------------------------------------------

    /** One key/value pair as raw bytes. */
    public record Entry(byte[] key, byte[] value) {}

    /**
     * Reads every entry with BPF_MAP_LOOKUP_BATCH, {@code chunk} entries per syscall.
     */
    public List<Entry> lookupBatch(int chunk) {
        return batchRead(Attr.MAP_LOOKUP_BATCH, chunk);
    }

    /** Reads and removes every entry with BPF_MAP_LOOKUP_AND_DELETE_BATCH. */
    public List<Entry> lookupAndDeleteBatch(int chunk) {
        return batchRead(Attr.MAP_LOOKUP_AND_DELETE_BATCH, chunk);
    }

    private List<Entry> batchRead(int cmd, int chunk) {
        if (chunk <= 0) {
            throw new IllegalArgumentException("chunk must be positive, got " + chunk);
        }
        List<Entry> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            // The batch cursor is opaque; hash maps use a u32 bucket, others a key. Make room for either.
            long tokenSize = Math.max(keySize, 8);
            MemorySegment in = arena.allocate(tokenSize, 8);
            MemorySegment outToken = arena.allocate(tokenSize, 8);
            MemorySegment keys = arena.allocate((long) keySize * chunk, 8);
            MemorySegment values = arena.allocate((long) stride * chunk, 8);
            MemorySegment attr = arena.allocate(Attr.Batch.LAYOUT);
            boolean first = true;
            while (true) {
                attr.fill((byte) 0);
                attr.set(JAVA_LONG, Attr.Batch.IN_BATCH, first ? 0 : in.address());
                attr.set(JAVA_LONG, Attr.Batch.OUT_BATCH, outToken.address());
                attr.set(JAVA_LONG, Attr.Batch.KEYS, keys.address());
                attr.set(JAVA_LONG, Attr.Batch.VALUES, values.address());
                attr.set(JAVA_INT, Attr.Batch.COUNT, chunk);
                attr.set(JAVA_INT, Attr.Batch.MAP_FD, fd.get());
                long r = Syscall.bpf(cmd, attr, attr.byteSize());
                int count = attr.get(JAVA_INT, Attr.Batch.COUNT);
                if (r == -Errno.ENOSPC.number() && count == 0) {
                    // One hash bucket holds more entries than the chunk: retry this position with more room.
                    chunk *= 2;
                    keys = arena.allocate((long) keySize * chunk, 8);
                    values = arena.allocate((long) stride * chunk, 8);
                    continue;
                }
                if (r < 0 && r != -Errno.ENOENT.number()) {
                    check(r, cmd == Attr.MAP_LOOKUP_BATCH ? "BPF_MAP_LOOKUP_BATCH" : "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
                            null, UpdateFlag.ANY);
                }
                for (int i = 0; i < count; i++) {
                    out.add(new Entry(keys.asSlice((long) i * keySize, keySize).toArray(JAVA_BYTE),
                            values.asSlice((long) i * stride, stride).toArray(JAVA_BYTE)));
                }
                if (r < 0) {
                    return out; // ENOENT: the walk is complete
                }
                MemorySegment.copy(outToken, 0, in, 0, tokenSize);
                first = false;
            }
        }
    }

    /**
     * Stores many entries with one BPF_MAP_UPDATE_BATCH; returns how many were stored. The kernel's
     * batch update has no NOEXIST/EXIST semantics, so {@code flag} must be {@link UpdateFlag#ANY}.
     */
    public int updateBatch(List<byte[]> keys, List<byte[]> values, UpdateFlag flag) {
        if (keys.size() != values.size()) {
            throw new IllegalArgumentException(keys.size() + " keys but " + values.size() + " values");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(Math.max(1, (long) keySize * keys.size()), 8);
            MemorySegment v = arena.allocate(Math.max(1, (long) stride * keys.size()), 8);
            for (int i = 0; i < keys.size(); i++) {
                checkKey(keys.get(i));
                checkValue(values.get(i), stride);
                MemorySegment.copy(keys.get(i), 0, k, JAVA_BYTE, (long) i * keySize, keySize);
                MemorySegment.copy(values.get(i), 0, v, JAVA_BYTE, (long) i * stride, stride);
            }
            return updateBatch(k, v, keys.size(), flag);
        }
    }

    /**
     * Stores {@code count} entries laid out back to back in {@code keys} and {@code values}.
     *
     * @return how many were stored
     */
    public int updateBatch(MemorySegment keys, MemorySegment values, int count, UpdateFlag flag) {
        if (flag != UpdateFlag.ANY) {
            throw new IllegalArgumentException("batch updates of " + what() + " support only UpdateFlag.ANY: the kernel "
                    + "takes no NOEXIST/EXIST for BPF_MAP_UPDATE_BATCH");
        }
        MemorySegment attr = Scratch.get().attr(Attr.Batch.LAYOUT.byteSize());
        attr.set(JAVA_LONG, Attr.Batch.KEYS, keys.address());
        attr.set(JAVA_LONG, Attr.Batch.VALUES, values.address());
        attr.set(JAVA_INT, Attr.Batch.COUNT, count);
        attr.set(JAVA_INT, Attr.Batch.MAP_FD, fd.get());
        attr.set(JAVA_LONG, Attr.Batch.ELEM_FLAGS, flag.value());
        long r = Syscall.bpf(Attr.MAP_UPDATE_BATCH, attr, Attr.Batch.LAYOUT.byteSize());
        int done = attr.get(JAVA_INT, Attr.Batch.COUNT);
        check(r, "BPF_MAP_UPDATE_BATCH (" + done + " of " + count + " entries stored before the failure)", null, flag);
        return done;
    }

    /**
     * The outcome of one {@link #lookupBatch(MemorySegment, MemorySegment, MemorySegment, MemorySegment, int)}
     * call.
     *
     * @param count entries written to the key and value buffers
     * @param last true when the walk is complete (the kernel answered ENOENT); a short batch alone does
     *     not mean that: hash maps return whole buckets and often fewer entries than asked for
     */
    public record BatchChunk(int count, boolean last) {}

    /**
     * Reads up to {@code count} entries in one BPF_MAP_LOOKUP_BATCH call, continuing from the
     * cursor in {@code inToken} (or from the start when it is null) and leaving the next cursor in
     * {@code outToken} (at least 8 bytes, or keySize if larger). Copy {@code outToken} into
     * {@code inToken} before the next call, until a chunk is {@link BatchChunk#last() last}.
     *
     * @throws BpfException with ENOSPC when one hash bucket holds more than {@code count} entries
     */
    public BatchChunk lookupBatch(MemorySegment inToken, MemorySegment outToken, MemorySegment keys,
                                  MemorySegment values, int count) {
        MemorySegment attr = Scratch.get().attr(Attr.Batch.LAYOUT.byteSize());
        attr.set(JAVA_LONG, Attr.Batch.IN_BATCH, inToken == null ? 0 : inToken.address());
        attr.set(JAVA_LONG, Attr.Batch.OUT_BATCH, outToken.address());
        attr.set(JAVA_LONG, Attr.Batch.KEYS, keys.address());
        attr.set(JAVA_LONG, Attr.Batch.VALUES, values.address());
        attr.set(JAVA_INT, Attr.Batch.COUNT, count);
        attr.set(JAVA_INT, Attr.Batch.MAP_FD, fd.get());
        long r = Syscall.bpf(Attr.MAP_LOOKUP_BATCH, attr, Attr.Batch.LAYOUT.byteSize());
        int done = attr.get(JAVA_INT, Attr.Batch.COUNT);
        if (r == -Errno.ENOENT.number()) {
            return new BatchChunk(done, true);
        }
        if (r == -Errno.ENOSPC.number()) {
            throw new BpfException("BPF_MAP_LOOKUP_BATCH " + what(), Errno.ENOSPC.number(),
                    "a hash bucket holds more than " + count + " entries; use a larger batch");
        }
        check(r, "BPF_MAP_LOOKUP_BATCH", null, UpdateFlag.ANY);
        return new BatchChunk(done, false);
    }

    /** Deletes many keys with one BPF_MAP_DELETE_BATCH; returns how many were deleted. */
    public int deleteBatch(List<byte[]> keys) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(Math.max(1, (long) keySize * keys.size()), 8);
            for (int i = 0; i < keys.size(); i++) {
                checkKey(keys.get(i));
                MemorySegment.copy(keys.get(i), 0, k, JAVA_BYTE, (long) i * keySize, keySize);
            }
            MemorySegment attr = arena.allocate(Attr.Batch.LAYOUT);
            attr.set(JAVA_LONG, Attr.Batch.KEYS, k.address());
            attr.set(JAVA_INT, Attr.Batch.COUNT, keys.size());
            attr.set(JAVA_INT, Attr.Batch.MAP_FD, fd.get());
            long r = Syscall.bpf(Attr.MAP_DELETE_BATCH, attr, attr.byteSize());
            int done = attr.get(JAVA_INT, Attr.Batch.COUNT);
            check(r, "BPF_MAP_DELETE_BATCH (" + done + " of " + keys.size() + " deleted)", null, UpdateFlag.ANY);
            return done;
        }
    }

    // ---- whole-map operations ----------------------------------------------------------------

    /** Makes the map read-only for user space (programs may still write unless RDONLY_PROG). */
    public void freeze() {
        MemorySegment attr = Scratch.get().attr(Attr.SingleFd.LAYOUT.byteSize());
        attr.set(JAVA_INT, Attr.SingleFd.FD, fd.get());
        Kernel.call(Attr.MAP_FREEZE, attr, "BPF_MAP_FREEZE " + what());
        frozen = true;
    }

    /** Pins the map at {@code path} under bpffs. */
    public void pin(Path path) {
        Pins.pin(fd, path, what());
    }

    /** A typed view through key and value codecs. */
    public <K, V> TypedMap<K, V> typed(Codec<K> keyCodec, Codec<V> valueCodec) {
        return new TypedMap<>(this, keyCodec, valueCodec);
    }

    /** Closes the descriptor. The kernel frees the map when nothing else references it. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return what() + " id " + id;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }
}

package io.jvisor.bpf.elf;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.MapFlags;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The global variables of a loaded object, read and written in place through memory mappings of
 * its global data maps (they are created mmapable), as libbpf skeletons do: no syscall per access.
 * {@code .rodata} is frozen, so it is mapped read-only. Owned by its {@link Collection}, which
 * unmaps everything when closed.
 */
public final class GlobalVariables {
    private static final long PAGE = 4096;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Map<String, CollectionSpec.Variable> byName = new HashMap<>();
    private final Map<String, BpfMap> maps;
    private final Map<String, MemorySegment> mapped = new HashMap<>();

    GlobalVariables(CollectionSpec spec, Map<String, BpfMap> maps) {
        this.maps = maps;
        for (CollectionSpec.Variable v : spec.variables()) {
            byName.putIfAbsent(v.name(), v);
        }
    }

    /** The variables, as the object's BTF describes them. */
    public List<CollectionSpec.Variable> list() {
        return byName.values().stream().sorted(java.util.Comparator.comparing(CollectionSpec.Variable::section)
                .thenComparingInt(CollectionSpec.Variable::offset)).toList();
    }

    /**
     * The live memory of variable {@code name}: reads see what programs wrote, writes are seen by
     * programs (except {@code .rodata}, which is read-only).
     *
     * @throws NoSuchElementException when the object has no such variable
     */
    public synchronized MemorySegment segment(String name) {
        CollectionSpec.Variable v = byName.get(name);
        if (v == null) {
            throw new NoSuchElementException("no global variable '" + name + "' (variables: " + byName.keySet() + ")");
        }
        MemorySegment m = mapped.get(v.section());
        if (m == null) {
            BpfMap map = maps.get(v.section());
            if ((map.flags() & MapFlags.MMAPABLE) == 0) {
                throw new BpfException("mmap " + map, 0, "the map was not created mmapable (a replacement map?)");
            }
            boolean readOnly = v.section().startsWith(".rodata");
            long length = (map.valueSize() + PAGE - 1) / PAGE * PAGE;
            m = Syscall.mmap(length, readOnly ? Syscall.PROT_READ : Syscall.PROT_READ | Syscall.PROT_WRITE,
                    Syscall.MAP_SHARED, map.fd().get(), 0);
            if (Syscall.mmapFailed(m)) {
                int errno = (int) -m.address();
                throw new BpfException("mmap " + map, errno, BpfException.defaultHint(errno));
            }
            if (readOnly) {
                m = m.asReadOnly();
            }
            mapped.put(v.section(), m);
        }
        return m.asSlice(v.offset(), v.size());
    }

    /** The bytes of variable {@code name}. */
    public byte[] get(String name) {
        return segment(name).toArray(ValueLayout.JAVA_BYTE);
    }

    /** An integer variable of 1, 2, 4 or 8 bytes, zero-extended. */
    public long getLong(String name) {
        MemorySegment s = segment(name);
        return switch ((int) s.byteSize()) {
            case 1 -> Byte.toUnsignedLong(s.get(ValueLayout.JAVA_BYTE, 0));
            case 2 -> Short.toUnsignedLong(s.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
            case 4 -> Integer.toUnsignedLong(s.get(U32, 0));
            case 8 -> s.get(U64, 0);
            default -> throw new IllegalArgumentException("'" + name + "' is " + s.byteSize() + " bytes, not an integer");
        };
    }

    /** Writes an integer variable of 1, 2, 4 or 8 bytes (not in {@code .rodata}). */
    public void setLong(String name, long value) {
        MemorySegment s = segment(name);
        switch ((int) s.byteSize()) {
            case 1 -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) value);
            case 2 -> s.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, (short) value);
            case 4 -> s.set(U32, 0, (int) value);
            case 8 -> s.set(U64, 0, value);
            default -> throw new IllegalArgumentException("'" + name + "' is " + s.byteSize() + " bytes, not an integer");
        }
    }

    /** Writes the bytes of variable {@code name} (exactly its size; not in {@code .rodata}). */
    public void set(String name, byte[] value) {
        MemorySegment s = segment(name);
        if (value.length != s.byteSize()) {
            throw new IllegalArgumentException("'" + name + "' is " + s.byteSize() + " bytes, not " + value.length);
        }
        MemorySegment.copy(value, 0, s, ValueLayout.JAVA_BYTE, 0, value.length);
    }

    synchronized void unmapAll() {
        for (MemorySegment m : mapped.values()) {
            Syscall.munmap(m);
        }
        mapped.clear();
    }
}

package io.jvisor.bpf.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Per-thread native scratch memory for the hot paths (map element operations), so that a lookup
 * or update allocates nothing. Each thread gets an attr buffer and a key/value area that grows on
 * demand. Callers must not hold on to a scratch segment across calls.
 */
public final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private final Arena arena = Arena.ofAuto();
    /** Large enough for every attr jvisor sends. */
    public final MemorySegment attr = arena.allocate(256, 8);
    private MemorySegment data = arena.allocate(256, 8);

    private Scratch() {}

    /** The calling thread's scratch. */
    public static Scratch get() {
        return LOCAL.get();
    }

    /** The attr buffer with its first {@code size} bytes zeroed. */
    public MemorySegment attr(long size) {
        return attr.asSlice(0, size).fill((byte) 0);
    }

    /** A data area of at least {@code size} bytes; contents undefined. */
    public MemorySegment data(long size) {
        if (data.byteSize() < size) {
            data = arena.allocate(Math.max(size, data.byteSize() * 2), 8);
        }
        return data;
    }
}

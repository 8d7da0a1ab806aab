package io.jvisor.bpf.codec;

import java.lang.foreign.MemorySegment;

/**
 * Turns a Java value into the fixed-size bytes a map key or value holds, and back. Codecs are
 * small and composable; {@link Codecs} has the primitive ones and a record codec.
 *
 * @param <T> the Java type
 */
public interface Codec<T> {
    /** Bytes of the encoded form. */
    int size();

    /** Writes {@code value} at {@code offset}. */
    void encode(T value, MemorySegment out, long offset);

    /** Reads a value at {@code offset}. */
    T decode(MemorySegment in, long offset);

    /** Encodes into a new array. */
    default byte[] toBytes(T value) {
        byte[] b = new byte[size()];
        encode(value, MemorySegment.ofArray(b), 0);
        return b;
    }

    /** Decodes from an array of exactly {@link #size()} bytes. */
    default T fromBytes(byte[] bytes) {
        if (bytes.length != size()) {
            throw new IllegalArgumentException("expected " + size() + " bytes, got " + bytes.length);
        }
        return decode(MemorySegment.ofArray(bytes), 0);
    }
}

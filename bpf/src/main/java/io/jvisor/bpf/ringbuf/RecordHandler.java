package io.jvisor.bpf.ringbuf;

import java.lang.foreign.MemorySegment;

/**
 * Receives the records of a ring buffer, one call per record, without copying.
 *
 * <p>The segment is a read-only slice of the ring buffer mapping. It is valid only for the duration
 * of the call: as soon as the handler returns, the kernel may overwrite those bytes with a new
 * record. Copy out whatever must outlive the call. Reading the slice after the reader is closed
 * throws {@link IllegalStateException} rather than touching unmapped memory.
 *
 * <p>Each call creates a slice object, which the JIT usually removes when the handler inlines; for
 * a guarantee of no allocation per record, use {@link RawRecordHandler}.
 */
@FunctionalInterface
public interface RecordHandler {
    /**
     * Called for one committed, non-discarded record.
     *
     * @param record the record's payload, exactly as long as the BPF program wrote it; read-only
     */
    void onRecord(MemorySegment record);
}

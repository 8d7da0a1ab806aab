package io.jvisor.bpf.ringbuf;

import java.lang.foreign.MemorySegment;

/**
 * Receives the records of a ring buffer as positions in the mapped data area, so that consuming a
 * record allocates nothing at all. This is the hot-path form of {@link RecordHandler}.
 *
 * <p>{@code ring} is the same read-only segment for every record of a reader: the data area mapped
 * twice in a row, so that bytes {@code [offset, offset + length)} are always contiguous even when
 * the record wraps around the end of the ring. Those bytes are valid only during the call; the
 * kernel may reuse them as soon as the handler returns.
 */
@FunctionalInterface
public interface RawRecordHandler {
    /**
     * Called for one committed, non-discarded record.
     *
     * @param ring the read-only data mapping (twice the ring size)
     * @param offset where the record's payload starts in {@code ring}
     * @param length the payload length in bytes, exactly as the BPF program wrote it
     */
    void onRecord(MemorySegment ring, long offset, int length);
}

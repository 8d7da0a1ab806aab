package io.jvisor.modules.capture;

import io.jvisor.bpf.BpfMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A capture point's kernel counters (summed over CPUs), counted only while a session is active.
 *
 * @param seen frames that entered a captured port
 * @param matched of those, frames the filter matched
 * @param captured records written to the ring buffer
 * @param lost matched frames whose record did not fit in the ring buffer (the reader fell behind)
 * @param lostBytes the wire bytes of the lost frames
 * @param errors matched frames whose bytes could not be read from the packet
 */
public record CaptureStats(long seen, long matched, long captured, long lost, long lostBytes, long errors) {
    /** All zero. */
    public static final CaptureStats ZERO = new CaptureStats(0, 0, 0, 0, 0, 0);

    /** Reads the {@code cap_stats} map of a capture instance. */
    public static CaptureStats read(BpfMap stats) {
        long[] v = new long[6];
        for (int i = 0; i < v.length; i++) {
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i).array();
            List<byte[]> perCpu = stats.lookupPerCpu(key).orElseThrow();
            for (byte[] b : perCpu) {
                v[i] += ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            }
        }
        return new CaptureStats(v[0], v[1], v[2], v[3], v[4], v[5]);
    }

    /** These counters minus an earlier reading. */
    public CaptureStats minus(CaptureStats o) {
        return new CaptureStats(seen - o.seen, matched - o.matched, captured - o.captured, lost - o.lost,
                lostBytes - o.lostBytes, errors - o.errors);
    }
}

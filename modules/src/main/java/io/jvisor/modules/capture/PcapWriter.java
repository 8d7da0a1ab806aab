package io.jvisor.modules.capture;

import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes frames in the classic libpcap file format (not pcapng), link type
 * {@code LINKTYPE_ETHERNET} (1), little-endian, which {@code tcpdump -r}, Wireshark and tshark read.
 * Nanosecond timestamps by default (magic {@code 0xa1b23c4d}); microsecond ones (magic
 * {@code 0xa1b2c3d4}) for older readers.
 *
 * <p>The output is any {@link OutputStream}: a file, or a pipe for live streaming (for example
 * standard output into {@code tcpdump -r -}). The writer buffers 256 KiB itself (the stream needs no
 * buffering of its own); the file header is written at once, and {@link #flush()} pushes the
 * frames written so far to the stream, which a live reader needs. Not thread-safe: one writer thread.
 */
public final class PcapWriter implements Closeable, Flushable {
    /** Timestamp resolution of the file. */
    public enum Precision {
        /** Magic 0xa1b2c3d4: seconds and microseconds. */
        MICROSECONDS,
        /** Magic 0xa1b23c4d: seconds and nanoseconds. */
        NANOSECONDS
    }

    /** LINKTYPE_ETHERNET. */
    public static final int LINKTYPE_ETHERNET = 1;
    private static final int RECORD_HEADER = 16;

    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int BUFFER = 1 << 18;

    private final OutputStream out;
    private final Precision precision;
    private final int snaplen;
    // our own buffer: record header and frame bytes go straight into it, one copy from the ring
    private final byte[] buf = new byte[BUFFER];
    private int pos;
    private long packets;
    private long bytes;
    private boolean closed;

    /**
     * Starts a pcap stream on {@code out}: writes the file header at once.
     *
     * @param out where to write; closed by {@link #close()}
     * @param snaplen the snap length recorded in the file header
     * @param precision the timestamp resolution
     * @throws IOException when the header cannot be written
     */
    public PcapWriter(OutputStream out, int snaplen, Precision precision) throws IOException {
        if (snaplen < 1) {
            throw new IllegalArgumentException("snaplen must be positive, got " + snaplen);
        }
        this.out = out;
        this.precision = precision;
        this.snaplen = snaplen;
        ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(precision == Precision.NANOSECONDS ? 0xa1b23c4d : 0xa1b2c3d4);
        h.putShort((short) 2).putShort((short) 4); // version 2.4
        h.putInt(0).putInt(0);                     // thiszone (UTC), sigfigs
        h.putInt(snaplen).putInt(LINKTYPE_ETHERNET);
        out.write(h.array()); // at once: a live reader learns the format before the first frame
        out.flush();
    }

    /** A nanosecond pcap stream on {@code out}. */
    public PcapWriter(OutputStream out, int snaplen) throws IOException {
        this(out, snaplen, Precision.NANOSECONDS);
    }

    /** A new nanosecond pcap file at {@code file} (replaced when it exists). */
    public static PcapWriter create(Path file, int snaplen) throws IOException {
        return new PcapWriter(Files.newOutputStream(file), snaplen, Precision.NANOSECONDS);
    }

    /** The timestamp resolution. */
    public Precision precision() {
        return precision;
    }

    /** The snap length in the file header. */
    public int snaplen() {
        return snaplen;
    }

    /**
     * Writes one frame.
     *
     * @param epochNanos when it was seen, nanoseconds since 1970-01-01 UTC
     * @param wireLength its full length on the wire
     * @param data the captured bytes ({@code length} of them from {@code offset}), at most the snap length
     */
    public void write(long epochNanos, int wireLength, byte[] data, int offset, int length) throws IOException {
        writeHeader(epochNanos, wireLength, length);
        if (length > buf.length - pos) {
            out.write(data, offset, length);
        } else {
            System.arraycopy(data, offset, buf, pos, length);
            pos += length;
        }
        count(length);
    }

    /** Writes one frame whose bytes are in native memory (a ring buffer record), copying them once. */
    public void write(long epochNanos, int wireLength, MemorySegment data, long offset, int length) throws IOException {
        writeHeader(epochNanos, wireLength, length);
        if (length > buf.length - pos) {
            out.write(data.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE));
        } else {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, buf, pos, length);
            pos += length;
        }
        count(length);
    }

    private void writeHeader(long epochNanos, int wireLength, int length) throws IOException {
        if (closed) {
            throw new IOException("the pcap writer is closed");
        }
        if (length < 0 || length > snaplen || length > wireLength) {
            throw new IllegalArgumentException("captured length " + length + " must be 0.." + snaplen
                    + " (the snap length) and at most the wire length " + wireLength);
        }
        if (buf.length - pos < RECORD_HEADER + length) {
            drain();
        }
        long seconds = Math.floorDiv(epochNanos, 1_000_000_000L);
        long fraction = Math.floorMod(epochNanos, 1_000_000_000L);
        INT.set(buf, pos, (int) seconds);
        INT.set(buf, pos + 4, (int) (precision == Precision.NANOSECONDS ? fraction : fraction / 1000));
        INT.set(buf, pos + 8, length);
        INT.set(buf, pos + 12, wireLength);
        pos += RECORD_HEADER;
    }

    private void drain() throws IOException {
        if (pos > 0) {
            out.write(buf, 0, pos);
            pos = 0;
        }
    }

    private void count(int length) {
        packets++;
        bytes += length;
    }

    /** Frames written. */
    public long packets() {
        return packets;
    }

    /** Captured bytes written (record headers excluded). */
    public long bytes() {
        return bytes;
    }

    /** Pushes everything written so far to the stream. */
    @Override
    public void flush() throws IOException {
        if (!closed) {
            drain();
            out.flush();
        }
    }

    /** Flushes and closes the stream. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            drain();
        } finally {
            closed = true;
            out.close();
        }
    }
}

package io.jvisor.modules.capture;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * standard output into {@code tcpdump -r -}). The file header is written when the writer is
 * created; {@link #flush()} pushes what has been written so far to the stream, which a live reader
 * needs. Not thread-safe: one writer thread.
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

    private final OutputStream out;
    private final Precision precision;
    private final int snaplen;
    private final byte[] header = new byte[RECORD_HEADER];
    private final ByteBuffer headerView = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    private byte[] copy = new byte[2048];
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
        this.out = out instanceof BufferedOutputStream ? out : new BufferedOutputStream(out, 1 << 16);
        this.precision = precision;
        this.snaplen = snaplen;
        ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(precision == Precision.NANOSECONDS ? 0xa1b23c4d : 0xa1b2c3d4);
        h.putShort((short) 2).putShort((short) 4); // version 2.4
        h.putInt(0).putInt(0);                     // thiszone (UTC), sigfigs
        h.putInt(snaplen).putInt(LINKTYPE_ETHERNET);
        this.out.write(h.array());
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
        out.write(data, offset, length);
        count(length);
    }

    /** Writes one frame whose bytes are in native memory (a ring buffer record), copying them once. */
    public void write(long epochNanos, int wireLength, MemorySegment data, long offset, int length) throws IOException {
        writeHeader(epochNanos, wireLength, length);
        if (copy.length < length) {
            copy = new byte[Math.max(length, copy.length * 2)];
        }
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, copy, 0, length);
        out.write(copy, 0, length);
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
        long seconds = Math.floorDiv(epochNanos, 1_000_000_000L);
        long fraction = Math.floorMod(epochNanos, 1_000_000_000L);
        headerView.putInt(0, (int) seconds);
        headerView.putInt(4, (int) (precision == Precision.NANOSECONDS ? fraction : fraction / 1000));
        headerView.putInt(8, length);
        headerView.putInt(12, wireLength);
        out.write(header);
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
            out.flush();
        }
    }

    /** Flushes and closes the stream. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        out.close();
    }
}

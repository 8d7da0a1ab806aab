package io.jvisor.server;

import io.jvisor.engine.Engine;
import io.jvisor.modules.capture.CaptureConfig;
import io.jvisor.modules.capture.CaptureSession;
import io.jvisor.modules.capture.CaptureSummary;
import io.jvisor.modules.capture.PcapWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Capture sessions the daemon streams to its clients as pcap: {@code GET
 * /v1/instances/{name}/capture} starts one on a {@code capture} instance and streams it until
 * {@code count} frames are written, {@code seconds} pass, the client stops it with {@code DELETE
 * /v1/instances/{name}/capture/{id}} (which answers with the summary), or the client goes away
 * (noticed at the next frame, or within about {@value #CHECK_MILLIS} ms without traffic: see
 * {@link #clientGone}). The daemon never writes a capture file: where the frames go is the client's
 * choice.
 */
final class Captures {
    /** How many finished sessions' summaries are kept for {@code DELETE} after the stream ended. */
    private static final int KEPT = 32;
    /** How often a streaming session checks that its client is still there. */
    static final int CHECK_MILLIS = 100;

    /** One session, running or finished. */
    private static final class Entry {
        final long id;
        final String instance;
        final CountDownLatch done = new CountDownLatch(1);
        volatile boolean stopRequested;
        volatile CaptureSummary summary;

        Entry(long id, String instance) {
            this.id = id;
            this.instance = instance;
        }
    }

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Entry> entries = new LinkedHashMap<>();

    /**
     * Streams a capture of {@code instance} to {@code out} (pcap, flushed after each batch of frames)
     * and returns its summary. {@code beforeStream} runs once the session runs, before the first byte:
     * the caller sets the response's status and headers there.
     *
     * @param gone whether the client has gone away, asked every {@value #CHECK_MILLIS} ms: the
     *     session ends then, so that a killed client frees the instance even when no frame comes
     *     (a write to a dead client fails only once there is something to write)
     * @param count frames after which the capture ends, or 0 for no limit
     * @param seconds seconds after which the capture ends, or 0 for no limit
     * @throws ApiException when the instance is missing, not a capture instance, or busy
     */
    Map<String, Object> stream(Engine engine, String instance, long count, int snaplen, int seconds,
                               java.util.function.LongConsumer beforeStream, java.util.function.Supplier<OutputStream> out,
                               java.util.function.BooleanSupplier gone)
            throws IOException, InterruptedException {
        if (count < 0) {
            throw new ApiException(400, "count", Long.toString(count), "must be 0 (no limit) or more");
        }
        if (snaplen < 1 || snaplen > CaptureConfig.MAX_SNAPLEN) {
            throw new ApiException(400, "snaplen", Integer.toString(snaplen), "must be 1.." + CaptureConfig.MAX_SNAPLEN);
        }
        if (seconds < 0) {
            throw new ApiException(400, "seconds", Integer.toString(seconds), "must be 0 (no limit) or more");
        }
        Entry e = new Entry(ids.incrementAndGet(), instance);
        PcapBuffer buffer = new PcapBuffer(snaplen);
        // the session writes what the instance captured (up to its own snaplen); the stream cuts to the client's
        PcapWriter pcap = new PcapWriter(buffer, CaptureConfig.MAX_SNAPLEN);
        CaptureSession session;
        try {
            session = CaptureSession.start(engine, instance, pcap);
        } catch (IllegalArgumentException x) {
            throw new ApiException(x.getMessage().startsWith("no instance") ? 404 : 400, "instance", instance,
                    x.getMessage());
        } catch (IllegalStateException x) {
            throw new ApiException(409, "instance", instance, x.getMessage());
        }
        synchronized (entries) {
            entries.put(e.id, e);
        }
        try {
            beforeStream.accept(e.id);
            buffer.target(out.get()); // the pcap header (buffered so far) goes out now
            long deadline = seconds == 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            long goal = count == 0 ? Long.MAX_VALUE : count;
            while (!e.stopRequested && System.nanoTime() < deadline && session.summary().failure() == null
                    && !gone.getAsBoolean()) {
                if (session.awaitWritten(goal, Duration.ofMillis(CHECK_MILLIS))) {
                    break;
                }
            }
        } finally {
            e.summary = session.stop();
            try {
                pcap.close();
            } catch (IOException x) {
                // the client went away; the summary says so
            }
            e.done.countDown();
            synchronized (entries) {
                List<Long> finished = new ArrayList<>();
                entries.forEach((k, v) -> {
                    if (v.summary != null) {
                        finished.add(k);
                    }
                });
                for (int i = 0; i < finished.size() - KEPT; i++) {
                    entries.remove(finished.get(i));
                }
            }
        }
        return summary(e);
    }

    /**
     * Whether the client of a streaming HTTP/1.x response has gone away, for {@link #stream}'s
     * {@code gone}. While a handler streams, Jetty does not read the connection, so it learns of a
     * closed or reset connection only from a failed write; this reads it without blocking: end of
     * input (the client closed, or was killed and its kernel closed the socket) or a reset means
     * gone. A capture client sends nothing while it receives the stream, so nothing is read
     * otherwise; should one send bytes anyway (a request pipelined behind a capture), they are
     * discarded. For other protocols (none the daemon serves today) the answer is always no, and a
     * dead client is noticed at the next frame as before.
     */
    static java.util.function.BooleanSupplier clientGone(jakarta.servlet.http.HttpServletRequest request) {
        org.eclipse.jetty.ee10.servlet.ServletContextRequest r =
                org.eclipse.jetty.ee10.servlet.ServletContextRequest.getServletContextRequest(request);
        if (r == null || !request.getProtocol().startsWith("HTTP/1.")) {
            return () -> false;
        }
        org.eclipse.jetty.io.EndPoint endPoint = r.getConnectionMetaData().getConnection().getEndPoint();
        java.nio.ByteBuffer one = org.eclipse.jetty.util.BufferUtil.allocate(1); // Jetty's empty, flush-mode buffer
        return () -> {
            if (!endPoint.isOpen()) {
                return true;
            }
            try {
                org.eclipse.jetty.util.BufferUtil.clear(one);
                return endPoint.fill(one) < 0; // non-blocking: 0 while the client is there and quiet
            } catch (IOException x) {
                return true;
            }
        };
    }

    /**
     * Stops session {@code id} of {@code instance} (or finds it stopped) and returns its summary.
     *
     * @throws ApiException when there is no such session
     */
    Map<String, Object> stop(String instance, long id) throws InterruptedException {
        Entry e;
        synchronized (entries) {
            e = entries.get(id);
        }
        if (e == null || !e.instance.equals(instance)) {
            throw new ApiException(404, "session", Long.toString(id), "no capture session " + id + " on instance '"
                    + instance + "' (a finished session is kept for a while)");
        }
        e.stopRequested = true;
        if (!e.done.await(30, TimeUnit.SECONDS)) {
            throw new ApiException(503, "session", Long.toString(id), "the session did not stop within 30 s");
        }
        return summary(e);
    }

    /** Stops every running session (the daemon is closing). */
    void stopAll() {
        List<Entry> running = new ArrayList<>();
        synchronized (entries) {
            entries.values().stream().filter(x -> x.summary == null).forEach(running::add);
        }
        for (Entry e : running) {
            e.stopRequested = true;
        }
        for (Entry e : running) {
            try {
                e.done.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Map<String, Object> summary(Entry e) {
        CaptureSummary s = e.summary;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", e.id);
        out.put("instance", e.instance);
        out.put("written", s.written());
        out.put("seen", s.kernel().seen());
        out.put("matched", s.kernel().matched());
        out.put("captured", s.kernel().captured());
        out.put("lost", s.kernel().lost());
        out.put("lostBytes", s.kernel().lostBytes());
        out.put("errors", s.kernel().errors());
        out.put("failure", s.failure());
        return out;
    }

    /**
     * Between the pcap writer and the response: holds what is written before the response is
     * committed (the file header), and cuts each frame to the client's snap length, rewriting the file
     * header's snap length and each record's captured length (the writer's format: little-endian,
     * 24-byte file header, 16-byte record headers).
     */
    private static final class PcapBuffer extends OutputStream {
        private static final int FILE_HEADER = 24;
        private static final int RECORD_HEADER = 16;
        private final int snaplen;
        private java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
        private OutputStream target;
        private final byte[] header = new byte[FILE_HEADER];
        private int headerFill;
        private boolean fileHeaderDone;
        private long keep;   // frame bytes still to pass on
        private long skip;   // frame bytes still to drop (beyond the snap length)

        PcapBuffer(int snaplen) {
            this.snaplen = snaplen;
        }

        synchronized void target(OutputStream t) throws IOException {
            target = t;
            pending.writeTo(t);
            pending = null;
            t.flush();
        }

        @Override
        public synchronized void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            int end = off + len;
            while (off < end) {
                if (keep > 0) {
                    int n = (int) Math.min(keep, end - off);
                    emit(b, off, n);
                    keep -= n;
                    off += n;
                } else if (skip > 0) {
                    int n = (int) Math.min(skip, end - off);
                    skip -= n;
                    off += n;
                } else {
                    int want = (fileHeaderDone ? RECORD_HEADER : FILE_HEADER) - headerFill;
                    int n = Math.min(want, end - off);
                    System.arraycopy(b, off, header, headerFill, n);
                    headerFill += n;
                    off += n;
                    if (n == want) {
                        headerComplete();
                    }
                }
            }
        }

        private void headerComplete() throws IOException {
            java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(header).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            if (!fileHeaderDone) {
                h.putInt(16, snaplen);
                emit(header, 0, FILE_HEADER);
                fileHeaderDone = true;
            } else {
                long captured = Integer.toUnsignedLong(h.getInt(8));
                long cut = Math.min(captured, snaplen);
                h.putInt(8, (int) cut);
                emit(header, 0, RECORD_HEADER);
                keep = cut;
                skip = captured - cut;
            }
            headerFill = 0;
        }

        private void emit(byte[] b, int off, int len) throws IOException {
            if (target == null) {
                pending.write(b, off, len);
            } else {
                target.write(b, off, len);
            }
        }

        @Override
        public synchronized void flush() throws IOException {
            if (target != null) {
                target.flush();
            }
        }

        @Override
        public synchronized void close() throws IOException {
            if (target != null) {
                target.close();
            }
        }
    }
}

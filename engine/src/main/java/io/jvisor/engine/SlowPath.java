package io.jvisor.engine;

import io.jvisor.bpf.ringbuf.RingBufReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The slow path: one platform thread reads the {@code jv_slowpath} ring buffer (packets an instance
 * sent to its control plane) and the {@code jv_logs} ring buffer (jv_log lines), decodes each
 * record, and hands packets to the instance's handler, then to the registered listeners.
 */
final class SlowPath implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlowPath.class);

    private final Map<Integer, LiveInstance> bySlot;
    private final RingBufReader packets;
    private final RingBufReader logs;
    private final List<Consumer<PacketIn>> listeners = new CopyOnWriteArrayList<>();
    private Thread thread;
    private volatile boolean closed;

    /** @param bySlot the live instances by slot, read without a lock */
    SlowPath(SharedMaps shared, Map<Integer, LiveInstance> bySlot) {
        this.bySlot = bySlot;
        RingBufReader p = RingBufReader.open(shared.get("jv_slowpath"));
        try {
            this.logs = RingBufReader.open(shared.get("jv_logs"));
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        this.packets = p;
    }

    /** Starts the reader thread. */
    void start(String engineName) {
        thread = Thread.ofPlatform().name("jvisor-" + engineName + "-slowpath").daemon().start(this::readLoop);
    }

    /** Adds a listener that sees every packet after the instance's handler; closing the handle removes it. */
    AutoCloseable listen(Consumer<PacketIn> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private void readLoop() {
        while (!closed) {
            try {
                packets.poll(Duration.ofMillis(100), this::onPacketIn);
                logs.drain(this::onLogLine);
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.warn("slow-path reader", e);
                }
            }
        }
    }

    private void onPacketIn(MemorySegment rec) {
        PacketInCodec.Record r = PacketInCodec.decode(rec);
        LiveInstance li = bySlot.get(r.slot());
        if (li == null) {
            return;
        }
        PacketIn p = r.toPacketIn(li.name);
        try {
            li.handler.onPacket(li, p);
        } catch (RuntimeException e) {
            LOG.warn("instance '{}' failed to handle a packet", li.name, e);
        }
        for (Consumer<PacketIn> l : listeners) {
            try {
                l.accept(p);
            } catch (RuntimeException e) {
                LOG.warn("a slow-path listener failed: {}", e.toString());
            }
        }
    }

    private void onLogLine(MemorySegment rec) {
        ByteBuffer b = rec.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int slot = b.getInt(Sdk.LogLineLayout.SLOT);
        int len = Math.min(b.getInt(Sdk.LogLineLayout.LEN), Sdk.LOG_LEN - 1);
        byte[] text = new byte[Math.max(0, len)];
        b.get(Sdk.LogLineLayout.TEXT, text);
        while (len > 0 && text[len - 1] == 0) {
            len--; // bpf_snprintf counts the terminating NUL
        }
        text = Arrays.copyOf(text, len);
        LiveInstance li = bySlot.get(slot);
        LoggerFactory.getLogger("jvisor.module." + (li == null ? "slot" + slot : li.name))
                .info(new String(text, StandardCharsets.UTF_8));
    }

    /** Stops the reader thread (waiting up to two seconds) and closes the readers. */
    @Override
    public void close() {
        closed = true;
        packets.wakeup();
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        packets.close();
        logs.close();
    }
}

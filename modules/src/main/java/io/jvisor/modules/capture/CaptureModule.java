package io.jvisor.modules.capture;

import io.jvisor.modules.MapSync;
import io.jvisor.modules.StandardModule;

import io.jvisor.bpf.BpfMap;
import io.jvisor.engine.Engine;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleHandler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * A transparent capture point (type {@code capture}): two ports, every frame forwarded from one to
 * the other, and, while a {@link CaptureSession} is running, the frames that match a 5-tuple
 * filter copied (up to the snap length) to user space through a BPF ring buffer and written as pcap.
 * Works at the tc and the XDP hook. Configuration: {@link CaptureConfig}; see docs/capture.md.
 */
public final class CaptureModule extends StandardModule {
    /** The type name. */
    public static final String NAME = "capture";

    static final int F_PROTO = 1, F_SRC = 2, F_DST = 4, F_SPORT = 8, F_DPORT = 16, F_BOTH_WAYS = 32;
    /** sizeof(struct cap_config). */
    static final int CONFIG_SIZE = 36;

    /** A type object; the engine's catalog holds one. */
    public CaptureModule() {
        super(NAME, 2, CaptureConfig::parse);
    }

    /** The keys {@link #validateConfig} accepts (see its module's doc). */
    @Override
    public java.util.List<io.jvisor.engine.ConfigKey> configKeys() {
        return java.util.List.of(
            io.jvisor.engine.ConfigKey.optional("snaplen", "1.." + CaptureConfig.MAX_SNAPLEN, Integer.toString(CaptureConfig.MAX_SNAPLEN),
                    "Bytes kept of each frame."),
            io.jvisor.engine.ConfigKey.optional("ports", "0|1|0,1", "0,1", "The ports whose incoming frames are captured."),
            io.jvisor.engine.ConfigKey.optional("filter.proto", "tcp|udp|icmp|sctp|0..255", null, "Capture only this IP protocol."),
            io.jvisor.engine.ConfigKey.optional("filter.src", "A.B.C.D[/LEN]", null, "Capture only frames from this IPv4 address or prefix."),
            io.jvisor.engine.ConfigKey.optional("filter.dst", "A.B.C.D[/LEN]", null, "Capture only frames to this IPv4 address or prefix."),
            io.jvisor.engine.ConfigKey.optional("filter.sport", "0..65535", null, "Capture only frames from this TCP, UDP or SCTP port."),
            io.jvisor.engine.ConfigKey.optional("filter.dport", "0..65535", null, "Capture only frames to this TCP, UDP or SCTP port."),
            io.jvisor.engine.ConfigKey.optional("filter.both-ways", "true|false", "false",
                    "Also capture frames the other way round (addresses and ports swapped)."),
            io.jvisor.engine.ConfigKey.optional(CaptureConfig.RING_SIZE_KEY, CaptureConfig.RING_MIN + ".."
                    + CaptureConfig.RING_LIMIT, Integer.toString(CaptureConfig.DEFAULT_RING_SIZE),
                    "The ring buffer's size in bytes, a power of two; frames that do not fit while the reader is "
                            + "behind are counted as lost. A change reloads the instance with a new, empty ring, and "
                            + "is refused while a session runs."));
    }

    /**
     * The ring buffer ({@code cap_ring}) is sized by {@code ring.size}. A change reloads the instance
     * with a new, empty ring; the filter, the counters and the session switch are carried over. A
     * session reads the ring it started on, so a change is refused while one runs (stop it first).
     */
    @Override
    public Map<String, Integer> mapSizes(Map<String, String> config) {
        return Map.of("cap_ring", CaptureConfig.parse(config).ringSize());
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        CaptureConfig c = CaptureConfig.parse(config);
        return new ModuleHandler() {
            @Override
            public void onStart(InstanceContext ctx) {
                write(ctx.map("cap_cfg"), c);
                BpfMap active = ctx.map("cap_active");
                int owner = CaptureSession.owner(active);
                if (owner != 0 && !CaptureSession.ownerAlive(owner)) {
                    active.update(new byte[4], new byte[4]); // a session whose process died: stop capturing
                }
            }

            /** Refuses a new ring while a live session reads the old one: it would go on reading nothing. */
            @Override
            public void migrate(InstanceContext ctx, String oldCodeHash, String newCodeHash) {
                BpfMap active = ctx.map("cap_active");
                int owner = CaptureSession.owner(active);
                if (!CaptureSession.ownerAlive(owner)) {
                    return;
                }
                Integer reading = CaptureSession.ringOf(active);
                // a session of this process says which ring it reads; another process's, only that a
                // reload with unchanged code is a resize
                boolean newRing = reading != null ? reading != ctx.map("cap_ring").id() : oldCodeHash.equals(newCodeHash);
                if (newRing) {
                    throw new IllegalStateException("key '" + CaptureConfig.RING_SIZE_KEY + "': capture instance '"
                            + ctx.name() + "' has a running session (process " + owner + "), which reads the current "
                            + "ring; stop it before changing the ring's size");
                }
            }
        };
    }

    /** The kernel counters of a capture instance (all sessions so far). */
    public static CaptureStats stats(Engine engine, String instance) {
        return CaptureStats.read(engine.map(instance, "cap_stats"));
    }

    /** Writes the configuration into the data plane's {@code cap_cfg}, when it differs. */
    static void write(BpfMap cfg, CaptureConfig c) {
        MapSync.setIfDifferent(cfg, new byte[4], encode(c));
    }

    /** struct cap_config, little-endian host fields, addresses and ports in network order. */
    static byte[] encode(CaptureConfig c) {
        CaptureFilter f = c.filter();
        ByteBuffer b = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int flags = 0;
        if (f.protocol() != null) {
            flags |= F_PROTO;
            b.put(12, (byte) (int) f.protocol());
        }
        b.order(ByteOrder.BIG_ENDIAN);
        if (f.source() != null) {
            flags |= F_SRC;
            b.putInt(16, ipv4(f.source().address().getAddress())).putInt(20, mask(f.source().length()));
        }
        if (f.destination() != null) {
            flags |= F_DST;
            b.putInt(24, ipv4(f.destination().address().getAddress())).putInt(28, mask(f.destination().length()));
        }
        if (f.sourcePort() != null) {
            flags |= F_SPORT;
            b.putShort(32, (short) (int) f.sourcePort());
        }
        if (f.destinationPort() != null) {
            flags |= F_DPORT;
            b.putShort(34, (short) (int) f.destinationPort());
        }
        if (f.bothWays()) {
            flags |= F_BOTH_WAYS;
        }
        int ports = 0;
        for (int p : c.ports()) {
            ports |= 1 << p;
        }
        b.order(ByteOrder.LITTLE_ENDIAN).putInt(0, flags).putInt(4, c.snaplen()).putInt(8, ports);
        return b.array();
    }

    static int ipv4(byte[] a) {
        return ByteBuffer.wrap(a).getInt();
    }

    static int mask(int len) {
        return len == 0 ? 0 : -1 << (32 - len);
    }
}

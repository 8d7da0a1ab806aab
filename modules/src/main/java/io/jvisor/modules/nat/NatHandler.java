package io.jvisor.modules.nat;

import io.jvisor.modules.ConfigValues;
import io.jvisor.modules.MapSync.ByteKey;
import io.jvisor.modules.PeriodicTask;
import io.jvisor.bpf.BpfMap;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleHandler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.jvisor.modules.MapSync.keys;
import static io.jvisor.modules.MapSync.setIfDifferent;
import static io.jvisor.modules.MapSync.sync;

/**
 * The NAT's control plane: writes the rules into the data plane's maps (only the entries that
 * differ, so a reconfiguration leaves established mappings alone), reads the mapping table, and
 * sweeps out mappings that have been idle longer than their protocol's timeout.
 *
 * <p>Mappings are created by the data plane on a connection's first packet, two entries per
 * connection (one per direction). The sweeper removes both when neither has seen a packet for the
 * timeout.
 */
public final class NatHandler implements ModuleHandler {
    private static final Logger LOG = LoggerFactory.getLogger(NatHandler.class);
    static final int KEY_SIZE = 16, VALUE_SIZE = 24;
    static final int KIND_SNAT = 1, KIND_DNAT = 2;

    /** What created a mapping. */
    public enum Kind {
        /** source NAT (masquerade): an inside host's connection to the outside */
        SNAT,
        /** destination NAT (port forward): an outside host's connection to an inside service */
        DNAT
    }

    /**
     * One connection through the NAT.
     *
     * @param kind SNAT or DNAT
     * @param protocol the IP protocol: 6 TCP, 17 UDP, 1 ICMP (echo; the ports are the identifier)
     * @param inside the inside endpoint, {@code a.b.c.d:port}
     * @param translated the endpoint the outside sees instead, {@code a.b.c.d:port}
     * @param remote the outside endpoint, {@code a.b.c.d:port}
     * @param idleNanos time since the connection's last packet, in either direction
     */
    public record Mapping(Kind kind, int protocol, String inside, String translated, String remote, long idleNanos) {}

    private final NatConfig config;
    private final Map<String, NatHandler> registry;
    private final AtomicLong expired = new AtomicLong();
    private volatile InstanceContext ctx;
    private PeriodicTask sweeper;

    NatHandler(NatConfig config, Map<String, NatHandler> registry) {
        this.config = config;
        this.registry = registry;
    }

    /** The configuration this handler runs with. */
    public NatConfig config() {
        return config;
    }

    /** How many mappings the sweeper has removed since this handler started. */
    public long expired() {
        return expired.get();
    }

    /** The live mappings, one per connection, as the data plane holds them. */
    public List<Mapping> mappings() {
        BpfMap m = ctx.map("nat_conn");
        long now = System.nanoTime();
        List<Mapping> out = new ArrayList<>();
        for (byte[] k : keys(m)) {
            var v = m.lookup(k);
            if (v.isEmpty()) {
                continue;
            }
            ByteBuffer key = ByteBuffer.wrap(k), val = ByteBuffer.wrap(v.get());
            int dir = k[13], kind = v.get()[12], proto = k[12] & 0xff;
            long seen = Math.max(seen(v.get()), m.lookup(partner(k, v.get())).map(NatHandler::seen).orElse(0L));
            if (dir == 0 && kind == KIND_SNAT) {
                out.add(new Mapping(Kind.SNAT, proto, ep(key, 0, 8), ep(val, 0, 8), ep(key, 4, 10),
                        now - seen));
            } else if (dir == 1 && kind == KIND_DNAT) {
                out.add(new Mapping(Kind.DNAT, proto, ep(val, 4, 10), ep(key, 4, 10), ep(key, 0, 8),
                        now - seen));
            }
        }
        return out;
    }

    // ---- lifecycle --------------------------------------------------------------------------------

    @Override
    public synchronized void onStart(InstanceContext ctx) {
        this.ctx = ctx;
        ByteBuffer cfg = le(new byte[8]).putInt(0, config.portMin()).putInt(4, config.portMax());
        setIfDifferent(ctx.map("nat_cfg"), new byte[4], cfg.array());
        Map<ByteKey, byte[]> snat = new HashMap<>();
        for (var r : config.snat()) {
            ByteBuffer k = le(new byte[8]).putInt(0, r.prefixLen());
            k.order(ByteOrder.BIG_ENDIAN).putInt(4, r.prefix());
            snat.put(new ByteKey(k.array()), ByteBuffer.allocate(8).putInt(0, r.to()).array());
        }
        sync(ctx.map("nat_snat"), snat);
        Map<ByteKey, byte[]> dnat = new HashMap<>();
        for (var r : config.dnat()) {
            ByteBuffer k = ByteBuffer.allocate(8).putInt(0, r.addr()).putShort(4, (short) r.port())
                    .put(6, (byte) r.protocol());
            dnat.put(new ByteKey(k.array()),
                    ByteBuffer.allocate(8).putInt(0, r.to()).putShort(4, (short) r.toPort()).array());
        }
        sync(ctx.map("nat_dnat"), dnat);
        registry.put(ctx.name(), this);
        long shortest = Math.min(Math.min(config.timeoutTcpSeconds(), config.timeoutTcpClosedSeconds()),
                Math.min(config.timeoutUdpSeconds(), config.timeoutIcmpSeconds()));
        long period = Math.max(100, Math.min(5000, shortest * 1000 / 4));
        sweeper = PeriodicTask.start("nat-sweeper-" + ctx.name(), this::sweep, period, period);
    }

    @Override
    public synchronized void onStop(InstanceContext ctx) {
        if (sweeper != null) {
            sweeper.close();
            sweeper = null;
        }
        registry.remove(ctx.name(), this);
    }

    /**
     * Removes every connection whose two entries are both idle longer than the timeout of its
     * protocol. A packet that arrives between the read and the delete sets the connection up again
     * (with a new port for SNAT), as after any expiry.
     */
    void sweep() {
        try {
            BpfMap m = ctx.map("nat_conn");
            long now = System.nanoTime();
            for (byte[] k : keys(m)) {
                var v = m.lookup(k);
                if (v.isEmpty()) {
                    continue;
                }
                byte[] p = partner(k, v.get());
                var pv = m.lookup(p);
                long seen = Math.max(seen(v.get()), pv.map(NatHandler::seen).orElse(0L));
                boolean closing = v.get()[13] != 0 || pv.map(x -> x[13] != 0).orElse(false);
                int proto = k[12] & 0xff;
                long timeout = TimeUnit.SECONDS.toNanos(proto == NatConfig.TCP && closing
                        ? Math.min(config.timeoutTcpClosedSeconds(), config.timeoutTcpSeconds())
                        : config.timeoutSeconds(proto));
                if (now - seen > timeout) {
                    boolean gone = m.delete(k);
                    m.delete(p);
                    if (gone) {
                        expired.incrementAndGet(); // once per connection: its partner is gone too when visited
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("nat sweep", e);
        }
    }

    /** The key of the other direction's entry: the rewritten tuple, reversed, arriving on the other port. */
    static byte[] partner(byte[] key, byte[] value) {
        byte[] p = new byte[KEY_SIZE];
        System.arraycopy(value, 4, p, 0, 4);   // saddr <- new daddr
        System.arraycopy(value, 0, p, 4, 4);   // daddr <- new saddr
        System.arraycopy(value, 10, p, 8, 2);  // sport <- new dport
        System.arraycopy(value, 8, p, 10, 2);  // dport <- new sport
        p[12] = key[12];
        p[13] = (byte) (key[13] ^ 1);
        return p;
    }

    private static long seen(byte[] value) {
        return le(value).getLong(16);
    }

    private static String ep(ByteBuffer b, int addrOff, int portOff) {
        return ConfigValues.ipString(b.getInt(addrOff)) + ":" + (b.getShort(portOff) & 0xffff);
    }


    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}

package io.jvisor.modules.lb;

import io.jvisor.modules.Arp;
import io.jvisor.modules.ConfigValues;
import io.jvisor.modules.MapSync.ByteKey;
import io.jvisor.modules.PeriodicTask;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.UpdateFlag;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.PacketIn;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.jvisor.modules.MapSync.keys;
import static io.jvisor.modules.MapSync.setIfDifferent;
import static io.jvisor.modules.MapSync.sync;

/**
 * The load balancer's control plane. On start it writes the configuration into the data plane:
 * backends into stable slots (a backend keeps its slot while it stays configured), each service's
 * Maglev table into the inactive half of its ring, then the service entry that flips to it (one
 * map update, so the data plane switches tables atomically). It answers ARP for the VIPs on the
 * clients' side and probes the backends' MACs with ARP on the backends' side.
 *
 * <p>Config changes (adding, draining, removing backends; changing weights) go through
 * {@code Engine.apply}: the new handler recomputes the tables and flips them; the connection table
 * (lb_conn) is kept, so established flows keep their backend unless it was removed.
 */
public final class LbHandler implements ModuleHandler {
    private static final Logger LOG = LoggerFactory.getLogger(LbHandler.class);
    static final int LB_ARP = 1, LB_RESOLVE = 2;
    static final int RING_MAX = 65537, MAX_SERVICES = LbConfig.MAX_SERVICES, MAX_BACKENDS = LbConfig.MAX_BACKENDS;
    private static final long PROBE_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(200);

    /**
     * A flow the LB has scheduled.
     *
     * @param protocol 6 TCP, 17 UDP
     * @param client the client, {@code a.b.c.d:port}
     * @param service the VIP and port, {@code a.b.c.d:port}
     * @param backend the backend, {@code a.b.c.d:port}
     * @param idleNanos time since its last packet from the client, to within one kernel tick (the data plane
     *     refreshes an entry's time stamp on the first packet of each jiffy, 4 ms at {@code HZ=250})
     */
    public record Connection(int protocol, String client, String service, String backend, long idleNanos) {}

    private final LbConfig config;
    private final Map<String, LbHandler> registry;
    private volatile InstanceContext ctx;
    private volatile byte[] mac;
    private volatile Map<String, int[]> tables = Map.of();
    private volatile long lastProbe;
    private PeriodicTask prober;

    LbHandler(LbConfig config, Map<String, LbHandler> registry) {
        this.config = config;
        this.registry = registry;
    }

    /** The configuration this handler runs with. */
    public LbConfig config() {
        return config;
    }

    /** The LB's MAC (its VIPs' MAC on the clients' side). */
    public String mac() {
        return ConfigValues.macString(mac);
    }

    /**
     * The Maglev table last written for a service: for each slot, the backend's {@code address:port},
     * or null when the service has no active backend.
     */
    public List<String> table(String service) {
        int[] t = tables.get(service);
        if (t == null) {
            throw new IllegalArgumentException("no service '" + service + "'");
        }
        LbConfig.Service s = config.byName().get(service);
        List<String> out = new ArrayList<>(t.length);
        for (int b : t) {
            out.add(b < 0 ? null : s.backends().get(b).endpoint());
        }
        return out;
    }

    /** The flows in the connection table, client side. */
    public List<Connection> connections() {
        BpfMap conn = ctx.map("lb_conn");
        long now = System.nanoTime();
        List<Connection> out = new ArrayList<>();
        for (byte[] k : keys(conn)) {
            if (k[13] != 0) {
                continue;
            }
            var v = conn.lookup(k);
            if (v.isEmpty()) {
                continue;
            }
            ByteBuffer key = ByteBuffer.wrap(k), val = ByteBuffer.wrap(v.get());
            out.add(new Connection(k[12] & 0xff, ep(key.getInt(0), key.getShort(8)), ep(key.getInt(4), key.getShort(10)),
                    ep(val.getInt(4), val.getShort(8)), now - le(v.get()).getLong(24)));
        }
        return out;
    }

    /** Empties the connection table: every flow is scheduled again by the current tables on its next packet. */
    public void flushConnections() {
        BpfMap conn = ctx.map("lb_conn");
        for (byte[] k : keys(conn)) {
            conn.delete(k);
        }
    }

    /**
     * The data plane's flow hash (lb.c's lb_hash), for addresses and ports in host order: a flow goes
     * to {@code table[Integer.remainderUnsigned(flowHash(...), size)]} when it is not in the connection table.
     */
    public static int flowHash(int saddr, int daddr, int sport, int dport, int protocol) {
        // the kernel reads the big-endian fields as little-endian integers on x86
        int s = Integer.reverseBytes(saddr), d = Integer.reverseBytes(daddr);
        int sp = Short.reverseBytes((short) sport) & 0xffff, dp = Short.reverseBytes((short) dport) & 0xffff;
        int h = mix(s * 0x9e3779b1 ^ d);
        h = mix(h ^ ((sp << 16) | dp));
        return mix(h ^ protocol);
    }

    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    private static String ep(int addr, short port) {
        return ConfigValues.ipString(addr) + ":" + (port & 0xffff);
    }

    // ---- lifecycle --------------------------------------------------------------------------------

    @Override
    public synchronized void onStart(InstanceContext ctx) {
        this.ctx = ctx;
        mac = config.mac() != null ? config.mac() : derivedMac(ctx.name());
        byte[] cfg = new byte[16];
        System.arraycopy(mac, 0, cfg, 0, 6);
        ByteBuffer.wrap(cfg).putInt(8, config.dsrSource());
        setIfDifferent(ctx.map("lb_cfg"), new byte[4], cfg);

        Map<String, Integer> slots = syncBackends(ctx.map("lb_backends"));
        syncServices(ctx.map("lb_services"), ctx.map("lb_ring"), slots);
        Map<ByteKey, byte[]> vips = new HashMap<>();
        for (var s : config.services()) {
            vips.put(new ByteKey(ByteBuffer.allocate(4).putInt(s.vip()).array()), new byte[4]);
        }
        sync(ctx.map("lb_vips"), vips);
        clearUnused(ctx.map("lb_backends"), slots);
        bumpConfigGeneration(ctx.map("lb_gen"));

        registry.put(ctx.name(), this);
        prober = PeriodicTask.start("lb-arp-" + ctx.name(), this::probeUnresolved, 0, 500);
    }

    @Override
    public synchronized void onStop(InstanceContext ctx) {
        if (prober != null) {
            prober.close();
            prober = null;
        }
        registry.remove(ctx.name(), this);
    }

    /**
     * Established flows cache their service's mode and skip the service lookup (lb.c's fast path)
     * until this generation changes: bumped after every config write, so a removed or changed
     * service applies to their next packet.
     */
    private static void bumpConfigGeneration(BpfMap gen) {
        byte[] key = le(new byte[4]).putInt(0, 1).array(); // LB_GEN_CONFIG
        int g = gen.lookup(key).map(v -> le(v).getInt(0)).orElse(0);
        gen.update(key, le(new byte[4]).putInt(0, g + 1).array());
    }

    static byte[] derivedMac(String name) {
        int h = name.hashCode();
        return new byte[] {0x02, 0x6c, (byte) (h >>> 16), (byte) (h >>> 8), (byte) h, 0};
    }

    /** Gives every configured backend (address:port) a slot, keeping the slots of those already there. */
    private Map<String, Integer> syncBackends(BpfMap backends) {
        Map<String, Integer> have = new HashMap<>();
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < MAX_BACKENDS; i++) {
            byte[] v = backends.lookup(le(new byte[4]).putInt(0, i).array()).orElseThrow();
            ByteBuffer b = ByteBuffer.wrap(v);
            if (b.getInt(0) != 0) {
                have.put(ep(b.getInt(0), b.getShort(4)), i);
            }
        }
        Map<String, Integer> slots = new LinkedHashMap<>();
        Map<String, LbConfig.Backend> wanted = new LinkedHashMap<>();
        for (var s : config.services()) {
            for (var b : s.backends()) {
                wanted.putIfAbsent(b.endpoint(), b);
            }
        }
        for (String e : wanted.keySet()) {
            Integer slot = have.get(e);
            if (slot != null) {
                slots.put(e, slot);
                used.add(slot);
            }
        }
        // new backends take slots no backend holds now; a slot freed by this change is taken last
        int next = 0;
        for (var e : wanted.entrySet()) {
            if (slots.containsKey(e.getKey())) {
                continue;
            }
            while (used.contains(next) || have.containsValue(next)) {
                next++;
            }
            if (next >= MAX_BACKENDS) {
                next = 0;
                while (used.contains(next)) {
                    next++;
                }
            }
            slots.put(e.getKey(), next);
            used.add(next);
            LbConfig.Backend b = e.getValue();
            byte[] v = ByteBuffer.allocate(8).putInt(0, b.addr()).putShort(4, (short) b.port()).array();
            backends.update(le(new byte[4]).putInt(0, next).array(), v);
        }
        return slots;
    }

    private void clearUnused(BpfMap backends, Map<String, Integer> slots) {
        Set<Integer> keep = new HashSet<>(slots.values());
        for (int i = 0; i < MAX_BACKENDS; i++) {
            if (!keep.contains(i)) {
                setIfDifferent(backends, le(new byte[4]).putInt(0, i).array(), new byte[8]);
            }
        }
    }

    private void syncServices(BpfMap services, BpfMap ring, Map<String, Integer> backendSlots) {
        Map<ByteKey, int[]> have = new HashMap<>(); // key -> {slot, half}
        for (byte[] k : keys(services)) {
            services.lookup(k).ifPresent(v -> have.put(new ByteKey(k), new int[] {le(v).getInt(0), le(v).getInt(4)}));
        }
        Set<Integer> usedSlots = new TreeSet<>();
        Map<String, ByteKey> keyOf = new HashMap<>();
        for (var s : config.services()) {
            ByteKey k = new ByteKey(ByteBuffer.allocate(8).putInt(0, s.vip()).putShort(4, (short) s.port())
                    .put(6, (byte) s.protocol()).array());
            keyOf.put(s.name(), k);
            int[] h = have.get(k);
            if (h != null) {
                usedSlots.add(h[0]);
            }
        }
        Map<String, int[]> written = new HashMap<>();
        for (var s : config.services()) {
            ByteKey k = keyOf.get(s.name());
            int[] h = have.get(k);
            int slot, half;
            if (h != null) {
                slot = h[0];
                half = 1 - (h[1] & 1);
            } else {
                slot = 0;
                while (usedSlots.contains(slot)) {
                    slot++;
                }
                usedSlots.add(slot);
                half = 0;
            }
            List<Maglev.Backend> mb = new ArrayList<>();
            for (var b : s.backends()) {
                mb.add(new Maglev.Backend(b.endpoint(), b.state() == LbConfig.State.ACTIVE ? b.weight() : 0));
            }
            int[] table = Maglev.table(mb, config.tableSize());
            written.put(s.name(), table);
            boolean any = table.length > 0 && table[0] >= 0;
            if (any) {
                List<byte[]> ks = new ArrayList<>(table.length), vs = new ArrayList<>(table.length);
                int base = (slot * 2 + half) * RING_MAX;
                for (int i = 0; i < table.length; i++) {
                    ks.add(le(new byte[4]).putInt(0, base + i).array());
                    vs.add(le(new byte[4]).putInt(0, backendSlots.get(s.backends().get(table[i]).endpoint())).array());
                }
                ring.updateBatch(ks, vs, UpdateFlag.ANY);
            }
            ByteBuffer v = le(new byte[16]).putInt(0, slot).putInt(4, half).putInt(8, any ? table.length : 0)
                    .putInt(12, s.mode() == LbConfig.Mode.DSR ? 1 : 0);
            services.update(k.b(), v.array()); // the flip: one update, the data plane sees old or new
        }
        for (ByteKey k : have.keySet()) {
            if (!keyOf.containsValue(k)) {
                services.delete(k.b());
            }
        }
        tables = Map.copyOf(written);
    }

    // ---- ARP ---------------------------------------------------------------------------------------

    @Override
    public void onPacket(InstanceContext ctx, PacketIn p) {
        switch (p.reason()) {
            case LB_ARP -> answerArp(ctx, p.data());
            case LB_RESOLVE -> {
                long now = System.nanoTime();
                if (now - lastProbe > PROBE_INTERVAL_NS) {
                    lastProbe = now;
                    probeUnresolved();
                }
            }
            default -> { }
        }
    }

    private void answerArp(InstanceContext ctx, byte[] f) {
        if (f.length < 42) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(f);
        int spa = b.getInt(28), tpa = b.getInt(38);
        byte[] sha = Arrays.copyOfRange(f, 22, 28);
        if (config.services().stream().noneMatch(s -> s.vip() == tpa)) {
            return;
        }
        ctx.transmit(0, Arp.frame(Arp.REPLY, mac, tpa, sha, spa, sha));
    }

    /** An RFC 5227 probe (sender address 0) for every backend whose MAC the data plane does not know. */
    private void probeUnresolved() {
        try {
            InstanceContext c = ctx;
            BpfMap neigh = c.map("lb_neigh");
            Set<Integer> addrs = new TreeSet<>();
            for (var s : config.services()) {
                for (var b : s.backends()) {
                    addrs.add(b.addr());
                }
            }
            for (int a : addrs) {
                if (neigh.lookup(ByteBuffer.allocate(4).putInt(a).array()).isEmpty()) {
                    c.transmit(1, Arp.frame(Arp.REQUEST, mac, 0, new byte[6], a, Arp.broadcast()));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("lb ARP probe", e);
        }
    }

    // ---- map helpers -------------------------------------------------------------------------------


    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}

package io.jvisor.modules.router;

import io.jvisor.modules.Arp;
import io.jvisor.modules.ConfigValues;
import io.jvisor.modules.MapSync.ByteKey;
import io.jvisor.modules.PeriodicTask;
import io.jvisor.bpf.BpfMap;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.PacketIn;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.jvisor.modules.MapSync.keys;
import static io.jvisor.modules.MapSync.setIfDifferent;
import static io.jvisor.modules.MapSync.sync;

/**
 * The router's control plane: fills the data plane's maps from the configuration (only the entries
 * that differ, so a reconfiguration does not disturb unchanged routes), answers ARP for its own
 * addresses and ICMP echo, sends ICMP time exceeded and net unreachable, resolves next hops with
 * ARP, and ages the neighbour table.
 *
 * <p>A packet whose next hop is not resolved is dropped and counted ({@link #resolveDrops()}); there is
 * no queue. ICMP answers go back out of the port the packet came in on, to the MAC it came from.
 */
public final class RouterHandler implements ModuleHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RouterHandler.class);
    static final int RT_ARP = 1, RT_LOCAL = 2, RT_TTL = 3, RT_UNREACH = 4, RT_RESOLVE = 5;
    private static final long PROBE_GRACE_NS = TimeUnit.SECONDS.toNanos(3);
    private static final long REQUEST_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(200);

    /** A neighbour: its IPv4 address, MAC and when it was last confirmed (System.nanoTime). */
    public record Neighbour(String ip, String mac, long updatedNanos) {}

    private final RouterConfig config;
    private final Map<String, RouterHandler> registry;
    private final List<RouterConfig.Route> routes;
    private final AtomicLong resolveDrops = new AtomicLong();
    private final Map<Integer, Long> lastRequest = new ConcurrentHashMap<>();
    private final Map<Integer, Long> probed = new ConcurrentHashMap<>();
    private volatile InstanceContext ctx;
    private volatile byte[][] macs = new byte[32][];
    private PeriodicTask aging;

    RouterHandler(RouterConfig config, Map<String, RouterHandler> registry) {
        this.config = config;
        this.registry = registry;
        this.routes = config.effectiveRoutes();
    }

    /** Packets dropped because their next hop was not resolved (an ARP request was sent instead). */
    public long resolveDrops() {
        return resolveDrops.get();
    }

    /** The MAC of a port. */
    public String mac(int port) {
        return macString(macs[port]);
    }

    /** The neighbour table as the data plane holds it. */
    public List<Neighbour> neighbours() {
        List<Neighbour> out = new ArrayList<>();
        BpfMap m = ctx.map("rt_neigh");
        for (byte[] k : keys(m)) {
            m.lookup(k).ifPresent(v -> out.add(new Neighbour(ConfigValues.ipString(ByteBuffer.wrap(k).getInt()),
                    macString(Arrays.copyOf(v, 6)), le(v).getLong(8))));
        }
        return out;
    }

    // ---- lifecycle --------------------------------------------------------------------------------

    @Override
    public synchronized void onStart(InstanceContext ctx) {
        this.ctx = ctx;
        byte[][] m = new byte[32][];
        for (var p : config.ports().values()) {
            m[p.index()] = p.mac() != null ? p.mac() : derivedMac(ctx.name(), p.index());
        }
        macs = m;
        syncPorts(ctx.map("rt_ports"), ctx.map("rt_local"));
        syncRoutes(ctx.map("rt_routes"));
        registry.put(ctx.name(), this);
        long period = Math.max(200, Math.min(5000, config.neighbourTimeoutSeconds() * 1000 / 4));
        aging = PeriodicTask.start("router-aging-" + ctx.name(), this::age, period, period);
    }

    @Override
    public synchronized void onStop(InstanceContext ctx) {
        if (aging != null) {
            aging.close();
            aging = null;
        }
        registry.remove(ctx.name(), this);
    }

    static byte[] derivedMac(String name, int port) {
        int h = name.hashCode();
        return new byte[] {0x02, 0x6a, (byte) (h >>> 16), (byte) (h >>> 8), (byte) h, (byte) port};
    }

    private void syncPorts(BpfMap ports, BpfMap local) {
        for (int i = 0; i < 32; i++) {
            ByteBuffer v = le(new byte[16]);
            RouterConfig.Port p = config.ports().get(i);
            if (p != null) {
                v.order(ByteOrder.BIG_ENDIAN).putInt(0, p.addr());
                v.order(ByteOrder.LITTLE_ENDIAN).putInt(4, p.prefixLen());
                v.put(8, macs[i]);
            }
            byte[] key = le(new byte[4]).putInt(0, i).array();
            setIfDifferent(ports, key, v.array());
        }
        Map<ByteKey, byte[]> want = new HashMap<>();
        for (var p : config.ports().values()) {
            want.put(new ByteKey(ByteBuffer.allocate(4).putInt(p.addr()).array()),
                    le(new byte[4]).putInt(0, p.index()).array());
        }
        sync(local, want);
    }

    private void syncRoutes(BpfMap trie) {
        Map<ByteKey, byte[]> want = new HashMap<>();
        for (var r : routes) {
            ByteBuffer k = le(new byte[8]).putInt(0, r.prefixLen());
            k.order(ByteOrder.BIG_ENDIAN).putInt(4, r.prefix());
            ByteBuffer v = ByteBuffer.allocate(16).putInt(0, r.nexthop());
            v.order(ByteOrder.LITTLE_ENDIAN).putInt(4, r.port()).putInt(8, r.metric());
            want.put(new ByteKey(k.array()), v.array());
        }
        sync(trie, want);
    }


    // ---- slow path ---------------------------------------------------------------------------------

    @Override
    public void onPacket(InstanceContext ctx, PacketIn p) {
        byte[] f = p.data();
        switch (p.reason()) {
            case RT_ARP -> arp(ctx, p.inPort(), f);
            case RT_LOCAL -> echo(ctx, p.inPort(), f);
            case RT_TTL -> icmpError(ctx, p.inPort(), f, 11, 0);
            case RT_UNREACH -> icmpError(ctx, p.inPort(), f, 3, 0);
            case RT_RESOLVE -> resolve(ctx, f);
            default -> { }
        }
    }

    private void arp(InstanceContext ctx, int inPort, byte[] f) {
        if (f.length < 42) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(f);
        RouterConfig.Port port = config.ports().get(inPort);
        if (port == null) {
            return;
        }
        int op = b.getShort(20), spa = b.getInt(28), tpa = b.getInt(38);
        byte[] sha = Arrays.copyOfRange(f, 22, 28);
        if (spa != 0 && spa != port.addr() && port.contains(spa) && (sha[0] & 1) == 0) {
            learn(spa, sha);
        }
        if (op == 1 && tpa == port.addr()) {
            ctx.transmit(inPort, Arp.frame(Arp.REPLY, macs[inPort], port.addr(), sha, spa, sha));
        }
    }

    private void learn(int ip, byte[] mac) {
        byte[] v = new byte[16];
        System.arraycopy(mac, 0, v, 0, 6);
        le(v).putLong(8, System.nanoTime());
        ctx.map("rt_neigh").update(ByteBuffer.allocate(4).putInt(ip).array(), v);
        probed.remove(ip);
    }

    private void sendArpRequest(InstanceContext ctx, int port, int ip, byte[] dst) {
        RouterConfig.Port p = config.ports().get(port);
        ctx.transmit(port, Arp.frame(Arp.REQUEST, macs[port], p.addr(), new byte[6], ip, dst));
    }

    private void resolve(InstanceContext ctx, byte[] f) {
        resolveDrops.incrementAndGet();
        if (f.length < 34) {
            return;
        }
        int dst = ByteBuffer.wrap(f).getInt(30);
        RouterConfig.Route r = lookup(dst);
        if (r == null) {
            return;
        }
        int hop = r.nexthop() != 0 ? r.nexthop() : dst;
        long now = System.nanoTime();
        Long last = lastRequest.get(hop);
        if (last != null && now - last < REQUEST_INTERVAL_NS) {
            return;
        }
        lastRequest.put(hop, now);
        sendArpRequest(ctx, r.port(), hop, Arp.broadcast());
    }

    RouterConfig.Route lookup(int ip) {
        RouterConfig.Route best = null;
        for (var r : routes) {
            if ((ip & ConfigValues.mask(r.prefixLen())) == r.prefix() && (best == null || r.prefixLen() > best.prefixLen())) {
                best = r;
            }
        }
        return best;
    }

    /** An echo reply back out of the port, to the MAC the request came from. */
    private void echo(InstanceContext ctx, int inPort, byte[] f) {
        if (f.length < 34) {
            return;
        }
        ByteBuffer in = ByteBuffer.wrap(f);
        int ihl = (f[14] & 0xf) * 4;
        int total = in.getShort(16) & 0xffff;
        if (total < ihl + 8 || 14 + total > f.length) {
            return; // truncated by the snap length
        }
        int icmpLen = total - ihl;
        byte[] icmp = Arrays.copyOfRange(f, 14 + ihl, 14 + total);
        icmp[0] = 0; // echo reply
        icmp[2] = 0;
        icmp[3] = 0;
        int c = checksum(icmp, 0, icmpLen);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
        int src = in.getInt(26), dst = in.getInt(30);
        transmitIp(ctx, inPort, Arrays.copyOfRange(f, 6, 12), dst, src, icmp);
    }

    /** ICMP type/code about the packet in f, from the address of the port it came in on. */
    private void icmpError(InstanceContext ctx, int inPort, byte[] f, int type, int code) {
        RouterConfig.Port port = config.ports().get(inPort);
        if (port == null || f.length < 34) {
            return;
        }
        int ihl = (f[14] & 0xf) * 4;
        if (!mayReportError(f, ihl)) {
            return;
        }
        int quoted = Math.min(ihl + 8, f.length - 14);
        byte[] icmp = new byte[8 + quoted];
        icmp[0] = (byte) type;
        icmp[1] = (byte) code;
        System.arraycopy(f, 14, icmp, 8, quoted);
        int c = checksum(icmp, 0, icmp.length);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
        int src = ByteBuffer.wrap(f).getInt(26);
        transmitIp(ctx, inPort, Arrays.copyOfRange(f, 6, 12), port.addr(), src, icmp);
    }

    /**
     * RFC 1812 4.3.2.7: no ICMP error about an ICMP error message (types 3, 4, 5, 11, 12), a fragment
     * other than the first, a packet to a broadcast or multicast address, or a packet whose source is
     * not the address of one host (0/8, 127/8, multicast, 240/4 and the broadcast address).
     */
    static boolean mayReportError(byte[] f, int ihl) {
        if (f[14 + 9] == 1 && f.length > 14 + ihl) {
            int t = f[14 + ihl] & 0xff;
            if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12) {
                return false;
            }
        }
        if ((((f[20] & 0x1f) << 8) | (f[21] & 0xff)) != 0) {
            return false;
        }
        int src = ByteBuffer.wrap(f).getInt(26), dst = ByteBuffer.wrap(f).getInt(30);
        int srcTop = src >>> 24, dstTop = dst >>> 24;
        return dstTop < 224 && srcTop != 0 && srcTop != 127 && srcTop < 224;
    }

    private void transmitIp(InstanceContext ctx, int port, byte[] dmac, int src, int dst, byte[] icmp) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + icmp.length);
        b.put(dmac).put(macs[port]).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + icmp.length)).putShort((short) 0).putShort((short) 0)
                .put((byte) 64).put((byte) 1).putShort((short) 0).putInt(src).putInt(dst);
        int c = checksum(b.array(), 14, 20);
        b.putShort(24, (short) c);
        b.put(icmp);
        ctx.transmit(port, b.array());
    }

    static int checksum(byte[] d, int off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((d[off + i] & 0xff) << 8) | (d[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (d[off + len - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    // ---- aging -------------------------------------------------------------------------------------

    /**
     * An entry older than the timeout is probed with a unicast ARP request; if nothing confirms it within
     * a few seconds it is removed. Entries on no connected subnet (after a reconfiguration) go at once.
     */
    private void age() {
        try {
            InstanceContext c = ctx;
            BpfMap m = c.map("rt_neigh");
            long now = System.nanoTime(), timeout = TimeUnit.SECONDS.toNanos(config.neighbourTimeoutSeconds());
            for (byte[] k : keys(m)) {
                var v = m.lookup(k);
                if (v.isEmpty()) {
                    continue;
                }
                int ip = ByteBuffer.wrap(k).getInt();
                long updated = le(v.get()).getLong(8);
                RouterConfig.Port port = config.ports().values().stream().filter(p -> p.contains(ip)).findFirst()
                        .orElse(null);
                if (port == null) {
                    m.delete(k);
                    continue;
                }
                if (now - updated < timeout) {
                    continue;
                }
                Long sent = probed.get(ip);
                if (sent == null) {
                    probed.put(ip, now);
                    sendArpRequest(c, port.index(), ip, Arrays.copyOf(v.get(), 6));
                } else if (now - sent > PROBE_GRACE_NS) {
                    m.delete(k);
                    probed.remove(ip);
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("neighbour aging", e);
        }
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static String macString(byte[] m) {
        return m == null ? null : ConfigValues.macString(m);
    }
}

package io.jvisor.modules.bridge;

import io.jvisor.modules.StandardModule;

import io.jvisor.bpf.BpfMap;
import io.jvisor.engine.Engine;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleHandler;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A learning Ethernet bridge: MAC learning with enforced aging, static FDB entries, a bounded FDB
 * with least-recently-used eviction, MAC moves, and flooding of unknown unicast, broadcast and
 * multicast in the kernel, 802.1Q access and trunk ports (tc). No STP. See docs/bridge.md.
 */
public final class Bridge extends StandardModule {
    /**
     * The learned FDB's capacity when {@code fdb.max} is not configured: when full, the least
     * recently used entry is evicted.
     */
    public static final int FDB_SIZE = 4096;
    /** The smallest {@code fdb.max}. */
    public static final int FDB_MIN = 16;
    /** The largest {@code fdb.max}. */
    public static final int FDB_MAX = 1 << 20;
    /** The configuration key of the learned FDB's capacity. */
    public static final String FDB_MAX_KEY = "fdb.max";
    /** The capacity of the static FDB. */
    public static final int STATIC_FDB_SIZE = 1024;
    /** The aging time when none is configured. */
    public static final long DEFAULT_AGING_SECONDS = 300;

    /**
     * The configuration: {@code agingSeconds}, {@code fdb.max} (see {@link #fdbSize}), and per port {@code port.N.vlan=V} (an access port in
     * VLAN V) or {@code port.N.trunk=V1,V2,...} with optional {@code port.N.native=V} (a trunk port).
     * Every key is optional; once one port has a VLAN mode, ports without one are access ports in
     * VLAN 1.
     */
    public record Config(long agingSeconds, Map<Integer, PortVlan> ports) {}

    /** A port's VLAN mode: access ({@code trunk} false, untagged in {@code pvid}) or trunk. */
    public record PortVlan(boolean trunk, int pvid, java.util.SortedSet<Integer> allowed) {}

    /**
     * One FDB entry. {@code age} is the time since the MAC was last seen, in whole kernel ticks (the
     * data plane stamps entries with jiffies), zero for static entries.
     */
    public record FdbEntry(String mac, int vlan, int port, boolean isStatic, Duration age) {}

    /** A type object; the engine's catalog holds one. */
    public Bridge() {
        super("bridge", io.jvisor.engine.Sdk.MAX_PORTS, c -> {
            parse(c);
            fdbSize(c);
        });
    }

    /** The keys {@link #validateConfig} accepts (see its module's doc). */
    @Override
    public java.util.List<io.jvisor.engine.ConfigKey> configKeys() {
        return java.util.List.of(
            io.jvisor.engine.ConfigKey.optional("agingSeconds", "1..1000000", Long.toString(DEFAULT_AGING_SECONDS),
                    "Seconds after which a learned MAC that was not seen again is forgotten."),
            io.jvisor.engine.ConfigKey.optional(FDB_MAX_KEY, FDB_MIN + ".." + FDB_MAX, Integer.toString(FDB_SIZE),
                    "Capacity of the learned FDB; when full, the least recently used entry is evicted."),
            io.jvisor.engine.ConfigKey.optional("port.N.vlan", "1..4094", null,
                    "Makes port N an access port in this VLAN (untagged). Once one port has a VLAN mode, ports "
                            + "without one are access ports in VLAN 1."),
            io.jvisor.engine.ConfigKey.optional("port.N.trunk", "VID[,VID...]", null,
                    "Makes port N a trunk port carrying these VLANs (1..4094) tagged; not with port.N.vlan."),
            io.jvisor.engine.ConfigKey.optional("port.N.native", "1..4094", null,
                    "The native VLAN of trunk port N, sent and received untagged; needs port.N.trunk."));
    }

    static Config parse(Map<String, String> config) {
        Map<Integer, PortVlan> ports = new java.util.TreeMap<>();
        for (String k : new java.util.TreeSet<>(config.keySet())) {
            if (k.equals("agingSeconds") || k.equals(FDB_MAX_KEY)) {
                continue;
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("port\\.(\\d{1,2})\\.(vlan|trunk|native)")
                    .matcher(k);
            if (!m.matches()) {
                throw new IllegalArgumentException("unknown key '" + k
                        + "' (known: agingSeconds, fdb.max, port.N.vlan, port.N.trunk, port.N.native)");
            }
            int port = Integer.parseInt(m.group(1));
            if (port >= io.jvisor.engine.Sdk.MAX_PORTS) {
                throw new IllegalArgumentException("key '" + k + "': no port " + port);
            }
            String what = m.group(2);
            String v = config.get(k).trim();
            String prefix = "port." + port + ".";
            switch (what) {
                case "vlan" -> {
                    if (config.containsKey(prefix + "trunk") || config.containsKey(prefix + "native")) {
                        throw new IllegalArgumentException("key '" + k + "': a port is access (vlan) or trunk, not both");
                    }
                    ports.put(port, new PortVlan(false, vid(k, v), new java.util.TreeSet<>()));
                }
                case "trunk" -> {
                    java.util.TreeSet<Integer> allowed = new java.util.TreeSet<>();
                    for (String one : v.split(",")) {
                        allowed.add(vid(k, one.trim()));
                    }
                    String nat = config.get(prefix + "native");
                    ports.put(port, new PortVlan(true, nat == null ? 0 : vid(prefix + "native", nat.trim()), allowed));
                }
                default -> {
                    if (!config.containsKey(prefix + "trunk")) {
                        throw new IllegalArgumentException("key '" + k + "': a native VLAN needs " + prefix + "trunk");
                    }
                }
            }
        }
        long aging = DEFAULT_AGING_SECONDS;
        String v = config.get("agingSeconds");
        if (v != null) {
            try {
                aging = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("key 'agingSeconds': '" + v + "' is not a whole number of seconds");
            }
            if (aging < 1 || aging > 1_000_000) {
                throw new IllegalArgumentException("key 'agingSeconds': " + aging + " is not in 1..1000000");
            }
        }
        return new Config(aging, Map.copyOf(ports));
    }

    /**
     * The learned FDB's capacity for a configuration: {@code fdb.max} ({@value #FDB_MIN} to
     * {@value #FDB_MAX}), or {@value #FDB_SIZE} when it is not set.
     *
     * @throws IllegalArgumentException naming the key when the value is not a whole number in range
     */
    public static int fdbSize(Map<String, String> config) {
        String v = config.get(FDB_MAX_KEY);
        if (v == null) {
            return FDB_SIZE;
        }
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("key '" + FDB_MAX_KEY + "': '" + v + "' is not a whole number of entries");
        }
        if (n < FDB_MIN || n > FDB_MAX) {
            throw new IllegalArgumentException("key '" + FDB_MAX_KEY + "': " + n + " is not in " + FDB_MIN + ".." + FDB_MAX);
        }
        return (int) n;
    }

    /** The learned FDB ({@code fdb}) is sized by {@code fdb.max}; a change reloads the instance with an empty one. */
    @Override
    public Map<String, Integer> mapSizes(Map<String, String> config) {
        return Map.of("fdb", fdbSize(config));
    }

    private static int vid(String key, String v) {
        try {
            int id = Integer.parseInt(v);
            if (id >= 1 && id <= 4094) {
                return id;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("key '" + key + "': '" + v + "' is not a VLAN id (1..4094)");
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        Config c = parse(config);
        return new ModuleHandler() {
            @Override
            public void onStart(InstanceContext ctx) {
                write(ctx, c);
                restamp(ctx.map("fdb"));
            }

            @Override
            public void migrate(InstanceContext ctx, String oldCodeHash, String newCodeHash) {
                write(ctx, c);
                restamp(ctx.map("fdb"));
            }
        };
    }

    private static void write(InstanceContext ctx, Config c) {
        boolean vlans = !c.ports().isEmpty();
        if (vlans) {
            BpfMap pv = ctx.map("port_vlans");
            for (int port = 0; port < io.jvisor.engine.Sdk.MAX_PORTS; port++) {
                PortVlan p = c.ports().getOrDefault(port, new PortVlan(false, 1, new java.util.TreeSet<>()));
                ByteBuffer v = le(8 + 512).putInt(p.trunk() ? 2 : 1).putInt(p.pvid());
                byte[] bits = new byte[512];
                for (int id : p.allowed()) {
                    bits[id >> 3] |= (byte) (1 << (id & 7));
                }
                v.put(bits);
                pv.update(le(4).putInt(port).array(), v.array());
            }
        }
        synchronized (Bridge.class) {
            boolean statics = ctx.map("fdb_static").keys().iterator().hasNext();
            ctx.map("bridge_cfg").update(le(4).putInt(0).array(), le(CFG_SIZE)
                    .putLong(KernelClock.secondsToTicks(c.agingSeconds())).putLong(vlans ? 1 : 0).putLong(statics ? 1 : 0).array());
        }
    }

    /**
     * Converts the last-seen times that an earlier bridge.c stamped in nanoseconds of the monotonic
     * clock (carried over by a live upgrade or a pinned FDB) to jiffies, keeping each entry's age.
     * A stamp later than now plus a second cannot be jiffies: CLOCK_MONOTONIC in ns is larger than
     * jiffies from about 5 s of uptime on. Returns how many entries it converted.
     */
    static int restamp(BpfMap fdb) {
        KernelClock.Calibration cal = KernelClock.calibration();
        int n = 0;
        for (byte[] k : toList(fdb.keys())) {
            byte[] v = fdb.lookup(k).orElse(null);
            if (v == null) {
                continue;
            }
            long mono = System.nanoTime();
            long now = cal.jiffiesAt(mono);
            long seen = le(v).getLong(8);
            if (seen > now + cal.hz()) {
                le(v).putLong(8, now - Math.max(0, mono - seen) / cal.tickNs());
                fdb.update(k, v);
                n++;
            }
        }
        return n;
    }

    /** sizeof(struct bridge_cfg): aging_ticks, vlans, statics. */
    private static final int CFG_SIZE = 24;
    private static final int CFG_STATICS_OFFSET = 16;

    /**
     * Tells the data plane whether fdb_static may hold entries: when it says no, the bridge skips
     * the static table's two lookups per frame. Set after an entry is added, cleared only when the
     * table is empty; callers hold the class lock, as {@link #write} does.
     */
    private static void setStaticsFlag(BpfMap cfg, boolean any) {
        byte[] key = le(4).putInt(0).array();
        byte[] v = cfg.lookup(key).orElse(new byte[CFG_SIZE]);
        le(v).putLong(CFG_STATICS_OFFSET, any ? 1 : 0);
        cfg.update(key, v);
    }

    // ---- the Java API on a running instance --------------------------------------------------

    /** The FDB of a bridge instance: static entries, then learned entries that have not aged out. */
    public static List<FdbEntry> fdb(Engine engine, String instance) {
        List<FdbEntry> out = new ArrayList<>();
        BpfMap statics = engine.map(instance, "fdb_static");
        for (byte[] k : toList(statics.keys())) {
            statics.lookup(k).ifPresent(v -> out.add(entry(k, v, true, 0)));
        }
        long aging = agingTicks(engine, instance);
        // the data plane stamps entries with jiffies: ages are exact to a tick
        long now = KernelClock.now();
        BpfMap learned = engine.map(instance, "fdb");
        for (byte[] k : toList(learned.keys())) {
            byte[] v = learned.lookup(k).orElse(null);
            if (v == null) {
                continue;
            }
            long seen = le(v).getLong(8);
            long age = Math.max(0, now - seen);
            if (age <= aging) {
                out.add(entry(k, v, false, KernelClock.toNanos(age)));
            }
        }
        return out;
    }

    /** The entry for a MAC in a VLAN (0 without VLANs), if the bridge knows it. */
    public static java.util.Optional<FdbEntry> lookup(Engine engine, String instance, String mac, int vlan) {
        String m = mac.toLowerCase(java.util.Locale.ROOT);
        return fdb(engine, instance).stream().filter(e -> e.mac().equals(m) && e.vlan() == vlan).findFirst();
    }

    /** How many learned entries the FDB holds, aged or not (at most its {@code fdb.max}). */
    public static int learnedEntries(Engine engine, String instance) {
        int n = 0;
        for (byte[] ignored : engine.map(instance, "fdb").keys()) {
            n++;
        }
        return n;
    }

    /** Adds or replaces a static entry: learning, aging and eviction never change it. */
    public static void addStatic(Engine engine, String instance, String mac, int vlan, int port) {
        if (port < 0 || port >= engine.catalog().get("bridge").ports()) {
            throw new IllegalArgumentException("no port " + port);
        }
        byte[] k = key(mac, vlan);
        synchronized (Bridge.class) {
            engine.map(instance, "fdb_static").update(k, le(16).putInt(port).putInt(1).putLong(0).array());
            setStaticsFlag(engine.map(instance, "bridge_cfg"), true);
        }
        engine.map(instance, "fdb").delete(k);
    }

    /** Removes a static entry; returns whether there was one. */
    public static boolean removeStatic(Engine engine, String instance, String mac, int vlan) {
        byte[] k = key(mac, vlan);
        synchronized (Bridge.class) {
            BpfMap statics = engine.map(instance, "fdb_static");
            boolean removed = statics.delete(k);
            if (!statics.keys().iterator().hasNext()) {
                setStaticsFlag(engine.map(instance, "bridge_cfg"), false);
            }
            return removed;
        }
    }

    /** Forgets every learned entry. */
    public static void flush(Engine engine, String instance) {
        BpfMap m = engine.map(instance, "fdb");
        for (byte[] k : new ArrayList<>(toList(m.keys()))) {
            m.delete(k);
        }
    }

    /**
     * Adds a learned entry as if the MAC had just been seen on {@code port} (for tests and for
     * pre-seeding); it ages and is evicted like any learned entry.
     */
    public static void learn(Engine engine, String instance, String mac, int vlan, int port) {
        engine.map(instance, "fdb").update(key(mac, vlan), le(16).putInt(port).putInt(0).putLong(KernelClock.now())
                .array());
    }

    /** The aging time in kernel ticks, as the data plane applies it. */
    private static long agingTicks(Engine engine, String instance) {
        long ticks = engine.map(instance, "bridge_cfg").lookup(le(4).putInt(0).array()).map(v -> le(v).getLong(0))
                .orElse(0L);
        return ticks == 0 ? DEFAULT_AGING_TICKS : ticks;
    }

    /** The data plane's aging time before the control plane has written one (bridge.c). */
    private static final long DEFAULT_AGING_TICKS = DEFAULT_AGING_SECONDS * 1000;

    private static List<byte[]> toList(Iterable<byte[]> it) {
        List<byte[]> l = new ArrayList<>();
        it.forEach(l::add);
        return l;
    }

    static byte[] key(String mac, int vlan) {
        if (vlan < 0 || vlan > 4094) {
            throw new IllegalArgumentException("VLAN " + vlan + " is not in 0..4094");
        }
        String hex = mac.replace(":", "").replace("-", "");
        if (hex.length() != 12) {
            throw new IllegalArgumentException("not a MAC address: " + mac);
        }
        byte[] m = HexFormat.of().parseHex(hex);
        return le(8).put(m).putShort((short) vlan).array();
    }

    private static FdbEntry entry(byte[] k, byte[] v, boolean isStatic, long ageNanos) {
        String mac = HexFormat.ofDelimiter(":").formatHex(k, 0, 6);
        int vlan = le(k).getShort(6) & 0xffff;
        return new FdbEntry(mac, vlan, le(v).getInt(0), isStatic, Duration.ofNanos(ageNanos));
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}

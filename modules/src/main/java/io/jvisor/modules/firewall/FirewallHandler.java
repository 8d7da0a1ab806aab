package io.jvisor.modules.firewall;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.MapType;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.modules.firewall.FirewallConfig.Chain;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The firewall's control plane: installs the rule set into the data plane's maps as one atomic
 * switch, keeps per-rule counters across rule-set changes, and reads counters and the conntrack
 * table.
 *
 * <p>Installing: the data plane holds two versions of the classifier and uses the one fw_active
 * names. The handler writes the whole new rule set into the other version, flips fw_active in one
 * map update, waits for an RCU grace period (so that no packet still reads the old version), and
 * then removes the old version. Each packet reads fw_active once: it is judged by the old rule set
 * or by the new one, never by a mix.
 *
 * <p>Counters belong to a rule's identity: its chain, its index and its text. A rule that is the
 * same before and after a change keeps its counter slot, so its counts go on; a new or changed
 * rule starts from zero.
 */
public final class FirewallHandler implements ModuleHandler {
    private static final Logger LOG = LoggerFactory.getLogger(FirewallHandler.class);
    static final int MAX_TUPLES = TupleSpace.MAX_TUPLES;
    static final int COUNTERS = 65536;
    static final int ACT_DROP = 1, ACT_LOG = 2;

    /** A rule's counts. */
    public record RuleCounter(Chain chain, int index, Rule rule, long packets, long bytes) {}

    /** One tracked connection, in its original direction. */
    public record Connection(int protocol, String src, int sport, String dst, int dport, String state, boolean replied,
                             Chain openedBy, Duration idle) {}

    private final FirewallConfig config;
    private final Map<String, FirewallHandler> registry;
    private volatile InstanceContext ctx;
    /** counter slot of each rule, by chain then position */
    private volatile int[][] slots = new int[2][];
    private volatile List<List<Map.Entry<Integer, Rule>>> installed = List.of(List.of(), List.of());
    private long lastInstallNanos;

    FirewallHandler(FirewallConfig config, Map<String, FirewallHandler> registry) {
        this.config = config;
        this.registry = registry;
    }

    /** The configuration this handler installed. */
    public FirewallConfig config() {
        return config;
    }

    /** How long the last rule-set installation took (writing, switching, clearing the old version). */
    public Duration lastInstallTime() {
        return Duration.ofNanos(lastInstallNanos);
    }

    @Override
    public synchronized void onStart(InstanceContext ctx) {
        this.ctx = ctx;
        writeTimeouts();
        long t0 = System.nanoTime();
        install();
        lastInstallNanos = System.nanoTime() - t0;
        registry.put(ctx.name(), this);
        LOG.info("firewall '{}': {} egress and {} ingress rules installed in {} ms", ctx.name(), config.egress().size(),
                config.ingress().size(), lastInstallNanos / 1_000_000);
    }

    @Override
    public synchronized void onStop(InstanceContext ctx) {
        // The rule set stays in the kernel: the next handler (a reconfiguration, or an engine that
        // adopts this one) switches from it to its own without a gap.
        registry.remove(ctx.name(), this);
    }

    // ---- installing ---------------------------------------------------------------------------

    private void writeTimeouts() {
        FirewallConfig.Timeouts t = config.timeouts();
        ByteBuffer b = le(48);
        for (Duration d : new Duration[] {t.tcpSyn(), t.tcpEstablished(), t.tcpFin(), t.tcpClose(), t.udp(), t.icmp()}) {
            b.putLong(d.toNanos());
        }
        ctx.map("fw_timeouts").update(u32(0), b.array());
    }

    private void install() {
        BpfMap rules = ctx.map("fw_rules"), tuples = ctx.map("fw_tuples"), chains = ctx.map("fw_chains");
        BpfMap active = ctx.map("fw_active"), ids = ctx.map("fw_ids"), counters = ctx.map("fw_counters");
        int v = active.lookup(u32(0)).map(b -> le(b).getInt(0)).orElse(0) & 1;
        int w = v ^ 1;

        // what the map holds now, by version
        List<byte[]> oldKeys = new ArrayList<>(), staleKeys = new ArrayList<>();
        for (BpfMap.Entry e : rules.lookupBatch(4096)) {
            int tuple = le(e.key()).getInt(0);
            (tuple / (2 * MAX_TUPLES) == v ? oldKeys : staleKeys).add(e.key());
        }
        deleteAll(rules, staleKeys);

        // counter slots: keep those of unchanged rules
        Map<Long, Integer> slotOf = new HashMap<>();
        BitSet used = new BitSet(COUNTERS);
        for (BpfMap.Entry e : ids.lookupBatch(8192)) {
            long id = le(e.value()).getLong(0);
            if (id != 0) {
                int slot = le(e.key()).getInt(0);
                slotOf.put(id, slot);
                used.set(slot);
            }
        }
        BitSet keep = new BitSet(COUNTERS);
        int[][] newSlots = new int[2][];
        List<List<Map.Entry<Integer, Rule>>> lists = new ArrayList<>();
        List<byte[]> newIdKeys = new ArrayList<>(), newIdValues = new ArrayList<>(), zeroKeys = new ArrayList<>();
        for (Chain c : Chain.values()) {
            List<Map.Entry<Integer, Rule>> list = new ArrayList<>(config.rules(c).entrySet());
            lists.add(list);
            int[] s = new int[list.size()];
            for (int i = 0; i < list.size(); i++) {
                long id = identity(c, list.get(i).getKey(), list.get(i).getValue());
                Integer slot = slotOf.get(id);
                if (slot == null || keep.get(slot)) {
                    slot = used.nextClearBit(0);
                    if (slot >= COUNTERS) {
                        throw new IllegalStateException("no free counter slot: " + COUNTERS + " in use");
                    }
                    used.set(slot);
                    zeroKeys.add(u32(slot));
                    newIdKeys.add(u32(slot));
                    newIdValues.add(le(8).putLong(0, id).array());
                }
                keep.set(slot);
                s[i] = slot;
            }
            newSlots[c.ordinal()] = s;
        }
        if (!zeroKeys.isEmpty()) {
            byte[] zero = new byte[counters.valueStride()];
            List<byte[]> zeros = java.util.Collections.nCopies(zeroKeys.size(), zero);
            batchUpdate(counters, zeroKeys, zeros);
            batchUpdate(ids, newIdKeys, newIdValues);
        }

        // the new version's classifier
        List<byte[]> keys = new ArrayList<>(), values = new ArrayList<>();
        int entryBudget = TupleSpace.MAX_ENTRIES;
        for (Chain c : Chain.values()) {
            List<Map.Entry<Integer, Rule>> list = lists.get(c.ordinal());
            List<Rule> rs = list.stream().map(Map.Entry::getValue).toList();
            TupleSpace ts = TupleSpace.compile(rs, c.key(), entryBudget);
            entryBudget -= ts.entries().size();
            int base = (w * 2 + c.ordinal()) * MAX_TUPLES;
            for (TupleSpace.Entry e : ts.entries()) {
                keys.add(key(base + e.tuple(), e));
                Rule r = rs.get(e.rule());
                values.add(le(16).putInt(0, e.prio()).putInt(4, newSlots[c.ordinal()][e.rule()])
                        .putInt(8, action(r.action(), r.log())).array());
            }
            for (int field = 0; field < 2; field++) {
                if (ts.usesClasses(field == 0)) {
                    int[] cls = field == 0 ? ts.sportClass() : ts.dportClass();
                    int pbase = ((w * 2 + c.ordinal()) * 2 + field) * 65536;
                    List<byte[]> ck = new ArrayList<>(65536), cv = new ArrayList<>(65536);
                    for (int port = 0; port < 65536; port++) {
                        ck.add(u32(pbase + port));
                        cv.add(le(2).putShort(0, (short) cls[port]).array());
                    }
                    batchUpdate(ctx.map("fw_pclass"), ck, cv);
                }
            }
            List<byte[]> tk = new ArrayList<>(), tv = new ArrayList<>();
            for (int i = 0; i < ts.tuples().size(); i++) {
                tk.add(u32(base + i));
                tv.add(tuple(ts.tuples().get(i)));
            }
            batchUpdate(tuples, tk, tv);
            FirewallConfig.Policy p = config.policy(c);
            chains.update(u32(w * 2 + c.ordinal()), le(16).putInt(0, ts.tuples().size())
                    .putInt(4, action(p.action(), p.log())).array());
        }
        batchUpdate(rules, keys, values);

        // the switch: one array update; then no packet uses the old version any more
        active.update(u32(0), u32(w));
        slots = newSlots;
        installed = lists;
        grace();
        deleteAll(rules, oldKeys);
        List<byte[]> freed = new ArrayList<>();
        for (int s = used.nextSetBit(0); s >= 0; s = used.nextSetBit(s + 1)) {
            if (!keep.get(s)) {
                freed.add(u32(s));
            }
        }
        batchUpdate(ids, freed, java.util.Collections.nCopies(freed.size(), new byte[8]));
    }

    /**
     * Waits until every BPF program that may have read the old fw_active value has finished: an
     * update of a map-in-map returns only after an RCU grace period (the kernel's
     * maybe_wait_bpf_programs), and the data plane runs inside an RCU read-side section.
     */
    private void grace() {
        try (BpfMap inner = BpfMap.create(MapSpec.array("fw_grace_in", 4, 1));
             BpfMap outer = BpfMap.create(MapSpec.mapOfMaps("fw_grace", MapType.ARRAY_OF_MAPS, 4, 1,
                     MapSpec.array("fw_grace_in", 4, 1)))) {
            outer.setInner(u32(0), inner);
        }
    }

    private static void deleteAll(BpfMap m, List<byte[]> keys) {
        for (int i = 0; i < keys.size(); i += 8192) {
            m.deleteBatch(keys.subList(i, Math.min(keys.size(), i + 8192)));
        }
    }

    private static void batchUpdate(BpfMap m, List<byte[]> keys, List<byte[]> values) {
        for (int i = 0; i < keys.size(); i += 8192) {
            int j = Math.min(keys.size(), i + 8192);
            m.updateBatch(keys.subList(i, j), values.subList(i, j), io.jvisor.bpf.UpdateFlag.ANY);
        }
    }

    static int action(Rule.Action a, boolean log) {
        return (a == Rule.Action.DROP ? ACT_DROP : 0) | (log ? ACT_LOG : 0);
    }

    static byte[] key(int tuple, TupleSpace.Entry e) {
        ByteBuffer b = le(20).putInt(0, tuple);
        b.order(ByteOrder.BIG_ENDIAN).putInt(4, e.src()).putInt(8, e.dst()).putShort(12, (short) e.sport())
                .putShort(14, (short) e.dport());
        b.put(16, (byte) e.proto()).put(17, (byte) e.flags()).put(18, (byte) e.state());
        return b.array();
    }

    static byte[] tuple(TupleSpace.Tuple t) {
        ByteBuffer b = ByteBuffer.allocate(24);
        b.putInt(0, Rule.Prefix.mask(t.srcLen())).putInt(4, Rule.Prefix.mask(t.dstLen()))
                .putShort(8, (short) TupleSpace.Tuple.portMask(t.sportLen()))
                .putShort(10, (short) TupleSpace.Tuple.portMask(t.dportLen()));
        b.put(12, (byte) (t.proto() ? 1 : 0)).put(13, (byte) t.flagMask()).put(14, (byte) (t.state() ? 1 : 0))
                .put(15, (byte) ((t.sportLen() == TupleSpace.CLASS ? 1 : 0) | (t.dportLen() == TupleSpace.CLASS ? 2 : 0)));
        b.order(ByteOrder.LITTLE_ENDIAN).putInt(16, t.minPrio());
        return b.array();
    }

    /** A rule's identity: chain, index and canonical text (FNV-1a, never 0). */
    static long identity(Chain c, int index, Rule r) {
        long h = 0xcbf29ce484222325L;
        for (byte x : (c.key() + "." + index + "=" + r).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (x & 0xff)) * 0x100000001b3L;
        }
        return h == 0 ? 1 : h;
    }

    // ---- reading ------------------------------------------------------------------------------

    /** Every rule's counts, chain by chain in rule order. */
    public List<RuleCounter> counters() {
        InstanceContext c = requireStarted();
        BpfMap m = c.map("fw_counters");
        List<RuleCounter> out = new ArrayList<>();
        int[][] s = slots;
        var lists = installed;
        for (Chain ch : Chain.values()) {
            var list = lists.get(ch.ordinal());
            for (int i = 0; i < list.size(); i++) {
                long[] pb = sum(m, s[ch.ordinal()][i]);
                out.add(new RuleCounter(ch, list.get(i).getKey(), list.get(i).getValue(), pb[0], pb[1]));
            }
        }
        return out;
    }

    /** The counts of one rule, by its chain and index. */
    public RuleCounter counter(Chain chain, int index) {
        return counters().stream().filter(r -> r.chain() == chain && r.index() == index).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("chain " + chain.key() + " has no rule " + index));
    }

    /** Packets and bytes that a chain's policy judged (no rule matched): {packets, bytes}. */
    public long[] policyCounter(Chain chain) {
        return sum(requireStarted().map("fw_counters"), COUNTERS + chain.ordinal());
    }

    private static long[] sum(BpfMap m, int slot) {
        long p = 0, b = 0;
        for (byte[] v : m.lookupPerCpu(u32(slot)).orElseThrow()) {
            ByteBuffer x = le(v);
            p += x.getLong(0);
            b += x.getLong(8);
        }
        return new long[] {p, b};
    }

    /** The conntrack table (expired entries the data plane has not met again are left out). */
    public List<Connection> connections() {
        InstanceContext c = requireStarted();
        long now = monotonicNanos();
        FirewallConfig.Timeouts t = config.timeouts();
        List<Connection> out = new ArrayList<>();
        for (BpfMap.Entry e : c.map("fw_ct").lookupBatch(4096)) {
            ByteBuffer k = ByteBuffer.wrap(e.key());
            ByteBuffer v = le(e.value());
            int proto = k.get(12) & 0xff;
            int st = v.getInt(8);
            long idle = Math.max(0, now - v.getLong(0));
            Duration limit = switch (proto) {
                case 17 -> t.udp();
                case 1 -> t.icmp();
                default -> switch (st) {
                    case 3 -> t.tcpEstablished();
                    case 4, 5 -> t.tcpFin();
                    case 6 -> t.tcpClose();
                    default -> t.tcpSyn();
                };
            };
            if (idle > limit.toNanos()) {
                continue;
            }
            String state = proto != 6 ? ((v.getInt(12) & 1) != 0 ? "replied" : "unreplied")
                    : switch (st) {
                        case 1 -> "syn_sent";
                        case 2 -> "syn_recv";
                        case 3 -> "established";
                        case 4 -> "fin_wait";
                        case 5 -> "closing";
                        case 6 -> "closed";
                        default -> "none";
                    };
            out.add(new Connection(proto, Rule.ipString(k.getInt(0)), k.getShort(8) & 0xffff, Rule.ipString(k.getInt(4)),
                    k.getShort(10) & 0xffff, state, (v.getInt(12) & 1) != 0, Chain.values()[v.getInt(16) & 1],
                    Duration.ofNanos(idle)));
        }
        return out;
    }

    /** Removes every tracked connection (established traffic is then judged as new or invalid). */
    public void flushConnections() {
        BpfMap m = requireStarted().map("fw_ct");
        List<byte[]> keys = m.lookupBatch(4096).stream().map(BpfMap.Entry::key).toList();
        deleteAll(m, keys);
    }

    private InstanceContext requireStarted() {
        InstanceContext c = ctx;
        if (c == null) {
            throw new IllegalStateException("the firewall's control plane has not started");
        }
        return c;
    }

    /** CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns (HotSpot's System.nanoTime reads it on Linux). */
    private static long monotonicNanos() {
        return System.nanoTime();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] u32(int v) {
        return le(4).putInt(0, v).array();
    }
}

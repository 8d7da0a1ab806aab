package io.jvisor.modules.ddos;

import io.jvisor.modules.MapSync;
import io.jvisor.modules.MapSync.ByteKey;
import io.jvisor.modules.StandardModule;

import io.jvisor.bpf.BpfMap;
import io.jvisor.engine.Engine;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.net.IpPrefix;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A transparent DDoS mitigator (type {@code ddos}), written for XDP first: two ports, IPv4 frames
 * entering a policed port are dropped when their source or destination is in a blocklist (LPM
 * tries) or their source is over its token-bucket rate limit; everything else is forwarded to the
 * other port. Drops are counted by reason, by blocklist prefix and by rate-limited source.
 * Configuration: {@link DdosConfig}; algorithm and figures: docs/ddos.md.
 */
public final class DdosModule extends StandardModule {
    /** The type name. */
    public static final String NAME = "ddos";
    /** Drop reasons in {@link Engine#drops}: {@code user_1}, {@code user_2}, {@code user_3}. */
    public static final String DROP_SOURCE_BLOCKED = "user_1", DROP_DESTINATION_BLOCKED = "user_2",
            DROP_RATE_LIMITED = "user_3";

    /** A type object; the engine's catalog holds one. */
    public DdosModule() {
        super(NAME, 2, DdosConfig::parse);
    }

    /** The keys {@link #validateConfig} accepts (see its module's doc). */
    @Override
    public java.util.List<io.jvisor.engine.ConfigKey> configKeys() {
        return java.util.List.of(
            io.jvisor.engine.ConfigKey.optional("block.src", "PREFIX[,PREFIX...]", null,
                    "IPv4 prefixes or addresses (commas or spaces between them); frames from them are dropped."),
            io.jvisor.engine.ConfigKey.optional("block.dst", "PREFIX[,PREFIX...]", null, "The same for destinations."),
            io.jvisor.engine.ConfigKey.optional("rate.pps", "1..1000000000", null,
                    "The per-source rate limit in packets per second; none when absent."),
            io.jvisor.engine.ConfigKey.optional("rate.burst", "1..1000000000", null,
                    "The per-source burst in packets (default: rate.pps, one second's worth); needs rate.pps."),
            io.jvisor.engine.ConfigKey.optional("ports", "0|1|0,1", "0",
                    "The ports whose incoming frames are policed; frames entering the other port pass."),
            io.jvisor.engine.ConfigKey.optional(DdosConfig.BLOCKLIST_MAX_KEY, DdosConfig.BLOCKLIST_MIN + ".."
                    + DdosConfig.BLOCKLIST_LIMIT, Integer.toString(DdosConfig.MAX_PREFIXES),
                    "The capacity of each blocklist in prefixes; a longer block.src or block.dst is refused. A change "
                            + "reloads the instance with new blocklists, written again from the configuration."),
            io.jvisor.engine.ConfigKey.optional(DdosConfig.SOURCES_MAX_KEY, DdosConfig.SOURCES_MIN + ".."
                    + DdosConfig.SOURCES_LIMIT, Integer.toString(DdosConfig.DEFAULT_SOURCES),
                    "The capacity of the rate limit's source table; when full, the least recently seen source is "
                            + "forgotten. A change reloads the instance with an empty table."));
    }

    /**
     * The blocklists ({@code dd_src_block}, {@code dd_dst_block}) are sized by {@code blocklist.max}
     * and the source table ({@code dd_sources}) by {@code sources.max}. A change of either reloads
     * the instance with new, empty maps of the new size: the blocklists are written again from the
     * configuration before the reloaded program takes traffic (their hit counters start again from
     * zero), a new source table starts every source with a full bucket and forgets which sources
     * were limited; the counters ({@code dd_stats}), the engine's drop counters and every map whose
     * size does not change are carried over.
     */
    @Override
    public Map<String, Integer> mapSizes(Map<String, String> config) {
        DdosConfig c = DdosConfig.parse(config);
        return Map.of("dd_src_block", c.blocklistMax(), "dd_dst_block", c.blocklistMax(), "dd_sources", c.sourcesMax());
    }

    @Override
    public ModuleHandler handler(Map<String, String> config) {
        DdosConfig c = DdosConfig.parse(config);
        return new ModuleHandler() {
            @Override
            public void onStart(InstanceContext ctx) {
                apply(c, ctx.map("dd_cfg"), ctx.map("dd_src_block"), ctx.map("dd_dst_block"));
            }

            /** A resize or a code swap: fill new blocklists before the reloaded program takes traffic. */
            @Override
            public void migrate(InstanceContext ctx, String oldCodeHash, String newCodeHash) {
                apply(c, ctx.map("dd_cfg"), ctx.map("dd_src_block"), ctx.map("dd_dst_block"));
            }
        };
    }

    /** The counters of a ddos instance. */
    public static DdosStats stats(Engine engine, String instance) {
        return DdosStats.read(engine.map(instance, "dd_stats"), engine.map(instance, "dd_src_block"),
                engine.map(instance, "dd_dst_block"));
    }

    /** The sources a ddos instance's rate limit has dropped frames of, and how many. */
    public static Map<InetAddress, Long> rateLimitedSources(Engine engine, String instance) {
        return DdosStats.rateLimitedSources(engine.map(instance, "dd_sources"));
    }

    /**
     * Makes the data plane's maps say {@code c}. Blocklist entries are added before the stale ones
     * are removed, and entries that stay keep their hit counters; the rate limit state of sources is
     * kept across a change of rate.
     */
    static void apply(DdosConfig c, BpfMap cfg, BpfMap src, BpfMap dst) {
        sync(src, c.blockedSources());
        sync(dst, c.blockedDestinations());
        ByteBuffer v = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        if (c.rateLimit() != null) {
            v.putLong(0, c.rateLimit().intervalNanos()).putLong(8, c.rateLimit().toleranceNanos());
        }
        int ports = 0;
        for (int p : c.ports()) {
            ports |= 1 << p;
        }
        v.putInt(16, ports);
        MapSync.setIfDifferent(cfg, new byte[4], v.array());
    }

    private static void sync(BpfMap trie, List<IpPrefix> want) {
        Set<ByteKey> wanted = new HashSet<>();
        for (IpPrefix p : want) {
            ByteKey k = new ByteKey(key(p));
            wanted.add(k);
            if (trie.lookup(k.b()).isEmpty()) {
                trie.update(k.b(), new byte[16]);
            }
        }
        for (byte[] k : MapSync.keys(trie)) {
            if (!wanted.contains(new ByteKey(k))) {
                trie.delete(k);
            }
        }
    }

    static byte[] key(IpPrefix p) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, p.length());
        b.put(4, p.address().getAddress());
        return b.array();
    }
}

package io.jvisor.modules.ddos;

import io.jvisor.bpf.BpfMap;
import io.jvisor.net.IpPrefix;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a DDoS mitigator let through and dropped, and why (kernel counters, summed over CPUs).
 *
 * @param passed policed frames that passed every check
 * @param sourceBlocked frames dropped because their source is in the source blocklist
 * @param destinationBlocked frames dropped because their destination is in the destination blocklist
 * @param rateLimited frames dropped by the per-source rate limit
 * @param notPoliced frames forwarded unchecked: not IPv4, or entering a port that is not policed
 * @param sourceHits the drops of each source blocklist prefix
 * @param destinationHits the drops of each destination blocklist prefix
 */
public record DdosStats(Counter passed, Counter sourceBlocked, Counter destinationBlocked, Counter rateLimited,
                        Counter notPoliced, Map<IpPrefix, Counter> sourceHits, Map<IpPrefix, Counter> destinationHits) {

    /**
     * Frames and bytes.
     *
     * @param packets frames
     * @param bytes their bytes
     */
    public record Counter(long packets, long bytes) {}

    /** Frames dropped for any reason. */
    public long dropped() {
        return sourceBlocked.packets + destinationBlocked.packets + rateLimited.packets;
    }

    /** Reads a ddos instance's maps: {@code dd_stats}, {@code dd_src_block}, {@code dd_dst_block}. */
    public static DdosStats read(BpfMap stats, BpfMap sourceBlocks, BpfMap destinationBlocks) {
        Counter[] c = new Counter[5];
        for (int i = 0; i < c.length; i++) {
            long p = 0, b = 0;
            for (byte[] v : stats.lookupPerCpu(u32(i)).orElseThrow()) {
                ByteBuffer bb = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
                p += bb.getLong(0);
                b += bb.getLong(8);
            }
            c[i] = new Counter(p, b);
        }
        return new DdosStats(c[0], c[1], c[2], c[3], c[4], hits(sourceBlocks), hits(destinationBlocks));
    }

    private static Map<IpPrefix, Counter> hits(BpfMap trie) {
        Map<IpPrefix, Counter> out = new LinkedHashMap<>();
        for (byte[] k : trie.keys()) {
            trie.lookup(k).ifPresent(v -> {
                ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
                out.put(prefix(k), new Counter(b.getLong(0), b.getLong(8)));
            });
        }
        return out;
    }

    /** struct dd_key: prefix length (host order), address (network order). */
    static IpPrefix prefix(byte[] key) {
        int len = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        try {
            return new IpPrefix(InetAddress.getByAddress(java.util.Arrays.copyOfRange(key, 4, 8)), len);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The sources the rate limit has dropped frames of, with how many, from the {@code dd_sources}
     * LRU (sources evicted from it are no longer listed, but stay counted in {@link #rateLimited}).
     */
    public static Map<InetAddress, Long> rateLimitedSources(BpfMap sources) {
        Map<InetAddress, Long> out = new LinkedHashMap<>();
        List<BpfMap.Entry> entries = sources.lookupBatch(1024);
        for (BpfMap.Entry e : entries) {
            long dropped = ByteBuffer.wrap(e.value()).order(ByteOrder.LITTLE_ENDIAN).getLong(8);
            if (dropped > 0) {
                try {
                    out.put(InetAddress.getByAddress(e.key()), dropped);
                } catch (UnknownHostException x) {
                    throw new IllegalStateException(x);
                }
            }
        }
        return out;
    }

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}

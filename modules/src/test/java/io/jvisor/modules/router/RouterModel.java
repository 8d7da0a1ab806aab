package io.jvisor.modules.router;

import io.jvisor.modules.Expected;
import io.jvisor.modules.Wire;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A reference model of the router, written from docs/modules.md ("The router") and docs/router.md
 * (not from router.c or RouterHandler): given the ports, the routes and the neighbour table, what the
 * router does with a frame on a port, and what its control plane sends in answer. It learns
 * neighbours from ARP as the router does, so that a sequence of frames can be checked.
 */
public final class RouterModel {
    public static final int DROP_NOT_IP = 257;
    public static final int DROP_NO_PORT = 258;
    public static final int DROP_NOT_FOR_US = 259;
    public static final int DROP_LOCAL = 260;

    public static final int RT_ARP = 1, RT_LOCAL = 2, RT_TTL = 3, RT_UNREACH = 4, RT_RESOLVE = 5;

    /** 200 ms between ARP requests for one address; within this much of it, either outcome is right. */
    static final long REQUEST_INTERVAL_NS = 200_000_000L;
    static final long TIMING_SLACK_NS = 50_000_000L;

    /** A port: address, prefix length, MAC. */
    public record Port(int index, int addr, int prefixLen, long mac) {
        int mask() {
            return prefixLen == 0 ? 0 : -1 << (32 - prefixLen);
        }

        boolean contains(int ip) {
            return (ip & mask()) == (addr & mask());
        }
    }

    /** A static route as configured: prefix via next hop, metric. */
    public record StaticRoute(int prefix, int prefixLen, int via, int metric) {}

    private record Route(int prefix, int prefixLen, int nexthop, int port) {
        boolean matches(int ip) {
            int mask = prefixLen == 0 ? 0 : -1 << (32 - prefixLen);
            return (ip & mask) == prefix;
        }
    }

    private final Map<Integer, Port> ports = new TreeMap<>();
    private final List<Route> routes = new ArrayList<>();
    private final Map<Integer, Long> neighbours = new HashMap<>();
    private final Map<Integer, Long> lastRequest = new HashMap<>();

    public RouterModel(List<Port> ports, List<StaticRoute> statics) {
        for (Port p : ports) {
            this.ports.put(p.index(), p);
        }
        // connected routes; a connected route beats a static one of the same prefix; among static
        // routes of one prefix the lowest metric wins
        Map<Long, Route> best = new HashMap<>();
        Map<Long, Integer> metric = new HashMap<>();
        for (Port p : ports) {
            best.put(key(p.addr() & p.mask(), p.prefixLen()), new Route(p.addr() & p.mask(), p.prefixLen(), 0, p.index()));
        }
        for (StaticRoute s : statics) {
            int mask = s.prefixLen() == 0 ? 0 : -1 << (32 - s.prefixLen());
            long k = key(s.prefix() & mask, s.prefixLen());
            Route old = best.get(k);
            if (old != null && old.nexthop() == 0) {
                continue;
            }
            if (old == null || s.metric() < metric.get(k)) {
                Port out = ports.stream().filter(p -> p.contains(s.via())).findFirst().orElseThrow();
                best.put(k, new Route(s.prefix() & mask, s.prefixLen(), s.via(), out.index()));
                metric.put(k, s.metric());
            }
        }
        routes.addAll(best.values());
    }

    private static long key(int prefix, int len) {
        return ((long) len << 32) | (prefix & 0xffffffffL);
    }

    public Map<Integer, Long> neighbours() {
        return Map.copyOf(neighbours);
    }

    private Route lookup(int ip) {
        Route best = null;
        for (Route r : routes) {
            if (r.matches(ip) && (best == null || r.prefixLen() > best.prefixLen())) {
                best = r;
            }
        }
        return best;
    }

    private boolean isOwnAddress(int ip) {
        return ports.values().stream().anyMatch(p -> p.addr() == ip);
    }

    /**
     * What the router does with {@code f} arriving on port {@code in}.
     *
     * @param nowNanos when the control plane handles the frame (System.nanoTime()), for the ARP
     *     request rate limit; any value when it does not reach the control plane
     */
    public Expected receive(int in, byte[] f, long nowNanos) {
        Port port = ports.get(in);
        if (port == null) {
            return Expected.drop(DROP_NO_PORT, "port " + in + " has no address");
        }
        int type = Wire.u16(f, 12);
        if (type == Wire.ETH_P_ARP) {
            return arp(port, f);
        }
        if (type != Wire.ETH_P_IP || f.length < 34) {
            return Expected.drop(DROP_NOT_IP, "not IPv4");
        }
        int version = (f[14] & 0xff) >>> 4, ihl = (f[14] & 0xf) * 4;
        if (version != 4 || ihl < 20 || 14 + ihl > f.length) {
            return Expected.drop(DROP_NOT_IP, "not a well-formed IPv4 header (version " + version + ", IHL " + ihl
                    + " bytes, " + (f.length - 14) + " bytes after Ethernet)");
        }
        if (Wire.macValue(f, 0) != port.mac()) {
            return Expected.drop(DROP_NOT_FOR_US, "not sent to the port's MAC");
        }
        int proto = f[23] & 0xff, ttl = f[22] & 0xff, src = Wire.u32(f, 26), dst = Wire.u32(f, 30);
        if (isOwnAddress(dst)) {
            boolean echo = proto == 1 && f.length >= 14 + ihl + 8 && f[14 + ihl] == 8;
            if (!echo) {
                return Expected.drop(DROP_LOCAL, "to our address, not an echo request");
            }
            return Expected.controller(RT_LOCAL, echoReply(port, f, ihl), "echo request to " + Wire.ip(dst));
        }
        Route r = lookup(dst);
        if (r == null) {
            return Expected.controller(RT_UNREACH, icmpError(port, f, ihl, 3, 0), "no route to " + Wire.ip(dst));
        }
        if (ttl <= 1) {
            return Expected.controller(RT_TTL, icmpError(port, f, ihl, 11, 0), "TTL " + ttl);
        }
        int hop = r.nexthop() != 0 ? r.nexthop() : dst;
        Long mac = neighbours.get(hop);
        if (mac == null) {
            List<Expected.Emitted> req = new ArrayList<>();
            Long last = lastRequest.get(hop);
            long since = last == null ? Long.MAX_VALUE : nowNanos - last;
            Port out = ports.get(r.port());
            byte[] request = arpFrame(1, out.mac(), out.addr(), 0, hop, 0xff_ff_ff_ff_ff_ffL);
            if (since >= REQUEST_INTERVAL_NS + TIMING_SLACK_NS) {
                req.add(new Expected.Emitted(out.index(), request));
                lastRequest.put(hop, nowNanos);
            } else if (since > REQUEST_INTERVAL_NS - TIMING_SLACK_NS) {
                req.add(new Expected.Emitted(out.index(), request, true)); // the test tells us: requestSeen
            }
            return Expected.controller(RT_RESOLVE, req, "next hop " + Wire.ip(hop) + " unresolved");
        }
        byte[] o = f.clone();
        int oldWord = Wire.u16(o, 22);
        o[22] = (byte) (ttl - 1);
        int newWord = Wire.u16(o, 22);
        int hc = Wire.u16(o, 24);
        // RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')
        int sum = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        int hc2 = ~sum & 0xffff;
        o[24] = (byte) (hc2 >>> 8);
        o[25] = (byte) hc2;
        System.arraycopy(Wire.mac(mac), 0, o, 0, 6);
        System.arraycopy(Wire.mac(ports.get(r.port()).mac()), 0, o, 6, 6);
        return Expected.forward(r.port(), o, "to " + Wire.ip(dst) + " via " + Wire.ip(hop));
    }

    /** The test saw the optional ARP request of a RESOLVE at {@code nowNanos}. */
    public void requestSeen(int hop, long nowNanos) {
        lastRequest.put(hop, nowNanos);
    }

    private Expected arp(Port port, byte[] f) {
        if (f.length < 42 || Wire.u16(f, 14) != 1 || Wire.u16(f, 16) != Wire.ETH_P_IP || f[18] != 6 || f[19] != 4) {
            return Expected.drop(DROP_NOT_FOR_US, "not an Ethernet/IPv4 ARP packet");
        }
        int op = Wire.u16(f, 20), spa = Wire.u32(f, 28), tpa = Wire.u32(f, 38);
        long sha = Wire.macValue(f, 22);
        if (op == 2) {
            learn(port, spa, sha);
            return Expected.controller(RT_ARP, List.of(), "ARP reply");
        }
        if (op != 1 || tpa != port.addr()) {
            return Expected.drop(DROP_NOT_FOR_US, op != 1 ? "ARP op " + op : "ARP request for another address");
        }
        learn(port, spa, sha);
        return Expected.controller(RT_ARP, List.of(new Expected.Emitted(port.index(),
                arpFrame(2, port.mac(), port.addr(), sha, spa, sha))), "ARP request for our address");
    }

    /** Docs: the sender of a request for us and of every reply is learned when it is on the port's subnet. */
    private void learn(Port port, int spa, long sha) {
        if (spa != 0 && spa != port.addr() && port.contains(spa) && !Wire.isGroup(sha)) {
            neighbours.put(spa, sha);
        }
    }

    static byte[] arpFrame(int op, long smac, int sip, long tmac, int tip, long ethDst) {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(Wire.mac(ethDst)).put(Wire.mac(smac)).putShort((short) Wire.ETH_P_ARP);
        b.putShort((short) 1).putShort((short) Wire.ETH_P_IP).put((byte) 6).put((byte) 4).putShort((short) op);
        b.put(Wire.mac(smac)).putInt(sip).put(Wire.mac(tmac)).putInt(tip);
        return b.array();
    }

    /** docs/router.md: an echo reply quotes the request's ICMP message; none when the IP total length is off. */
    private List<Expected.Emitted> echoReply(Port port, byte[] f, int ihl) {
        int total = Wire.u16(f, 16);
        if (total < ihl + 8 || 14 + total > f.length) {
            return List.of();
        }
        byte[] icmp = Arrays.copyOfRange(f, 14 + ihl, 14 + total);
        icmp[0] = 0;
        icmp[2] = 0;
        icmp[3] = 0;
        int c = Wire.checksum(icmp, 0, icmp.length);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
        return List.of(new Expected.Emitted(port.index(), ipFrame(Wire.macValue(f, 6), port.mac(), Wire.u32(f, 30),
                Wire.u32(f, 26), icmp)));
    }

    /**
     * docs/router.md (RFC 1812 4.3.2.7): no ICMP error about an ICMP error message (types 3, 4, 5, 11,
     * 12), about a fragment other than the first, about a packet to a broadcast or multicast address, or
     * about one whose source is not one host's address (0/8, 127/8, 224/4 and up).
     */
    private List<Expected.Emitted> icmpError(Port port, byte[] f, int ihl, int type, int code) {
        int proto = f[23] & 0xff;
        if (proto == 1 && f.length > 14 + ihl) {
            int t = f[14 + ihl] & 0xff;
            if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12) {
                return List.of();
            }
        }
        if ((Wire.u16(f, 20) & 0x1fff) != 0) {
            return List.of();
        }
        int src = Wire.u32(f, 26), dst = Wire.u32(f, 30);
        boolean dstGroup = Integer.compareUnsigned(dst, 0xe0000000) >= 0;
        boolean srcNotHost = (src >>> 24) == 0 || (src >>> 24) == 127 || Integer.compareUnsigned(src, 0xe0000000) >= 0;
        if (dstGroup || srcNotHost) {
            return List.of();
        }
        int quoted = Math.min(ihl + 8, f.length - 14);
        byte[] icmp = new byte[8 + quoted];
        icmp[0] = (byte) type;
        icmp[1] = (byte) code;
        System.arraycopy(f, 14, icmp, 8, quoted);
        int c = Wire.checksum(icmp, 0, icmp.length);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
        return List.of(new Expected.Emitted(port.index(), ipFrame(Wire.macValue(f, 6), port.mac(), port.addr(),
                Wire.u32(f, 26), icmp)));
    }

    /** docs/router.md: generated packets have a 20-byte header, TOS 0, ID 0, no flags, TTL 64. */
    private static byte[] ipFrame(long dmac, long smac, int src, int dst, byte[] icmp) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + icmp.length);
        b.put(Wire.mac(dmac)).put(Wire.mac(smac)).putShort((short) Wire.ETH_P_IP);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + icmp.length)).putInt(0).put((byte) 64).put((byte) 1)
                .putShort((short) 0).putInt(src).putInt(dst);
        int c = Wire.checksum(b.array(), 14, 20);
        b.putShort(24, (short) c);
        b.put(icmp);
        return b.array();
    }
}

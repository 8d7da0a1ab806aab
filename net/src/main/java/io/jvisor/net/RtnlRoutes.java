package io.jvisor.net;

import io.jvisor.net.sys.Attributes;
import io.jvisor.net.sys.Libc;
import io.jvisor.net.sys.MessageBuilder;
import io.jvisor.net.sys.NetlinkSocket;
import io.jvisor.net.sys.NetlinkSocket.Message;

import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static io.jvisor.net.sys.NetlinkSocket.NLM_F_ACK;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_CREATE;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_DUMP;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_EXCL;

/** Routes over rtnetlink (RTM_*ROUTE): listed from every table, added and deleted as {@code ip route} does. */
final class RtnlRoutes {
    // Message types (linux/rtnetlink.h).
    private static final int RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    // Route attributes and values (linux/rtnetlink.h).
    private static final int RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_PREFSRC = 7,
            RTA_TABLE = 15;
    private static final int RTPROT_BOOT = 3, RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_NOWHERE = 255,
            RTN_UNICAST = 1, RTM_F_CLONED = 0x200;

    private final RtnlChannel channel;
    private final NetlinkSocket socket;
    private final RtnlLinks links;

    RtnlRoutes(RtnlChannel channel, RtnlLinks links) {
        this.channel = channel;
        this.socket = channel.socket();
        this.links = links;
    }

    List<Route> routes(StandardProtocolFamily family) {
        int fam = family == StandardProtocolFamily.INET6 ? Libc.AF_INET6 : Libc.AF_INET;
        List<Route> out = new ArrayList<>();
        for (Message m : socket.dump(() -> socket.request(RTM_GETROUTE, NLM_F_DUMP)
                .u8(fam).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0), channel.op("list routes"))) {
            if (m.type() == RTM_NEWROUTE && (m.body().getInt(8) & RTM_F_CLONED) == 0) {
                out.add(parseRoute(m.body()));
            }
        }
        return out;
    }

    private static Route parseRoute(ByteBuffer b) {
        int fam = Byte.toUnsignedInt(b.get(0));
        int dstLen = Byte.toUnsignedInt(b.get(1));
        Attributes a = Attributes.parse(b, 12, b.limit());
        InetAddress dst = a.address(RTA_DST);
        if (dst == null) {
            dst = anyAddress(fam);
        }
        return new Route(new IpPrefix(dst, dstLen), Optional.ofNullable(a.address(RTA_GATEWAY)),
                a.has(RTA_OIF) ? OptionalInt.of(a.u32(RTA_OIF, 0)) : OptionalInt.empty(),
                a.u32(RTA_TABLE, Byte.toUnsignedInt(b.get(4))), Byte.toUnsignedInt(b.get(5)),
                Byte.toUnsignedInt(b.get(6)), Byte.toUnsignedInt(b.get(7)),
                a.has(RTA_PRIORITY) ? OptionalInt.of(a.u32(RTA_PRIORITY, 0)) : OptionalInt.empty(),
                Optional.ofNullable(a.address(RTA_PREFSRC)));
    }

    void addRoute(RouteSpec spec) {
        int oif = spec.device() == null ? 0 : links.ifindex(spec.device());
        MessageBuilder m = socket.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
        routeMessage(m, spec, oif, RTPROT_BOOT, spec.gateway() == null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, RTN_UNICAST);
        socket.ack(m, channel.op("add route " + spec), spec.device() == null ? "" : spec.device());
    }

    void deleteRoute(RouteSpec spec) {
        int oif = spec.device() == null ? 0 : links.ifindex(spec.device());
        MessageBuilder m = socket.request(RTM_DELROUTE, NLM_F_ACK);
        routeMessage(m, spec, oif, 0, RT_SCOPE_NOWHERE, 0);
        socket.ack(m, channel.op("delete route " + spec), spec.device() == null ? "" : spec.device());
    }

    /** Fills a route request; {@code oif} is resolved beforehand, as a lookup reuses the send buffer. */
    private static void routeMessage(MessageBuilder m, RouteSpec spec, int oif, int protocol, int scope, int type) {
        int table = spec.table();
        m.u8(RtnlChannel.family(spec.destination().address())).u8(spec.destination().length()).u8(0).u8(0)
                .u8(table < 256 ? table : 0).u8(protocol).u8(scope).u8(type).u32(0);
        if (spec.destination().length() > 0) {
            m.attr(RTA_DST, spec.destination().network().address().getAddress());
        }
        if (spec.gateway() != null) {
            m.attr(RTA_GATEWAY, spec.gateway().getAddress());
        }
        if (oif != 0) {
            m.attrU32(RTA_OIF, oif);
        }
        if (spec.metric() >= 0) {
            m.attrU32(RTA_PRIORITY, spec.metric());
        }
        if (table >= 256) {
            m.attrU32(RTA_TABLE, table);
        }
    }

    private static InetAddress anyAddress(int family) {
        try {
            return InetAddress.getByAddress(new byte[family == Libc.AF_INET6 ? 16 : 4]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}

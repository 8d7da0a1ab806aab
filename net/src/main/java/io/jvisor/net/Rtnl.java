package io.jvisor.net;

import io.jvisor.net.sys.Attributes;
import io.jvisor.net.sys.Libc;
import io.jvisor.net.sys.MessageBuilder;
import io.jvisor.net.sys.NetlinkSocket;
import io.jvisor.net.sys.NetlinkSocket.Message;

import java.net.Inet4Address;
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
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_REPLACE;

/**
 * An rtnetlink socket: links, addresses, routes, neighbours, tc filters (clsact and cls_bpf) and
 * XDP programs (IFLA_XDP) of one network namespace, the one
 * the socket was opened in ({@link #open()} for the calling thread's, {@link #open(Netns)} for a
 * named one). It speaks the kernel's protocol directly; nothing here runs {@code ip}.
 *
 * <p>Devices are named by their interface name, except in the tc and XDP methods, which take the
 * ifindex a datapath works with (their errors still name the device). Every refusal is a {@link NetlinkException} with
 * the operation, the device, the errno and the kernel's own explanation when it gives one. Methods
 * are synchronized: one request is in flight at a time.
 */
public final class Rtnl implements AutoCloseable {
    // Message types (linux/rtnetlink.h).
    private static final int RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19;
    private static final int RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;
    private static final int RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    private static final int RTM_NEWNEIGH = 28, RTM_DELNEIGH = 29, RTM_GETNEIGH = 30;
    // Link attributes (linux/if_link.h).
    private static final int IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5, IFLA_MASTER = 10,
            IFLA_OPERSTATE = 16, IFLA_LINKINFO = 18, IFLA_NET_NS_FD = 28, IFLA_EXT_MASK = 29,
            IFLA_LINK_NETNSID = 37, IFLA_TARGET_NETNSID = 46;
    private static final int IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2;
    private static final int VETH_INFO_PEER = 1;
    private static final int IFLA_VXLAN_ID = 1, IFLA_VXLAN_LOCAL = 4, IFLA_VXLAN_LEARNING = 7, IFLA_VXLAN_PORT = 15,
            IFLA_VXLAN_LOCAL6 = 17, IFLA_VXLAN_COLLECT_METADATA = 25;
    private static final int RTEXT_FILTER_SKIP_STATS = 8;
    // Address attributes (linux/if_addr.h).
    private static final int IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_FLAGS = 8;
    // Route attributes and values (linux/rtnetlink.h).
    private static final int RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_PREFSRC = 7,
            RTA_TABLE = 15;
    private static final int RTPROT_BOOT = 3, RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_NOWHERE = 255,
            RTN_UNICAST = 1, RTM_F_CLONED = 0x200;
    // Neighbour attributes (linux/neighbour.h).
    private static final int NDA_DST = 1, NDA_LLADDR = 2, NUD_PERMANENT = 0x80;

    private static final String[] OPER_STATES =
            {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"};

    private final NetlinkSocket socket;
    private final String where;

    private Rtnl(NetlinkSocket socket, String where) {
        this.socket = socket;
        this.where = where;
    }

    /** Opens an rtnetlink socket in the calling thread's network namespace. */
    public static Rtnl open() {
        return new Rtnl(NetlinkSocket.open(Libc.NETLINK_ROUTE, "rtnetlink socket"), "");
    }

    /** Opens an rtnetlink socket inside {@code ns} (on its thread, since sockets keep the opener's). */
    public static Rtnl open(Netns ns) {
        return ns.run(() -> new Rtnl(NetlinkSocket.open(Libc.NETLINK_ROUTE,
                "rtnetlink socket in netns '" + ns.name() + "'"), ns.name()));
    }

    private String op(String operation) {
        return where.isEmpty() ? operation : operation + " (netns " + where + ")";
    }

    // ---------------------------------------------------------------- links

    /** Every device in the namespace, in ifindex order. */
    public synchronized List<Link> links() {
        List<Link> out = new ArrayList<>();
        for (Message m : socket.dump(() -> socket.request(RTM_GETLINK, NLM_F_DUMP)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0)
                .attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS), op("list links"))) {
            if (m.type() == RTM_NEWLINK) {
                out.add(parseLink(m.body()));
            }
        }
        return out;
    }

    /**
     * The device called {@code name}.
     *
     * @throws NetlinkException ENODEV when there is none
     */
    public synchronized Link link(String name) {
        Message m = socket.get(socket.request(RTM_GETLINK, 0)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0)
                .attrString(IFLA_IFNAME, checkName(name)).attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
                op("get link"), name);
        return parseLink(m.body());
    }

    /** The device with index {@code ifindex}. */
    public synchronized Link link(int ifindex) {
        Message m = socket.get(socket.request(RTM_GETLINK, 0)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(0).u32(0)
                .attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
                op("get link"), "#" + ifindex);
        return parseLink(m.body());
    }

    /**
     * The device with index {@code ifindex} in the namespace that this one knows by the id
     * {@code netnsId} (IFLA_TARGET_NETNSID), e.g. a veth's peer as {@link Link#linkIfindex()} and
     * {@link Link#linkNetnsId()} name it.
     *
     * @throws NetlinkException ENODEV when there is none, EINVAL when no namespace has that id
     */
    public synchronized Link link(int ifindex, int netnsId) {
        Message m = socket.get(socket.request(RTM_GETLINK, 0)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(0).u32(0)
                .attrU32(IFLA_TARGET_NETNSID, netnsId).attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
                op("get link"), "#" + ifindex + " in namespace id " + netnsId);
        return parseLink(m.body());
    }

    /** The device called {@code name}, or empty when there is none. */
    public Optional<Link> findLink(String name) {
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 15) {
            return Optional.empty(); // IFNAMSIZ - 1: no device can have this name
        }
        try {
            return Optional.of(link(name));
        } catch (NetlinkException e) {
            if (e.errno() == 19) { // ENODEV
                return Optional.empty();
            }
            throw e;
        }
    }

    /** The ifindex of device {@code name}. */
    public int ifindex(String name) {
        return link(name).ifindex();
    }

    private static Link parseLink(ByteBuffer b) {
        int ifindex = b.getInt(4);
        int flags = b.getInt(8);
        Attributes a = Attributes.parse(b, 16, b.limit());
        byte[] addr = a.bytes(IFLA_ADDRESS);
        Optional<MacAddress> mac = addr != null && addr.length == 6 ? Optional.of(MacAddress.of(addr)) : Optional.empty();
        Attributes info = a.nested(IFLA_LINKINFO);
        String kind = info.string(IFLA_INFO_KIND, "");
        Optional<Link.VxlanInfo> vxlan = Optional.empty();
        if (kind.equals("vxlan")) {
            Attributes d = info.nested(IFLA_INFO_DATA);
            InetAddress local = d.address(IFLA_VXLAN_LOCAL);
            if (local == null) {
                local = d.address(IFLA_VXLAN_LOCAL6);
            }
            vxlan = Optional.of(new Link.VxlanInfo(d.u32(IFLA_VXLAN_ID, 0), d.u16Be(IFLA_VXLAN_PORT, 0),
                    Optional.ofNullable(local), d.u8(IFLA_VXLAN_COLLECT_METADATA, 0) != 0,
                    d.u8(IFLA_VXLAN_LEARNING, 0) != 0));
        }
        int iflink = a.u32(IFLA_LINK, 0);
        boolean otherNetns = a.has(IFLA_LINK_NETNSID);
        int oper = a.u8(IFLA_OPERSTATE, 0);
        return new Link(ifindex, a.string(IFLA_IFNAME, ""), mac, a.u32(IFLA_MTU, 0), LinkFlag.of(flags), kind,
                a.has(IFLA_MASTER) ? OptionalInt.of(a.u32(IFLA_MASTER, 0)) : OptionalInt.empty(),
                // as iproute2: no link when it is the device itself (as for lo), unless it is elsewhere
                iflink != 0 && (otherNetns || iflink != ifindex) ? OptionalInt.of(iflink) : OptionalInt.empty(),
                a.has(IFLA_LINK_NETNSID) ? OptionalInt.of(a.u32(IFLA_LINK_NETNSID, -1)) : OptionalInt.empty(),
                oper < OPER_STATES.length ? OPER_STATES[oper] : Integer.toString(oper), vxlan);
    }

    /** Starts an RTM_NEWLINK create request for {@code name} (ifinfomsg, name). */
    private MessageBuilder newLink(String name) {
        return socket.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0)
                .attrString(IFLA_IFNAME, checkName(name));
    }

    /**
     * Creates a veth pair. Either end may be created straight in another namespace, and the first
     * end may be created up and enslaved: a wire to a bridge in one request.
     */
    public synchronized void createVeth(VethSpec spec) {
        String operation = op("create veth");
        checkName(spec.peerName());
        int master = spec.master() == null ? 0 : ifindex(spec.master()); // before the request: lookups reuse the buffer
        int flags = spec.up() ? LinkFlag.UP.bit() : 0;
        MessageBuilder m = socket.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u32(flags).u32(flags)
                .attrString(IFLA_IFNAME, checkName(spec.name()));
        if (spec.mac() != null) {
            m.attr(IFLA_ADDRESS, spec.mac().bytes());
        }
        if (spec.mtu() > 0) {
            m.attrU32(IFLA_MTU, spec.mtu());
        }
        if (master != 0) {
            m.attrU32(IFLA_MASTER, master);
        }
        if (spec.namespace() != null) {
            m.attrU32(IFLA_NET_NS_FD, spec.namespace().descriptor("create veth '" + spec.name() + "' in"));
        }
        int linkinfo = m.nest(IFLA_LINKINFO);
        m.attrString(IFLA_INFO_KIND, "veth");
        int data = m.nest(IFLA_INFO_DATA);
        // VETH_INFO_PEER holds a whole ifinfomsg and the peer's attributes. Its flags stay 0: the
        // kernel configures the peer before linking the pair, and veth_open then fails (ENOTCONN).
        int peer = m.nest(VETH_INFO_PEER);
        m.u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0);
        m.attrString(IFLA_IFNAME, spec.peerName());
        if (spec.peerMac() != null) {
            m.attr(IFLA_ADDRESS, spec.peerMac().bytes());
        }
        if (spec.mtu() > 0) {
            m.attrU32(IFLA_MTU, spec.mtu());
        }
        if (spec.peerNamespace() != null) {
            m.attrU32(IFLA_NET_NS_FD, spec.peerNamespace().descriptor("create veth peer '" + spec.peerName() + "' in"));
        }
        m.end(peer).end(data).end(linkinfo);
        socket.ack(m, operation, spec.name(), "(peer '" + spec.peerName() + "')");
    }

    /** Creates veth pair {@code name} &lt;-&gt; {@code peerName} in this namespace. */
    public void createVeth(String name, String peerName) {
        createVeth(VethSpec.of(name, peerName));
    }

    /** Creates a vxlan device. */
    public synchronized void createVxlan(VxlanSpec spec) {
        MessageBuilder m = newLink(spec.name());
        if (spec.mtu() > 0) {
            m.attrU32(IFLA_MTU, spec.mtu());
        }
        int linkinfo = m.nest(IFLA_LINKINFO);
        m.attrString(IFLA_INFO_KIND, "vxlan");
        int data = m.nest(IFLA_INFO_DATA);
        if (spec.external()) {
            m.attrU8(IFLA_VXLAN_COLLECT_METADATA, 1);
        } else {
            m.attrU32(IFLA_VXLAN_ID, spec.vni());
        }
        m.attrU16Be(IFLA_VXLAN_PORT, spec.dstPort());
        if (spec.local() != null) {
            m.attr(spec.local() instanceof Inet4Address ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6,
                    spec.local().getAddress());
        }
        m.attrU8(IFLA_VXLAN_LEARNING, spec.learning() ? 1 : 0);
        m.end(data).end(linkinfo);
        socket.ack(m, op("create vxlan"), spec.name());
    }

    /** Creates a Linux bridge. */
    public void createBridge(String name) {
        createSimple(name, "bridge");
    }

    /** Creates a dummy device. */
    public void createDummy(String name) {
        createSimple(name, "dummy");
    }

    private synchronized void createSimple(String name, String kind) {
        MessageBuilder m = newLink(name);
        int linkinfo = m.nest(IFLA_LINKINFO);
        m.attrString(IFLA_INFO_KIND, kind);
        m.end(linkinfo);
        socket.ack(m, op("create " + kind), name);
    }

    /** Deletes device {@code name} (and a veth's peer with it). */
    public synchronized void delete(String name) {
        socket.ack(socket.request(RTM_DELLINK, NLM_F_ACK)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u32(0).u32(0)
                .attrString(IFLA_IFNAME, checkName(name)), op("delete link"), name);
    }

    /** Starts an RTM_SETLINK for {@code name} changing the IFF_* bits in {@code change} to {@code flags}. */
    private MessageBuilder setLink(String name, int flags, int change) {
        return socket.request(RTM_SETLINK, NLM_F_ACK)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u32(flags).u32(change)
                .attrString(IFLA_IFNAME, checkName(name));
    }

    /** Sets device {@code name} administratively up. */
    public synchronized void setUp(String name) {
        socket.ack(setLink(name, LinkFlag.UP.bit(), LinkFlag.UP.bit()), op("set up"), name);
    }

    /** Sets device {@code name} administratively down. */
    public synchronized void setDown(String name) {
        socket.ack(setLink(name, 0, LinkFlag.UP.bit()), op("set down"), name);
    }

    /** Sets the MTU of device {@code name}. */
    public synchronized void setMtu(String name, int mtu) {
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_MTU, mtu), op("set mtu " + mtu), name);
    }

    /** Sets the MAC address of device {@code name}. */
    public synchronized void setMac(String name, MacAddress mac) {
        socket.ack(setLink(name, 0, 0).attr(IFLA_ADDRESS, mac.bytes()), op("set mac " + mac), name);
    }

    /** Enslaves device {@code name} to {@code master} (e.g. a bridge). */
    public synchronized void setMaster(String name, String master) {
        int index = ifindex(master); // before the request: a lookup reuses the send buffer
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_MASTER, index), op("set master " + master), name);
    }

    /** Releases device {@code name} from its master. */
    public synchronized void clearMaster(String name) {
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_MASTER, 0), op("clear master"), name);
    }

    /**
     * Moves device {@code name} into namespace {@code target}. It arrives down, without addresses.
     *
     * @throws NetnsException ENOENT when {@code target} has been deleted
     */
    public synchronized void moveToNamespace(String name, Netns target) {
        String operation = "move '" + name + "' into";
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_NET_NS_FD, target.descriptor(operation)),
                op("move to netns " + target.name()), name);
    }

    // ---------------------------------------------------------------- addresses

    /** Every address in the namespace, IPv4 and IPv6. */
    public synchronized List<Address> addresses() {
        List<Address> out = new ArrayList<>();
        for (Message m : socket.dump(() -> socket.request(RTM_GETADDR, NLM_F_DUMP)
                .u8(Libc.AF_UNSPEC).u8(0).u8(0).u8(0).u32(0), op("list addresses"))) {
            if (m.type() == RTM_NEWADDR) {
                out.add(parseAddress(m.body()));
            }
        }
        return out;
    }

    /** The addresses on device {@code dev}. */
    public List<Address> addresses(String dev) {
        int index = ifindex(dev);
        return addresses().stream().filter(a -> a.ifindex() == index).toList();
    }

    private static Address parseAddress(ByteBuffer b) {
        int prefixLen = Byte.toUnsignedInt(b.get(1));
        int flags8 = Byte.toUnsignedInt(b.get(2));
        int scope = Byte.toUnsignedInt(b.get(3));
        int ifindex = b.getInt(4);
        Attributes a = Attributes.parse(b, 8, b.limit());
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point
        // links, and the only one IPv6 sends.
        InetAddress addr = a.address(IFA_LOCAL);
        if (addr == null) {
            addr = a.address(IFA_ADDRESS);
        }
        return new Address(ifindex, new IpPrefix(addr, prefixLen), scope, a.u32(IFA_FLAGS, flags8),
                a.string(IFA_LABEL, ""));
    }

    /** Adds {@code prefix} (address and prefix length) to device {@code dev}. */
    public void addAddress(String dev, IpPrefix prefix) {
        addAddress(dev, prefix, 0);
    }

    /**
     * Adds {@code prefix} to device {@code dev} with IFA_F_* {@code flags}, e.g.
     * {@link #NO_DAD} so that an IPv6 address is usable at once.
     */
    public synchronized void addAddress(String dev, IpPrefix prefix, int flags) {
        int index = ifindex(dev);
        MessageBuilder m = socket.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
        addressMessage(m, index, prefix, flags);
        socket.ack(m, op("add address " + prefix), dev);
    }

    /** IFA_F_NODAD: skip IPv6 duplicate address detection. */
    public static final int NO_DAD = 0x02;

    /** Deletes {@code prefix} from device {@code dev}. */
    public synchronized void deleteAddress(String dev, IpPrefix prefix) {
        int index = ifindex(dev);
        MessageBuilder m = socket.request(RTM_DELADDR, NLM_F_ACK);
        addressMessage(m, index, prefix, 0);
        socket.ack(m, op("delete address " + prefix), dev);
    }

    private static void addressMessage(MessageBuilder m, int index, IpPrefix prefix, int flags) {
        m.u8(family(prefix.address())).u8(prefix.length()).u8(flags & 0xff).u8(0).u32(index);
        byte[] raw = prefix.address().getAddress();
        m.attr(IFA_LOCAL, raw).attr(IFA_ADDRESS, raw);
        if (flags != 0) {
            m.attrU32(IFA_FLAGS, flags);
        }
    }

    // ---------------------------------------------------------------- routes

    /** Every route of {@code family} in every table, cached clones excluded. */
    public synchronized List<Route> routes(StandardProtocolFamily family) {
        int fam = family == StandardProtocolFamily.INET6 ? Libc.AF_INET6 : Libc.AF_INET;
        List<Route> out = new ArrayList<>();
        for (Message m : socket.dump(() -> socket.request(RTM_GETROUTE, NLM_F_DUMP)
                .u8(fam).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0), op("list routes"))) {
            if (m.type() == RTM_NEWROUTE && (m.body().getInt(8) & RTM_F_CLONED) == 0) {
                out.add(parseRoute(m.body()));
            }
        }
        return out;
    }

    /** The routes of {@code family} in the main table, as {@code ip route} shows them. */
    public List<Route> mainRoutes(StandardProtocolFamily family) {
        return routes(family).stream().filter(r -> r.table() == Route.TABLE_MAIN).toList();
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

    /** Adds a route. A route without a gateway gets link scope, as with {@code ip route add}. */
    public synchronized void addRoute(RouteSpec spec) {
        int oif = spec.device() == null ? 0 : ifindex(spec.device());
        MessageBuilder m = socket.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
        routeMessage(m, spec, oif, RTPROT_BOOT, spec.gateway() == null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, RTN_UNICAST);
        socket.ack(m, op("add route " + spec), spec.device() == null ? "" : spec.device());
    }

    /** Deletes the route matching {@code spec} (unset parts match anything, as with {@code ip route del}). */
    public synchronized void deleteRoute(RouteSpec spec) {
        int oif = spec.device() == null ? 0 : ifindex(spec.device());
        MessageBuilder m = socket.request(RTM_DELROUTE, NLM_F_ACK);
        routeMessage(m, spec, oif, 0, RT_SCOPE_NOWHERE, 0);
        socket.ack(m, op("delete route " + spec), spec.device() == null ? "" : spec.device());
    }

    /** Fills a route request; {@code oif} is resolved beforehand, as a lookup reuses the send buffer. */
    private static void routeMessage(MessageBuilder m, RouteSpec spec, int oif, int protocol, int scope, int type) {
        int table = spec.table();
        m.u8(family(spec.destination().address())).u8(spec.destination().length()).u8(0).u8(0)
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

    // ---------------------------------------------------------------- neighbours

    /** Every neighbour entry (ARP and NDP) in the namespace. */
    public synchronized List<Neighbour> neighbours() {
        List<Neighbour> out = new ArrayList<>();
        for (Message m : socket.dump(() -> socket.request(RTM_GETNEIGH, NLM_F_DUMP)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u16(0).u8(0).u8(0), op("list neighbours"))) {
            if (m.type() == RTM_NEWNEIGH) {
                Neighbour n = parseNeighbour(m.body());
                if (n != null) {
                    out.add(n);
                }
            }
        }
        return out;
    }

    private static Neighbour parseNeighbour(ByteBuffer b) {
        int ifindex = b.getInt(4);
        int state = Short.toUnsignedInt(b.getShort(8));
        int flags = Byte.toUnsignedInt(b.get(10));
        Attributes a = Attributes.parse(b, 12, b.limit());
        InetAddress dst = a.address(NDA_DST);
        if (dst == null) {
            return null; // bridge FDB entries have no IP address; they are not neighbours
        }
        byte[] ll = a.bytes(NDA_LLADDR);
        return new Neighbour(ifindex, dst, ll != null && ll.length == 6 ? Optional.of(MacAddress.of(ll)) : Optional.empty(),
                Neighbour.State.of(state), flags);
    }

    /** Adds a permanent neighbour entry: {@code address} is at {@code mac} on device {@code dev}. */
    public synchronized void addNeighbour(String dev, InetAddress address, MacAddress mac) {
        int index = ifindex(dev);
        MessageBuilder m = socket.request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .u8(family(address)).u8(0).u16(0).u32(index).u16(NUD_PERMANENT).u8(0).u8(0)
                .attr(NDA_DST, address.getAddress()).attr(NDA_LLADDR, mac.bytes());
        socket.ack(m, op("add neighbour " + address.getHostAddress() + " lladdr " + mac), dev);
    }

    /** Deletes the neighbour entry for {@code address} on device {@code dev}. */
    public synchronized void deleteNeighbour(String dev, InetAddress address) {
        int index = ifindex(dev);
        MessageBuilder m = socket.request(RTM_DELNEIGH, NLM_F_ACK)
                .u8(family(address)).u8(0).u16(0).u32(index).u16(0).u8(0).u8(0)
                .attr(NDA_DST, address.getAddress());
        socket.ack(m, op("delete neighbour " + address.getHostAddress()), dev);
    }

    // ---------------------------------------------------------------- tc: clsact and cls_bpf

    // Message types (linux/rtnetlink.h) and attributes (linux/rtnetlink.h, linux/pkt_cls.h).
    private static final int RTM_NEWQDISC = 36, RTM_DELQDISC = 37, RTM_GETQDISC = 38,
            RTM_NEWTFILTER = 44, RTM_DELTFILTER = 45, RTM_GETTFILTER = 46;
    private static final int TCA_KIND = 1, TCA_OPTIONS = 2, TCA_CHAIN = 11;
    private static final int TCA_BPF_FD = 6, TCA_BPF_NAME = 7, TCA_BPF_FLAGS = 8, TCA_BPF_TAG = 10, TCA_BPF_ID = 11;
    private static final int TCA_BPF_FLAG_ACT_DIRECT = 1;
    /** NLM_F_ECHO (linux/netlink.h): also send the resulting notification to the requester. */
    private static final int NLM_F_ECHO = 0x8;
    /** TC_H_CLSACT (= TC_H_INGRESS) and the clsact qdisc's own handle ffff:0 (linux/pkt_sched.h). */
    private static final int TC_H_CLSACT = 0xFFFF_FFF1, CLSACT_HANDLE = 0xFFFF_0000;
    private static final int ENOENT = 2, EINVAL = 22, EEXIST = 17, EBUSY = 16, EOPNOTSUPP = 95;

    /** Starts a tc request: struct tcmsg (family, padding, ifindex, handle, parent, info). */
    private MessageBuilder tcRequest(int type, int flags, int ifindex, int handle, int parent, int info) {
        return socket.request(type, flags)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(handle).u32(parent).u32(info);
    }

    /** tcm_info of a filter: TC_H_MAKE(prio &lt;&lt; 16, htons(ETH_P_ALL)). */
    private static int filterInfo(int priority) {
        return (priority << 16) | htons(Libc.ETH_P_ALL);
    }

    private static int htons(int v) {
        return java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN
                ? ((v & 0xff) << 8) | ((v >>> 8) & 0xff) : v & 0xffff;
    }

    /**
     * Adds a clsact qdisc to device {@code ifindex} ({@code tc qdisc add dev DEV clsact}): the
     * ingress and egress hooks for {@link #attachTcFilter} filters.
     *
     * @throws NetlinkException EEXIST when the device already has a clsact or ingress qdisc
     */
    public synchronized void addClsact(int ifindex) {
        try {
            socket.ack(tcRequest(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, ifindex, CLSACT_HANDLE,
                    TC_H_CLSACT, 0).attrString(TCA_KIND, "clsact"), op("add clsact qdisc"), "#" + ifindex);
        } catch (NetlinkException e) {
            throw onDevice(e, op("add clsact qdisc"), ifindex, "");
        }
    }

    /**
     * Makes sure device {@code ifindex} has a clsact qdisc, adding one when it has none. Safe to
     * call when another process (tc, cilium, a previous run) added it already.
     *
     * @return true when this call added it, false when it was there
     * @throws NetlinkException EEXIST when the device has a plain ingress qdisc instead, which
     *     takes the same slot (delete it first: {@code tc qdisc del dev DEV ingress})
     */
    public synchronized boolean ensureClsact(int ifindex) {
        try {
            addClsact(ifindex);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() != EEXIST) {
                throw e;
            }
            String kind = ingressQdiscKind(ifindex);
            if (kind.equals("clsact")) {
                return false;
            }
            throw new NetlinkException(op("ensure clsact qdisc"), deviceName(ifindex),
                    "(the device has " + (kind.isEmpty() ? "another" : "an '" + kind + "'")
                            + " qdisc in the clsact slot; delete it first)",
                    e.errno(), e.kernelMessage().orElse(""));
        }
    }

    /** Whether device {@code ifindex} has a clsact qdisc. */
    public synchronized boolean hasClsact(int ifindex) {
        return ingressQdiscKind(ifindex).equals("clsact");
    }

    /** The kind of the qdisc in the ingress/clsact slot of {@code ifindex}, or empty when there is none. */
    private String ingressQdiscKind(int ifindex) {
        Message m;
        try {
            // Without NLM_F_ECHO the kernel sends a qdisc get's answer only to the RTNLGRP_TC
            // multicast group, never to the asker. And when the slot holds only the placeholder a
            // deleted qdisc leaves, it sends nothing at all: NLM_F_ACK makes sure an answer comes.
            m = socket.get(tcRequest(RTM_GETQDISC, NLM_F_ECHO | NLM_F_ACK, ifindex, 0, TC_H_CLSACT, 0),
                    op("get clsact qdisc"), "#" + ifindex);
        } catch (NetlinkException e) {
            if (e.errno() == ENOENT || e.errno() == EINVAL || e.errno() == 0) { // 0: acknowledged, nothing sent
                return "";
            }
            throw onDevice(e, op("get clsact qdisc"), ifindex, "");
        }
        ByteBuffer b = m.body();
        if (b.getInt(8) == 0) {
            return ""; // handle 0: the placeholder a deleted ingress/clsact qdisc leaves behind
        }
        return Attributes.parse(b, 20, b.limit()).string(TCA_KIND, "");
    }

    /**
     * Deletes the clsact qdisc of device {@code ifindex}, and with it every filter on both hooks.
     * A plain ingress qdisc is left alone (the kernel refuses: the kind does not match).
     *
     * @throws NetlinkException when there is no clsact qdisc
     */
    public synchronized void deleteClsact(int ifindex) {
        try {
            socket.ack(tcRequest(RTM_DELQDISC, NLM_F_ACK, ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0)
                    .attrString(TCA_KIND, "clsact"), op("delete clsact qdisc"), "#" + ifindex);
        } catch (NetlinkException e) {
            throw onDevice(e, op("delete clsact qdisc"), ifindex, "");
        }
    }

    /**
     * Attaches a cls_bpf filter to a clsact hook, or atomically swaps the program of an existing
     * one, according to {@link TcFilterSpec#mode()}. The device needs a clsact qdisc
     * ({@link #ensureClsact}). This is the attach path for kernels without tcx (before 6.6).
     *
     * <p>A {@link TcFilterSpec.Mode#REPLACE} swaps the program in one RCU step: every packet runs
     * either the old or the new program, none runs neither.
     *
     * @return the filter as the kernel reports it afterwards (with the program's id)
     * @throws NetlinkException EEXIST when creating a filter that exists, ENOENT when replacing one
     *     that does not, EINVAL with "Parent Qdisc doesn't exists" without a clsact qdisc
     */
    public synchronized TcFilter attachTcFilter(TcFilterSpec spec) {
        int flags = switch (spec.mode()) {
            case CREATE -> NLM_F_CREATE | NLM_F_EXCL;
            case REPLACE -> NLM_F_REPLACE;
            case CREATE_OR_REPLACE -> NLM_F_CREATE | NLM_F_REPLACE;
        };
        String operation = op(spec.mode() == TcFilterSpec.Mode.CREATE ? "attach tc filter" : "replace tc filter");
        MessageBuilder m = tcRequest(RTM_NEWTFILTER, flags | NLM_F_ACK, spec.ifindex(), spec.handle(),
                spec.direction().parent(), filterInfo(spec.priority()))
                .attrString(TCA_KIND, "bpf");
        int options = m.nest(TCA_OPTIONS);
        m.attrU32(TCA_BPF_FD, spec.programFd());
        if (!spec.name().isEmpty()) {
            m.attrString(TCA_BPF_NAME, spec.name());
        }
        if (spec.directAction()) {
            m.attrU32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
        }
        m.end(options);
        String where = filterNote(spec.direction(), spec.priority(), spec.handle());
        try {
            socket.ack(m, operation, "#" + spec.ifindex());
        } catch (NetlinkException e) {
            String hint = switch (e.errno()) {
                case EEXIST -> "; a filter with this priority and handle exists (Mode.REPLACE swaps its program)";
                case ENOENT -> spec.mode() == TcFilterSpec.Mode.REPLACE ? "; there is no such filter to replace" : "";
                case EINVAL -> !hasClsactQuietly(spec.ifindex()) ? "; the device has no clsact qdisc (ensureClsact)"
                        : e.kernelMessage().isEmpty() ? "; is the program a SCHED_CLS program?" : "";
                default -> "";
            };
            throw onDevice(e, operation, spec.ifindex(), "(" + where + hint + ")");
        }
        return tcFilter(spec.ifindex(), spec.direction(), spec.priority(), spec.handle())
                .orElseThrow(() -> new NetlinkException(operation, deviceName(spec.ifindex()), "(" + where + ")", 0,
                        "the filter is gone right after it was attached"));
    }

    /** Same as {@link #attachTcFilter} with {@link TcFilterSpec.Mode#REPLACE}: an atomic program swap. */
    public TcFilter replaceTcFilter(TcFilterSpec spec) {
        return attachTcFilter(spec.withMode(TcFilterSpec.Mode.REPLACE));
    }

    private boolean hasClsactQuietly(int ifindex) {
        try {
            return hasClsact(ifindex);
        } catch (NetlinkException e) {
            return true; // cannot tell: claim nothing
        }
    }

    private static String filterNote(TcDirection direction, int priority, int handle) {
        return direction + " prio " + priority + " handle 0x" + Integer.toHexString(handle);
    }

    /**
     * The filters on one clsact hook of device {@code ifindex}, in every chain, as
     * {@code tc filter show dev DEV ingress|egress} lists them. Empty when the device has no
     * clsact qdisc.
     */
    public synchronized List<TcFilter> tcFilters(int ifindex, TcDirection direction) {
        List<TcFilter> out = new ArrayList<>();
        String operation = op("list tc filters " + direction);
        List<Message> parts;
        try {
            parts = socket.dump(() -> tcRequest(RTM_GETTFILTER, NLM_F_DUMP, ifindex, 0, direction.parent(), 0),
                    operation);
        } catch (NetlinkException e) {
            throw onDevice(e, operation, ifindex, "");
        }
        for (Message m : parts) {
            if (m.type() == RTM_NEWTFILTER) {
                TcFilter f = parseFilter(m.body());
                // The kernel sends one header entry per priority (handle 0, no options): not a filter.
                if (f.handle() != 0 && f.ifindex() == ifindex && f.parent() == direction.parent()) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    /** The filter at (priority, handle) on one clsact hook of {@code ifindex}, if there is one. */
    public synchronized Optional<TcFilter> tcFilter(int ifindex, TcDirection direction, int priority, int handle) {
        String operation = op("get tc filter");
        Message m;
        try {
            m = socket.get(tcRequest(RTM_GETTFILTER, 0, ifindex, handle, direction.parent(), filterInfo(priority)),
                    operation, "#" + ifindex);
        } catch (NetlinkException e) {
            if (e.errno() == ENOENT) {
                return Optional.empty();
            }
            throw onDevice(e, operation, ifindex, "(" + filterNote(direction, priority, handle) + ")");
        }
        return Optional.of(parseFilter(m.body()));
    }

    private static TcFilter parseFilter(ByteBuffer b) {
        int ifindex = b.getInt(4);
        int handle = b.getInt(8);
        int parent = b.getInt(12);
        int info = b.getInt(16);
        Attributes a = Attributes.parse(b, 20, b.limit());
        String kind = a.string(TCA_KIND, "");
        Attributes o = a.nested(TCA_OPTIONS);
        byte[] tag = kind.equals("bpf") ? o.bytes(TCA_BPF_TAG) : null;
        StringBuilder hex = new StringBuilder();
        if (tag != null) {
            for (byte x : tag) {
                hex.append(String.format("%02x", x));
            }
        }
        boolean bpf = kind.equals("bpf");
        return new TcFilter(ifindex, parent, info >>> 16, htons(info & 0xffff), handle, a.u32(TCA_CHAIN, 0), kind,
                bpf ? o.u32(TCA_BPF_ID, 0) : 0, bpf ? o.string(TCA_BPF_NAME, "") : "", hex.toString(),
                bpf && (o.u32(TCA_BPF_FLAGS, 0) & TCA_BPF_FLAG_ACT_DIRECT) != 0);
    }

    /**
     * Deletes the cls_bpf filter at (priority, handle) on one clsact hook of {@code ifindex}.
     * Packets stop reaching its program at once. A filter of another kind is left alone.
     *
     * @throws NetlinkException ENOENT when there is no such filter
     */
    public synchronized void deleteTcFilter(int ifindex, TcDirection direction, int priority, int handle) {
        if (handle == 0) {
            throw new IllegalArgumentException("handle must not be 0 (the kernel would delete every filter of prio "
                    + priority + ")");
        }
        String operation = op("delete tc filter");
        try {
            socket.ack(tcRequest(RTM_DELTFILTER, NLM_F_ACK, ifindex, handle, direction.parent(), filterInfo(priority))
                    .attrString(TCA_KIND, "bpf"), operation, "#" + ifindex);
        } catch (NetlinkException e) {
            throw onDevice(e, operation, ifindex, "(" + filterNote(direction, priority, handle) + ")");
        }
    }

    // ---------------------------------------------------------------- XDP through rtnetlink

    private static final int IFLA_XDP = 43;
    private static final int IFLA_XDP_FD = 1, IFLA_XDP_ATTACHED = 2, IFLA_XDP_FLAGS = 3, IFLA_XDP_PROG_ID = 4,
            IFLA_XDP_DRV_PROG_ID = 5, IFLA_XDP_SKB_PROG_ID = 6, IFLA_XDP_HW_PROG_ID = 7, IFLA_XDP_EXPECTED_FD = 8;
    private static final int XDP_FLAGS_UPDATE_IF_NOEXIST = 1, XDP_FLAGS_REPLACE = 1 << 4;

    /**
     * Attaches XDP program {@code programFd} to device {@code ifindex} in {@code mode} through
     * rtnetlink (IFLA_XDP), the path for kernels without XDP links (before 5.9) and for programs
     * that must outlive the process without a bpffs pin: the device holds the program.
     *
     * <p>With {@code expectedProgramFd} of -1 whatever program runs in that mode is replaced. With
     * a descriptor, the swap is atomic and conditional (XDP_FLAGS_REPLACE with
     * IFLA_XDP_EXPECTED_FD): it happens only if that very program is still attached, so a live
     * swap or an adoption after a restart cannot clobber a program someone else put there since.
     *
     * @throws NetlinkException EEXIST when the expected program is no longer attached (the message
     *     says what is), or when a program runs in the other mode; EBUSY when a bpf link holds the
     *     hook; EOPNOTSUPP for {@link XdpAttachMode#DRIVER} on a driver without XDP
     */
    public synchronized void attachXdp(int ifindex, int programFd, XdpAttachMode mode, int expectedProgramFd) {
        if (programFd < 0) {
            throw new IllegalArgumentException("programFd must be a descriptor (detachXdp removes a program): "
                    + programFd);
        }
        int flags = mode.flags() | (expectedProgramFd >= 0 ? XDP_FLAGS_REPLACE : 0);
        setXdp(ifindex, programFd, flags, expectedProgramFd,
                expectedProgramFd >= 0 ? "replace XDP program (" + mode + ")" : "attach XDP program (" + mode + ")");
    }

    /**
     * Attaches XDP program {@code programFd} only if no program runs on the device in
     * {@code mode} (XDP_FLAGS_UPDATE_IF_NOEXIST), so as not to clobber one.
     *
     * @throws NetlinkException EBUSY when a program is attached already
     */
    public synchronized void attachXdpIfNone(int ifindex, int programFd, XdpAttachMode mode) {
        if (programFd < 0) {
            throw new IllegalArgumentException("programFd must be a descriptor: " + programFd);
        }
        setXdp(ifindex, programFd, mode.flags() | XDP_FLAGS_UPDATE_IF_NOEXIST, -1,
                "attach XDP program (" + mode + ", if none)");
    }

    /** Detaches whatever XDP program runs on device {@code ifindex} in {@code mode}; nothing there is fine. */
    public synchronized void detachXdp(int ifindex, XdpAttachMode mode) {
        setXdp(ifindex, -1, mode.flags(), -1, "detach XDP program (" + mode + ")");
    }

    /**
     * Detaches the XDP program of device {@code ifindex} in {@code mode} only if it is still the
     * program of {@code expectedProgramFd} (atomic check and detach).
     *
     * @throws NetlinkException EEXIST when another program (or none) is attached
     */
    public synchronized void detachXdp(int ifindex, XdpAttachMode mode, int expectedProgramFd) {
        if (expectedProgramFd < 0) {
            throw new IllegalArgumentException("expectedProgramFd must be a descriptor: " + expectedProgramFd);
        }
        setXdp(ifindex, -1, mode.flags() | XDP_FLAGS_REPLACE, expectedProgramFd, "detach XDP program (" + mode + ")");
    }

    private void setXdp(int ifindex, int fd, int flags, int expectedFd, String operation) {
        MessageBuilder m = socket.request(RTM_SETLINK, NLM_F_ACK)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(0).u32(0);
        int xdp = m.nest(IFLA_XDP);
        m.attrU32(IFLA_XDP_FD, fd).attrU32(IFLA_XDP_FLAGS, flags);
        if ((flags & XDP_FLAGS_REPLACE) != 0 && expectedFd >= 0) {
            m.attrU32(IFLA_XDP_EXPECTED_FD, expectedFd);
        }
        m.end(xdp);
        try {
            socket.ack(m, op(operation), "#" + ifindex);
        } catch (NetlinkException e) {
            String hint = "";
            String said = e.kernelMessage().orElse("");
            if (e.errno() == EEXIST && (flags & XDP_FLAGS_REPLACE) != 0) {
                hint = "(the expected program (fd " + expectedFd + ") is no longer the one attached; attached now: "
                        + xdpNow(ifindex) + ")";
            } else if (e.errno() == EEXIST) {
                hint = "(a program runs in the other XDP mode; attached now: " + xdpNow(ifindex) + ")";
            } else if (e.errno() == EBUSY) {
                hint = said.contains("link")
                        ? "(a bpf link holds XDP on this device; change it through the link)"
                        : "(a program is already attached: " + xdpNow(ifindex) + ")";
            } else if (e.errno() == EOPNOTSUPP) {
                hint = "(the driver has no native XDP; use generic mode)";
            } else if (e.errno() == EINVAL && said.isEmpty() && fd >= 0) {
                hint = "(is the program an XDP program?)";
            }
            throw onDevice(e, op(operation), ifindex, hint);
        }
    }

    /** What {@link #xdp} reports, in words, for error messages; never throws. */
    private String xdpNow(int ifindex) {
        try {
            XdpStatus s = xdp(ifindex);
            List<String> parts = new ArrayList<>();
            if (s.driverProgramId() != 0) {
                parts.add("program id " + s.driverProgramId() + " in driver mode");
            }
            if (s.genericProgramId() != 0) {
                parts.add("program id " + s.genericProgramId() + " in generic mode");
            }
            if (s.offloadProgramId() != 0) {
                parts.add("program id " + s.offloadProgramId() + " offloaded");
            }
            return parts.isEmpty() ? "none" : String.join(", ", parts);
        } catch (NetlinkException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /** The XDP programs of device {@code ifindex}, in every mode (IFLA_XDP of RTM_GETLINK). */
    public synchronized XdpStatus xdp(int ifindex) {
        Message m;
        try {
            m = socket.get(socket.request(RTM_GETLINK, 0)
                            .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(0).u32(0)
                            .attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
                    op("get XDP state"), "#" + ifindex);
        } catch (NetlinkException e) {
            throw onDevice(e, op("get XDP state"), ifindex, "");
        }
        ByteBuffer b = m.body();
        Attributes x = Attributes.parse(b, 16, b.limit()).nested(IFLA_XDP);
        int attached = x.u8(IFLA_XDP_ATTACHED, 0);
        int drv = x.u32(IFLA_XDP_DRV_PROG_ID, 0), skb = x.u32(IFLA_XDP_SKB_PROG_ID, 0), hw = x.u32(IFLA_XDP_HW_PROG_ID, 0);
        int one = x.u32(IFLA_XDP_PROG_ID, 0);
        if (drv == 0 && skb == 0 && hw == 0 && one != 0) { // kernels before 4.19 report only IFLA_XDP_PROG_ID
            switch (attached) {
                case XdpStatus.DRIVER -> drv = one;
                case XdpStatus.GENERIC -> skb = one;
                case XdpStatus.OFFLOAD -> hw = one;
                default -> { }
            }
        }
        return new XdpStatus(ifindex, attached, drv, skb, hw);
    }

    /**
     * The id of the one XDP program on device {@code ifindex}, whatever its mode; empty when none
     * is attached, or when several modes are in use (see {@link #xdp}).
     */
    public OptionalInt xdpProgramId(int ifindex) {
        return xdp(ifindex).programId();
    }

    /** Rethrows a refusal about device {@code ifindex} under its name (looked up now), with a note. */
    private NetlinkException onDevice(NetlinkException e, String operation, int ifindex, String note) {
        return new NetlinkException(operation, deviceName(ifindex), note, e.errno(), e.kernelMessage().orElse(""));
    }

    /** The name of device {@code ifindex}, or {@code "#N"} when there is none here; for messages only. */
    private String deviceName(int ifindex) {
        try {
            return link(ifindex).name();
        } catch (NetlinkException e) {
            return "#" + ifindex;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static int family(InetAddress a) {
        return a instanceof Inet4Address ? Libc.AF_INET : Libc.AF_INET6;
    }

    private static InetAddress anyAddress(int family) {
        try {
            return InetAddress.getByAddress(new byte[family == Libc.AF_INET6 ? 16 : 4]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Checks only what Java must: a name that cannot be encoded. Length and character rules are the
     * kernel's to enforce, so that its own message reaches the caller.
     */
    private static String checkName(String name) {
        if (name == null || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a device name: '" + name + "'");
        }
        return name;
    }

    /** Closes the socket. */
    @Override
    public void close() {
        socket.close();
    }
}

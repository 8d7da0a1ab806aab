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

/**
 * An rtnetlink socket: links, addresses, routes and neighbours of one network namespace, the one
 * the socket was opened in ({@link #open()} for the calling thread's, {@link #open(Netns)} for a
 * named one). It speaks the kernel's protocol directly; nothing here runs {@code ip}.
 *
 * <p>Devices are named by their interface name. Every refusal is a {@link NetlinkException} with
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
            IFLA_LINK_NETNSID = 37;
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

package io.jvisor.net;

import io.jvisor.net.sys.Attributes;
import io.jvisor.net.sys.Libc;
import io.jvisor.net.sys.MessageBuilder;
import io.jvisor.net.sys.NetlinkSocket;
import io.jvisor.net.sys.NetlinkSocket.Message;

import java.net.Inet4Address;
import java.net.InetAddress;
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
 * Devices over rtnetlink (RTM_*LINK): listed and looked up, created (veth, vxlan, bridge, dummy),
 * changed (up, down, MTU, MAC, master, namespace) and deleted; the messages built and parsed here.
 * The other parts ask it for ifindexes and, for their errors, device names.
 */
final class RtnlLinks {
    // Message types (linux/rtnetlink.h).
    static final int RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19;
    // Link attributes (linux/if_link.h).
    private static final int IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5, IFLA_MASTER = 10,
            IFLA_OPERSTATE = 16, IFLA_LINKINFO = 18, IFLA_NET_NS_FD = 28,
            IFLA_LINK_NETNSID = 37, IFLA_TARGET_NETNSID = 46;
    static final int IFLA_EXT_MASK = 29;
    private static final int IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2;
    private static final int VETH_INFO_PEER = 1;
    private static final int IFLA_VXLAN_ID = 1, IFLA_VXLAN_LOCAL = 4, IFLA_VXLAN_LEARNING = 7, IFLA_VXLAN_PORT = 15,
            IFLA_VXLAN_LOCAL6 = 17, IFLA_VXLAN_COLLECT_METADATA = 25;
    static final int RTEXT_FILTER_SKIP_STATS = 8;
    private static final int ENODEV = 19;

    private static final String[] OPER_STATES =
            {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"};

    private final RtnlChannel channel;
    private final NetlinkSocket socket;

    RtnlLinks(RtnlChannel channel) {
        this.channel = channel;
        this.socket = channel.socket();
    }

    /** Starts a request whose body is a struct ifinfomsg (family, type, ifindex, flags, change). */
    MessageBuilder ifinfo(int type, int nlFlags, int ifindex, int flags, int change) {
        return socket.request(type, nlFlags).u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(ifindex).u32(flags).u32(change);
    }

    // ---- reading -------------------------------------------------------------------------

    List<Link> links() {
        List<Link> out = new ArrayList<>();
        for (Message m : socket.dump(() -> ifinfo(RTM_GETLINK, NLM_F_DUMP, 0, 0, 0)
                .attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS), channel.op("list links"))) {
            if (m.type() == RTM_NEWLINK) {
                out.add(parseLink(m.body()));
            }
        }
        return out;
    }

    Link link(String name) {
        Message m = socket.get(ifinfo(RTM_GETLINK, 0, 0, 0, 0)
                .attrString(IFLA_IFNAME, checkName(name)).attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
                channel.op("get link"), name);
        return parseLink(m.body());
    }

    Link link(int ifindex) {
        Message m = socket.get(ifinfo(RTM_GETLINK, 0, ifindex, 0, 0)
                .attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
                channel.op("get link"), "#" + ifindex);
        return parseLink(m.body());
    }

    Link link(int ifindex, int netnsId) {
        Message m = socket.get(ifinfo(RTM_GETLINK, 0, ifindex, 0, 0)
                .attrU32(IFLA_TARGET_NETNSID, netnsId).attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
                channel.op("get link"), "#" + ifindex + " in namespace id " + netnsId);
        return parseLink(m.body());
    }

    Optional<Link> findLink(String name) {
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 15) {
            return Optional.empty(); // IFNAMSIZ - 1: no device can have this name
        }
        try {
            return Optional.of(link(name));
        } catch (NetlinkException e) {
            if (e.errno() == ENODEV) {
                return Optional.empty();
            }
            throw e;
        }
    }

    int ifindex(String name) {
        return link(name).ifindex();
    }

    /** The name of device {@code ifindex}, or {@code "#N"} when there is none here; for messages only. */
    String deviceName(int ifindex) {
        try {
            return link(ifindex).name();
        } catch (NetlinkException e) {
            return "#" + ifindex;
        }
    }

    /** Rethrows a refusal about device {@code ifindex} under its name (looked up now), with a note. */
    NetlinkException onDevice(NetlinkException e, String operation, int ifindex, String note) {
        return new NetlinkException(operation, deviceName(ifindex), note, e.errno(), e.kernelMessage().orElse(""));
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

    // ---- creating and deleting -----------------------------------------------------------

    /** Starts an RTM_NEWLINK create request for {@code name} (ifinfomsg, name). */
    private MessageBuilder newLink(String name) {
        return ifinfo(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0, 0, 0)
                .attrString(IFLA_IFNAME, checkName(name));
    }

    void createVeth(VethSpec spec) {
        String operation = channel.op("create veth");
        checkName(spec.peerName());
        int master = spec.master() == null ? 0 : ifindex(spec.master()); // before the request: lookups reuse the buffer
        int flags = spec.up() ? LinkFlag.UP.bit() : 0;
        MessageBuilder m = ifinfo(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0, flags, flags)
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

    void createVxlan(VxlanSpec spec) {
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
        socket.ack(m, channel.op("create vxlan"), spec.name());
    }

    /** Creates a device of {@code kind} that needs nothing but its name (bridge, dummy). */
    void createSimple(String name, String kind) {
        MessageBuilder m = newLink(name);
        int linkinfo = m.nest(IFLA_LINKINFO);
        m.attrString(IFLA_INFO_KIND, kind);
        m.end(linkinfo);
        socket.ack(m, channel.op("create " + kind), name);
    }

    void delete(String name) {
        socket.ack(ifinfo(RTM_DELLINK, NLM_F_ACK, 0, 0, 0)
                .attrString(IFLA_IFNAME, checkName(name)), channel.op("delete link"), name);
    }

    // ---- changing ------------------------------------------------------------------------

    /** Starts an RTM_SETLINK for {@code name} changing the IFF_* bits in {@code change} to {@code flags}. */
    private MessageBuilder setLink(String name, int flags, int change) {
        return ifinfo(RTM_SETLINK, NLM_F_ACK, 0, flags, change).attrString(IFLA_IFNAME, checkName(name));
    }

    void setUp(String name) {
        socket.ack(setLink(name, LinkFlag.UP.bit(), LinkFlag.UP.bit()), channel.op("set up"), name);
    }

    void setDown(String name) {
        socket.ack(setLink(name, 0, LinkFlag.UP.bit()), channel.op("set down"), name);
    }

    void setMtu(String name, int mtu) {
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_MTU, mtu), channel.op("set mtu " + mtu), name);
    }

    void setMac(String name, MacAddress mac) {
        socket.ack(setLink(name, 0, 0).attr(IFLA_ADDRESS, mac.bytes()), channel.op("set mac " + mac), name);
    }

    void setMaster(String name, String master) {
        int index = ifindex(master); // before the request: a lookup reuses the send buffer
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_MASTER, index), channel.op("set master " + master), name);
    }

    void clearMaster(String name) {
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_MASTER, 0), channel.op("clear master"), name);
    }

    void moveToNamespace(String name, Netns target) {
        String operation = "move '" + name + "' into";
        socket.ack(setLink(name, 0, 0).attrU32(IFLA_NET_NS_FD, target.descriptor(operation)),
                channel.op("move to netns " + target.name()), name);
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
}

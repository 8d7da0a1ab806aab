package io.jvisor.net;

import io.jvisor.net.sys.Attributes;
import io.jvisor.net.sys.Libc;
import io.jvisor.net.sys.MessageBuilder;
import io.jvisor.net.sys.NetlinkSocket;
import io.jvisor.net.sys.NetlinkSocket.Message;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static io.jvisor.net.sys.NetlinkSocket.NLM_F_ACK;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_CREATE;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_DUMP;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_EXCL;

/** Interface addresses over rtnetlink (RTM_*ADDR): listed, added and deleted. */
final class RtnlAddresses {
    // Message types (linux/rtnetlink.h).
    private static final int RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;
    // Address attributes (linux/if_addr.h).
    private static final int IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_FLAGS = 8;

    private final RtnlChannel channel;
    private final NetlinkSocket socket;
    private final RtnlLinks links;

    RtnlAddresses(RtnlChannel channel, RtnlLinks links) {
        this.channel = channel;
        this.socket = channel.socket();
        this.links = links;
    }

    List<Address> addresses() {
        List<Address> out = new ArrayList<>();
        for (Message m : socket.dump(() -> socket.request(RTM_GETADDR, NLM_F_DUMP)
                .u8(Libc.AF_UNSPEC).u8(0).u8(0).u8(0).u32(0), channel.op("list addresses"))) {
            if (m.type() == RTM_NEWADDR) {
                out.add(parseAddress(m.body()));
            }
        }
        return out;
    }

    List<Address> addresses(String dev) {
        int index = links.ifindex(dev);
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

    void addAddress(String dev, IpPrefix prefix, int flags) {
        int index = links.ifindex(dev);
        MessageBuilder m = socket.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
        addressMessage(m, index, prefix, flags);
        socket.ack(m, channel.op("add address " + prefix), dev);
    }

    void deleteAddress(String dev, IpPrefix prefix) {
        int index = links.ifindex(dev);
        MessageBuilder m = socket.request(RTM_DELADDR, NLM_F_ACK);
        addressMessage(m, index, prefix, 0);
        socket.ack(m, channel.op("delete address " + prefix), dev);
    }

    private static void addressMessage(MessageBuilder m, int index, IpPrefix prefix, int flags) {
        m.u8(RtnlChannel.family(prefix.address())).u8(prefix.length()).u8(flags & 0xff).u8(0).u32(index);
        byte[] raw = prefix.address().getAddress();
        m.attr(IFA_LOCAL, raw).attr(IFA_ADDRESS, raw);
        if (flags != 0) {
            m.attrU32(IFA_FLAGS, flags);
        }
    }
}

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
import java.util.Optional;

import static io.jvisor.net.sys.NetlinkSocket.NLM_F_ACK;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_CREATE;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_DUMP;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_EXCL;

/** Neighbour entries (ARP and NDP) over rtnetlink (RTM_*NEIGH): listed, added permanent, deleted. */
final class RtnlNeighbours {
    // Message types (linux/rtnetlink.h).
    private static final int RTM_NEWNEIGH = 28, RTM_DELNEIGH = 29, RTM_GETNEIGH = 30;
    // Neighbour attributes (linux/neighbour.h).
    private static final int NDA_DST = 1, NDA_LLADDR = 2, NUD_PERMANENT = 0x80;

    private final RtnlChannel channel;
    private final NetlinkSocket socket;
    private final RtnlLinks links;

    RtnlNeighbours(RtnlChannel channel, RtnlLinks links) {
        this.channel = channel;
        this.socket = channel.socket();
        this.links = links;
    }

    List<Neighbour> neighbours() {
        List<Neighbour> out = new ArrayList<>();
        for (Message m : socket.dump(() -> socket.request(RTM_GETNEIGH, NLM_F_DUMP)
                .u8(Libc.AF_UNSPEC).u8(0).u16(0).u32(0).u16(0).u8(0).u8(0), channel.op("list neighbours"))) {
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

    void addNeighbour(String dev, InetAddress address, MacAddress mac) {
        int index = links.ifindex(dev);
        MessageBuilder m = socket.request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .u8(RtnlChannel.family(address)).u8(0).u16(0).u32(index).u16(NUD_PERMANENT).u8(0).u8(0)
                .attr(NDA_DST, address.getAddress()).attr(NDA_LLADDR, mac.bytes());
        socket.ack(m, channel.op("add neighbour " + address.getHostAddress() + " lladdr " + mac), dev);
    }

    void deleteNeighbour(String dev, InetAddress address) {
        int index = links.ifindex(dev);
        MessageBuilder m = socket.request(RTM_DELNEIGH, NLM_F_ACK)
                .u8(RtnlChannel.family(address)).u8(0).u16(0).u32(index).u16(0).u8(0).u8(0)
                .attr(NDA_DST, address.getAddress());
        socket.ack(m, channel.op("delete neighbour " + address.getHostAddress()), dev);
    }
}

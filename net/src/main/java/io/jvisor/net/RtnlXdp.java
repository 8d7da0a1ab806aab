package io.jvisor.net;

import io.jvisor.net.sys.Attributes;
import io.jvisor.net.sys.MessageBuilder;
import io.jvisor.net.sys.NetlinkSocket;
import io.jvisor.net.sys.NetlinkSocket.Message;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import static io.jvisor.net.sys.NetlinkSocket.NLM_F_ACK;

/**
 * XDP programs attached through rtnetlink (IFLA_XDP of RTM_SETLINK), the path for kernels without XDP
 * links and for programs the device itself holds, with the atomic conditional swap and detach
 * (XDP_FLAGS_REPLACE); and what runs in each mode (IFLA_XDP of RTM_GETLINK).
 */
final class RtnlXdp {
    private static final int EEXIST = 17, EBUSY = 16, EOPNOTSUPP = 95, EINVAL = 22;

    private final RtnlChannel channel;
    private final NetlinkSocket socket;
    private final RtnlLinks links;

    RtnlXdp(RtnlChannel channel, RtnlLinks links) {
        this.channel = channel;
        this.socket = channel.socket();
        this.links = links;
    }

    private static final int IFLA_XDP = 43;
    private static final int IFLA_XDP_FD = 1, IFLA_XDP_ATTACHED = 2, IFLA_XDP_FLAGS = 3, IFLA_XDP_PROG_ID = 4,
            IFLA_XDP_DRV_PROG_ID = 5, IFLA_XDP_SKB_PROG_ID = 6, IFLA_XDP_HW_PROG_ID = 7, IFLA_XDP_EXPECTED_FD = 8;
    private static final int XDP_FLAGS_UPDATE_IF_NOEXIST = 1, XDP_FLAGS_REPLACE = 1 << 4;

    void attachXdp(int ifindex, int programFd, XdpAttachMode mode, int expectedProgramFd) {
        if (programFd < 0) {
            throw new IllegalArgumentException("programFd must be a descriptor (detachXdp removes a program): "
                    + programFd);
        }
        int flags = mode.flags() | (expectedProgramFd >= 0 ? XDP_FLAGS_REPLACE : 0);
        setXdp(ifindex, programFd, flags, expectedProgramFd,
                expectedProgramFd >= 0 ? "replace XDP program (" + mode + ")" : "attach XDP program (" + mode + ")");
    }

    void attachXdpIfNone(int ifindex, int programFd, XdpAttachMode mode) {
        if (programFd < 0) {
            throw new IllegalArgumentException("programFd must be a descriptor: " + programFd);
        }
        setXdp(ifindex, programFd, mode.flags() | XDP_FLAGS_UPDATE_IF_NOEXIST, -1,
                "attach XDP program (" + mode + ", if none)");
    }

    void detachXdp(int ifindex, XdpAttachMode mode) {
        setXdp(ifindex, -1, mode.flags(), -1, "detach XDP program (" + mode + ")");
    }

    void detachXdp(int ifindex, XdpAttachMode mode, int expectedProgramFd) {
        if (expectedProgramFd < 0) {
            throw new IllegalArgumentException("expectedProgramFd must be a descriptor: " + expectedProgramFd);
        }
        setXdp(ifindex, -1, mode.flags() | XDP_FLAGS_REPLACE, expectedProgramFd, "detach XDP program (" + mode + ")");
    }

    private void setXdp(int ifindex, int fd, int flags, int expectedFd, String operation) {
        MessageBuilder m = links.ifinfo(RtnlLinks.RTM_SETLINK, NLM_F_ACK, ifindex, 0, 0);
        int xdp = m.nest(IFLA_XDP);
        m.attrU32(IFLA_XDP_FD, fd).attrU32(IFLA_XDP_FLAGS, flags);
        if ((flags & XDP_FLAGS_REPLACE) != 0 && expectedFd >= 0) {
            m.attrU32(IFLA_XDP_EXPECTED_FD, expectedFd);
        }
        m.end(xdp);
        try {
            socket.ack(m, channel.op(operation), "#" + ifindex);
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
            throw links.onDevice(e, channel.op(operation), ifindex, hint);
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

    XdpStatus xdp(int ifindex) {
        Message m;
        try {
            m = socket.get(links.ifinfo(RtnlLinks.RTM_GETLINK, 0, ifindex, 0, 0)
                            .attrU32(RtnlLinks.IFLA_EXT_MASK, RtnlLinks.RTEXT_FILTER_SKIP_STATS),
                    channel.op("get XDP state"), "#" + ifindex);
        } catch (NetlinkException e) {
            throw links.onDevice(e, channel.op("get XDP state"), ifindex, "");
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

    OptionalInt xdpProgramId(int ifindex) {
        return xdp(ifindex).programId();
    }
}

package io.jvisor.net;

import io.jvisor.net.sys.Attributes;
import io.jvisor.net.sys.Libc;
import io.jvisor.net.sys.MessageBuilder;
import io.jvisor.net.sys.NetlinkSocket;
import io.jvisor.net.sys.NetlinkSocket.Message;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.jvisor.net.sys.NetlinkSocket.NLM_F_ACK;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_CREATE;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_DUMP;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_EXCL;
import static io.jvisor.net.sys.NetlinkSocket.NLM_F_REPLACE;

/**
 * tc over rtnetlink, as far as a BPF datapath needs it: the clsact qdisc (RTM_*QDISC) and cls_bpf
 * filters on its ingress and egress hooks (RTM_*TFILTER), the attach path for kernels without tcx.
 * Errors name the device, the hook, priority and handle, and what is most likely wrong.
 */
final class RtnlTc {
    private final RtnlChannel channel;
    private final NetlinkSocket socket;
    private final RtnlLinks links;

    RtnlTc(RtnlChannel channel, RtnlLinks links) {
        this.channel = channel;
        this.socket = channel.socket();
        this.links = links;
    }

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

    void addClsact(int ifindex) {
        try {
            socket.ack(tcRequest(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, ifindex, CLSACT_HANDLE,
                    TC_H_CLSACT, 0).attrString(TCA_KIND, "clsact"), channel.op("add clsact qdisc"), "#" + ifindex);
        } catch (NetlinkException e) {
            throw links.onDevice(e, channel.op("add clsact qdisc"), ifindex, "");
        }
    }

    boolean ensureClsact(int ifindex) {
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
            throw new NetlinkException(channel.op("ensure clsact qdisc"), links.deviceName(ifindex),
                    "(the device has " + (kind.isEmpty() ? "another" : "an '" + kind + "'")
                            + " qdisc in the clsact slot; delete it first)",
                    e.errno(), e.kernelMessage().orElse(""));
        }
    }

    boolean hasClsact(int ifindex) {
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
                    channel.op("get clsact qdisc"), "#" + ifindex);
        } catch (NetlinkException e) {
            if (e.errno() == ENOENT || e.errno() == EINVAL || e.errno() == 0) { // 0: acknowledged, nothing sent
                return "";
            }
            throw links.onDevice(e, channel.op("get clsact qdisc"), ifindex, "");
        }
        ByteBuffer b = m.body();
        if (b.getInt(8) == 0) {
            return ""; // handle 0: the placeholder a deleted ingress/clsact qdisc leaves behind
        }
        return Attributes.parse(b, 20, b.limit()).string(TCA_KIND, "");
    }

    void deleteClsact(int ifindex) {
        try {
            socket.ack(tcRequest(RTM_DELQDISC, NLM_F_ACK, ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0)
                    .attrString(TCA_KIND, "clsact"), channel.op("delete clsact qdisc"), "#" + ifindex);
        } catch (NetlinkException e) {
            throw links.onDevice(e, channel.op("delete clsact qdisc"), ifindex, "");
        }
    }

    TcFilter attachTcFilter(TcFilterSpec spec) {
        int flags = switch (spec.mode()) {
            case CREATE -> NLM_F_CREATE | NLM_F_EXCL;
            case REPLACE -> NLM_F_REPLACE;
            case CREATE_OR_REPLACE -> NLM_F_CREATE | NLM_F_REPLACE;
        };
        String operation = channel.op(spec.mode() == TcFilterSpec.Mode.CREATE ? "attach tc filter" : "replace tc filter");
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
            throw links.onDevice(e, operation, spec.ifindex(), "(" + where + hint + ")");
        }
        return tcFilter(spec.ifindex(), spec.direction(), spec.priority(), spec.handle())
                .orElseThrow(() -> new NetlinkException(operation, links.deviceName(spec.ifindex()), "(" + where + ")", 0,
                        "the filter is gone right after it was attached"));
    }

    TcFilter replaceTcFilter(TcFilterSpec spec) {
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

    List<TcFilter> tcFilters(int ifindex, TcDirection direction) {
        List<TcFilter> out = new ArrayList<>();
        String operation = channel.op("list tc filters " + direction);
        List<Message> parts;
        try {
            parts = socket.dump(() -> tcRequest(RTM_GETTFILTER, NLM_F_DUMP, ifindex, 0, direction.parent(), 0),
                    operation);
        } catch (NetlinkException e) {
            throw links.onDevice(e, operation, ifindex, "");
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

    Optional<TcFilter> tcFilter(int ifindex, TcDirection direction, int priority, int handle) {
        String operation = channel.op("get tc filter");
        Message m;
        try {
            m = socket.get(tcRequest(RTM_GETTFILTER, 0, ifindex, handle, direction.parent(), filterInfo(priority)),
                    operation, "#" + ifindex);
        } catch (NetlinkException e) {
            if (e.errno() == ENOENT) {
                return Optional.empty();
            }
            throw links.onDevice(e, operation, ifindex, "(" + filterNote(direction, priority, handle) + ")");
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

    void deleteTcFilter(int ifindex, TcDirection direction, int priority, int handle) {
        if (handle == 0) {
            throw new IllegalArgumentException("handle must not be 0 (the kernel would delete every filter of prio "
                    + priority + ")");
        }
        String operation = channel.op("delete tc filter");
        try {
            socket.ack(tcRequest(RTM_DELTFILTER, NLM_F_ACK, ifindex, handle, direction.parent(), filterInfo(priority))
                    .attrString(TCA_KIND, "bpf"), operation, "#" + ifindex);
        } catch (NetlinkException e) {
            throw links.onDevice(e, operation, ifindex, "(" + filterNote(direction, priority, handle) + ")");
        }
    }
}

/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The jvisor module SDK: what an IO module's C data plane includes.
 *
 *     #include <jvisor/module.h>
 *
 *     static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
 *     {
 *         return jv_forward(md, md->in_port == 0 ? 1 : 0);
 *     }
 *
 * A module writes one function, jv_rx(), and returns an action built with
 * jv_forward(), jv_drop(), jv_pass(), jv_flood() or jv_controller(). The
 * framework generates the entry points for both hooks from that one
 * function: SEC("tc") jv_tc (the default, and the right one on veth) and
 * SEC("xdp") jv_xdp (for devices with native XDP). Ports, chaining,
 * counters and the slow path belong to the framework.
 *
 * The metadata (struct jv_md) travels with the packet: in the skb control
 * block (__sk_buff.cb[0..4]) in tc. In XDP it takes one of two channels,
 * chosen by the engine at load time (jv_xdp_md_channel): the XDP metadata
 * area in front of the packet (bpf_xdp_adjust_meta), or, where the kernel
 * refuses that helper, a per-CPU scratch slot (jv_xdp_scratch) written by the
 * device entry and read by each chained instance. Either survives tail calls
 * from one instance to the next.
 *
 * The engine loads the same compiled object once per instance and sets the
 * instance's slot in the .rodata constant jv_slot; the shared framework maps
 * (jv_patch*, jv_ports, jv_stats, ...) are created once by the engine and
 * given to every instance by name. Each instance has two maps of its own:
 * jv_next, the program of the instance behind each port, which it enters by a
 * tail call of constant key (a direct jump: an indirect one is a retpoline on
 * many machines), and jv_flood_devs, for XDP flooding. jv_flood() is carried
 * out by an engine-wide program (entry.c), so its loops are verified once per
 * engine, not in every module.
 */
#ifndef JVISOR_MODULE_H
#define JVISOR_MODULE_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <jvisor/jvisor.h>

/* ---- limits shared with the engine (io.jvisor.engine.Sdk) ------------- */

#define JV_MAX_PORTS 32     /* ports per instance: 0 .. JV_MAX_PORTS - 1 */
#define JV_MAX_SLOTS 1024   /* instances per engine: patch-panel slots */
#define JV_SNAPLEN 1536     /* bytes of a packet sent to user space */
#define JV_LOG_LEN 128      /* bytes of one log line */
#define JV_NO_PORT 0xffffffffu
#define JV_MAX_TAIL_CALLS 33 /* the kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT) */

/* ---- actions -------------------------------------------------------- */

enum jv_action {
	JV_ACT_DROP = 0,
	JV_ACT_FORWARD = 1,
	JV_ACT_PASS = 2,
	JV_ACT_FLOOD = 3,
	JV_ACT_CONTROLLER = 4,
};

/* Drop reasons below 256 belong to the framework; modules use 256 and up. */
enum jv_drop_reason {
	JV_DROP_MODULE = 0,          /* jv_drop() without a reason */
	JV_DROP_UNCONNECTED = 1,     /* forwarded to a port with no peer */
	JV_DROP_BAD_PORT = 2,        /* port number out of range */
	JV_DROP_MISSED_TAIL_CALL = 3,/* the next instance's slot was empty */
	JV_DROP_SLOWPATH_FULL = 4,   /* the slow-path ring buffer was full */
	JV_DROP_FLOOD_LIMIT = 5,     /* a flood reached more instance peers than one */
	JV_DROP_NO_METADATA = 6,     /* XDP: no room for the metadata area, or no scratch slot */
	JV_DROP_TAIL_CALL_LIMIT = 7, /* the kernel's tail-call limit stopped the chain (a loop of instances) */
	JV_DROP_USER = 256,
};

enum jv_hook { JV_HOOK_TC = 0, JV_HOOK_XDP = 1 };

enum jv_peer_kind { JV_PEER_NONE = 0, JV_PEER_DEVICE = 1, JV_PEER_INSTANCE = 2 };

/*
 * The per-packet metadata. Five u32 words: exactly __sk_buff.cb. Between programs only in_port,
 * hops and mark travel; out_port and reason belong to the instance running. On the way into a
 * framework program (enum jv_service), out_port carries the calling instance's slot.
 */
struct jv_md {
	__u32 in_port;  /* the port of this instance the packet entered on */
	__u32 hops;     /* tail calls that brought the packet here (JV_MAX_TAIL_CALLS at most) */
	__u32 mark;     /* free for modules; travels to the next instance */
	__u32 out_port; /* set by jv_forward() */
	__u32 reason;   /* set by jv_drop() and jv_controller() */
};

/* The engine-wide programs an instance reaches by a tail call of constant key (jv_svc_tc/xdp). */
enum jv_service {
	JV_SVC_FLOOD = 0, /* jv_flood(): loaded once per engine from entry.c, verified once */
	JV_SVC_COUNT = 1,
};

/* The packet as a module sees it, whatever the hook. */
struct jv_ctx {
	void *data;
	void *data_end;
	void *raw;      /* struct __sk_buff * or struct xdp_md * */
	__u32 hook;     /* enum jv_hook */
	__u32 len;      /* packet length */
};

/* ---- framework maps (created by the engine, shared by every instance) -- */

/* Flags of a device peer (struct jv_peer.dev_flags). */
enum jv_dev_flags {
	/*
	 * The device is a veth whose other end lives in another network namespace, and the engine
	 * allows peer redirects: in tc, a frame addressed to peer_mac goes straight into the ingress of
	 * that other end (bpf_redirect_peer) instead of out of the device and through the backlog.
	 */
	JV_DEV_F_PEER_REDIRECT = 1,
};

/* A port's peer: a device (ifindex) or a port of another instance (slot, port). */
struct jv_peer {
	__u32 kind;   /* enum jv_peer_kind */
	__u32 target; /* ifindex, or the peer instance's slot */
	union {
		struct {          /* JV_PEER_INSTANCE */
			__u32 port;   /* the peer instance's port */
			__u32 flags;
		};
		struct {          /* JV_PEER_DEVICE */
			__u8 peer_mac[6]; /* the MAC of the veth's other end (JV_DEV_F_PEER_REDIRECT) */
			__u16 dev_flags;  /* enum jv_dev_flags */
		};
	};
};

struct jv_port_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
};

struct jv_drop_key {
	__u32 slot;
	__u32 reason;
};

/* A packet sent to user space: this header, then JV_SNAPLEN bytes. */
struct jv_packet_in {
	__u32 slot;
	__u32 in_port;
	__u32 reason;
	__u32 len;      /* bytes of the packet copied into data */
	__u32 wire_len; /* the packet's full length */
	__u32 mark;
	__u32 hook;
	__u32 ifindex;  /* the device it arrived on */
	__u8 data[JV_SNAPLEN];
};

struct jv_log_line {
	__u32 slot;
	__u32 len;
	__u64 ts;
	char text[JV_LOG_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JV_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} jv_patch_tc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JV_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} jv_patch_xdp SEC(".maps");

/* The engine-wide programs (enum jv_service), by hook. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JV_SVC_COUNT);
	__type(key, __u32);
	__type(value, __u32);
} jv_svc_tc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JV_SVC_COUNT);
	__type(key, __u32);
	__type(value, __u32);
} jv_svc_xdp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, JV_MAX_SLOTS * JV_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct jv_peer);
} jv_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JV_MAX_SLOTS * JV_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct jv_port_stats);
} jv_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct jv_drop_key);
	__type(value, __u64);
} jv_drops SEC(".maps");

/* Packets that fell through a failed tail call, by the slot they were sent to. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JV_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} jv_missed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} jv_slowpath SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} jv_logs SEC(".maps");

/* Log rate limit state per instance: the second and the lines logged in it. */
struct jv_log_budget {
	__u64 second;
	__u64 lines;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JV_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct jv_log_budget);
} jv_log_budget SEC(".maps");

/*
 * How struct jv_md travels between the programs of one XDP invocation; the engine sets
 * jv_xdp_md_channel when it loads a program (io.jvisor.engine.XdpMetadata), and the verifier
 * removes the other channel's code, so a kernel that refuses bpf_xdp_adjust_meta never sees it.
 */
enum jv_xdp_md_channel {
	JV_XDP_MD_META = 0,    /* the metadata area in front of the packet (bpf_xdp_adjust_meta) */
	JV_XDP_MD_SCRATCH = 1, /* the per-CPU slot jv_xdp_scratch */
};

/*
 * The per-CPU metadata slot. Safe because one XDP invocation (the device entry and every
 * instance it tail-calls) runs to its end on one CPU, in softirq or with preemption off, before
 * another XDP program runs there; the entry writes every field before each chain.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jv_md);
} jv_xdp_scratch SEC(".maps");

const volatile __u32 jv_xdp_md_channel = JV_XDP_MD_META;

/* The devices of one instance's ports, for XDP flooding: the inner maps of jv_flood_devs_of. */
struct jv_flood_devs_map {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, JV_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
};

/* Each instance's jv_flood_devs, by slot, for the engine-wide XDP flood program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, JV_MAX_SLOTS);
	__type(key, __u32);
	__array(values, struct jv_flood_devs_map);
} jv_flood_devs_of SEC(".maps");

#ifndef JV_NO_ENTRY_POINTS
/* Per instance (not shared): the devices of this instance's ports, for XDP flooding. */
struct jv_flood_devs_map jv_flood_devs SEC(".maps");

/*
 * Per instance (not shared): the program of the instance each port is connected to, or nothing.
 * The engine writes an entry when it connects the port to another instance, rewrites it when that
 * instance's code is swapped, and deletes it when it disconnects the port. A tail call with a
 * constant key (one per port, jv_next_call) is a direct jump, patched by the kernel on each update;
 * a key read at run time would be an indirect jump, a retpoline on many machines.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JV_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} jv_next SEC(".maps");
#endif

/* The instance's slot; the engine sets it when it loads the instance. */
const volatile __u32 jv_slot = 0;

/* ---- counters ------------------------------------------------------- */

/*
 * The framework's helpers below come in two forms: one for the instance running (its slot the
 * constant jv_slot), and one with the slot as an argument (_of), for the engine-wide programs that
 * act for the instance that called them.
 */
static __always_inline __u32 jv_port_key_of(__u32 slot, __u32 port)
{
	return slot * JV_MAX_PORTS + (port & (JV_MAX_PORTS - 1));
}

static __always_inline __u32 jv_port_key(__u32 port)
{
	return jv_port_key_of(jv_slot, port);
}

static __always_inline void jv_count_rx(__u32 port, __u32 len)
{
	__u32 key = jv_port_key(port);
	struct jv_port_stats *s = bpf_map_lookup_elem(&jv_stats, &key);
	if (s) {
		s->rx_packets++;
		s->rx_bytes += len;
	}
}

static __always_inline void jv_count_tx_of(__u32 slot, __u32 port, __u32 len)
{
	__u32 key = jv_port_key_of(slot, port);
	struct jv_port_stats *s = bpf_map_lookup_elem(&jv_stats, &key);
	if (s) {
		s->tx_packets++;
		s->tx_bytes += len;
	}
}

static __always_inline void jv_count_tx(__u32 port, __u32 len)
{
	jv_count_tx_of(jv_slot, port, len);
}

static __always_inline void jv_count_drop_of(__u32 slot, __u32 reason)
{
	struct jv_drop_key k = { .slot = slot, .reason = reason };
	__u64 *c = bpf_map_lookup_elem(&jv_drops, &k);
	if (c) {
		(*c)++;
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&jv_drops, &k, &one, BPF_NOEXIST);
	}
}

static __always_inline void jv_count_drop(__u32 reason)
{
	jv_count_drop_of(jv_slot, reason);
}

static __always_inline void jv_count_missed_of(__u32 from, __u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&jv_missed, &slot);
	if (c)
		(*c)++;
	jv_count_drop_of(from, JV_DROP_MISSED_TAIL_CALL);
}

static __always_inline void jv_count_missed(__u32 slot)
{
	jv_count_missed_of(jv_slot, slot);
}

/*
 * Counts a packet whose tail call to slot (0 for a framework program) fell through, from the
 * instance from, which had received it after hops tail calls: either the kernel's limit on chained
 * tail calls stopped it (hops is JV_MAX_TAIL_CALLS already), or the program it was sent to was not
 * there (a missed tail call, also counted in jv_missed by target slot when there is one).
 */
static __always_inline void jv_count_failed_call_of(__u32 from, __u32 hops, __u32 slot, int to_instance)
{
	if (hops >= JV_MAX_TAIL_CALLS)
		jv_count_drop_of(from, JV_DROP_TAIL_CALL_LIMIT);
	else if (to_instance)
		jv_count_missed_of(from, slot);
	else
		jv_count_drop_of(from, JV_DROP_MISSED_TAIL_CALL);
}

/* ---- actions, for jv_rx() to return ----------------------------------- */

/* Send the packet out of one of this instance's ports. */
static __always_inline int jv_forward(struct jv_md *md, __u32 port)
{
	md->out_port = port;
	return JV_ACT_FORWARD;
}

/* Drop the packet, counted under reason (JV_DROP_USER and up for modules). */
static __always_inline int jv_drop(struct jv_md *md, __u32 reason)
{
	md->reason = reason;
	return JV_ACT_DROP;
}

/* Hand the packet to the host stack of the device it arrived on. */
static __always_inline int jv_pass(struct jv_md *md)
{
	return JV_ACT_PASS;
}

/* Send the packet out of every connected port except the one it came in on. */
static __always_inline int jv_flood(struct jv_md *md)
{
	return JV_ACT_FLOOD;
}

/* Send the packet to the instance's Java slow-path handler with a reason code. */
static __always_inline int jv_controller(struct jv_md *md, __u32 reason)
{
	md->reason = reason;
	return JV_ACT_CONTROLLER;
}

/* ---- safe header parsing -------------------------------------------- */

/* Re-reads the packet bounds; call after a helper that may move the packet. */
static __always_inline void jv_ctx_reload(struct jv_ctx *ctx)
{
	if (ctx->hook == JV_HOOK_TC) {
		struct __sk_buff *skb = ctx->raw;
		ctx->data = (void *)(long)skb->data;
		ctx->data_end = (void *)(long)skb->data_end;
		ctx->len = skb->len;
	} else {
		struct xdp_md *xdp = ctx->raw;
		ctx->data = (void *)(long)xdp->data;
		ctx->data_end = (void *)(long)xdp->data_end;
		ctx->len = (__u32)(xdp->data_end - xdp->data);
	}
}

/* A pointer to len bytes at offset off, or NULL when the packet is shorter. */
#define jv_header_at(ctx, off, len)                                                  \
	({                                                                                \
		void *__p = (ctx)->data + (off);                                              \
		(__p + (len) > (ctx)->data_end) ? (void *)0 : __p;                            \
	})

static __always_inline struct ethhdr *jv_eth(struct jv_ctx *ctx)
{
	return jv_header_at(ctx, 0, sizeof(struct ethhdr));
}

/* The IPv4 header right after Ethernet, or NULL when it is not IPv4 or too short. */
static __always_inline struct iphdr *jv_ipv4(struct jv_ctx *ctx)
{
	struct ethhdr *eth = jv_eth(ctx);
	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	struct iphdr *ip = jv_header_at(ctx, sizeof(struct ethhdr), sizeof(struct iphdr));
	if (!ip || ip->ihl < 5)
		return 0;
	return ip;
}

/* The L4 header of an IPv4 packet (options skipped), or NULL. */
static __always_inline void *jv_l4(struct jv_ctx *ctx, struct iphdr *ip, __u32 len)
{
	__u32 off = sizeof(struct ethhdr) + (ip->ihl & 0xf) * 4;
	void *p = ctx->data + off;
	if (p + len > ctx->data_end)
		return 0;
	return p;
}

/* ICMP echo and ARP for IPv4 over Ethernet (linux/icmp.h and linux/if_arp.h pull in libc headers). */
struct jv_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

struct jv_arphdr {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 oper;   /* 1 request, 2 reply */
	__u8 sha[6];
	__be32 spa;
	__u8 tha[6];
	__be32 tpa;
} __attribute__((packed));

/*
 * Incremental checksum update (RFC 1624: HC' = ~(~HC + ~m + m')) of a 16-bit
 * one's-complement checksum when one 16-bit word (words == 1) or one 32-bit
 * value (words == 2) changes from `from` to `to`, both as they sit in the
 * packet. For XDP, which has no bpf_l3/l4_csum_replace.
 */
static __always_inline __u16 jv_csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

static __always_inline __u16 jv_csum_update(__u16 check, __u32 from, __u32 to, int words)
{
	__u32 s = (__u16)~check;
	s += (__u16)~(from & 0xffff) + (to & 0xffff);
	if (words == 2)
		s += (__u16)~(from >> 16) + (to >> 16);
	return (__u16)~jv_csum_fold(s);
}

/*
 * Rewrites an IPv4 packet's addresses to saddr and daddr and its L4 ports to sport and dport: TCP
 * and UDP, or ICMP, whose echo identifier becomes sport (dport is not used). Every checksum is
 * updated incrementally: the IPv4 header's in place by RFC 1624 at both hooks (it is never
 * offloaded, so no helper call is needed); the L4 one (pseudo-header included, except for ICMP)
 * through bpf_l4_csum_replace in tc, which handles CHECKSUM_PARTIAL and CHECKSUM_COMPLETE skbs,
 * and by RFC 1624 in XDP. A UDP checksum of 0 (none) stays 0. In tc the packet may move: the
 * context is reloaded, so re-read header pointers afterwards.
 * Returns 0, or -1 when the packet is not IPv4 TCP, UDP or ICMP, or is too short.
 */
static __always_inline int jv_ipv4_rewrite(struct jv_ctx *ctx, __be32 saddr, __be32 daddr, __be16 sport,
					   __be16 dport)
{
	struct iphdr *ip = jv_ipv4(ctx);
	if (!ip)
		return -1;
	__u32 l4off = sizeof(struct ethhdr) + (ip->ihl & 0xf) * 4;
	__u32 csum_off;
	__u64 l4flags = 0;
	__be16 old_s, old_d;
	int udp = ip->protocol == IPPROTO_UDP;
	int icmp = ip->protocol == IPPROTO_ICMP;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = jv_header_at(ctx, l4off, sizeof(struct tcphdr));
		if (!th)
			return -1;
		old_s = th->source;
		old_d = th->dest;
		th->source = sport;
		th->dest = dport;
		csum_off = l4off + 16;
	} else if (udp) {
		struct udphdr *uh = jv_header_at(ctx, l4off, sizeof(struct udphdr));
		if (!uh)
			return -1;
		old_s = uh->source;
		old_d = uh->dest;
		uh->source = sport;
		uh->dest = dport;
		csum_off = l4off + 6;
		l4flags = BPF_F_MARK_MANGLED_0;
	} else if (icmp) {
		struct jv_icmphdr *ih = jv_header_at(ctx, l4off, sizeof(struct jv_icmphdr));
		if (!ih)
			return -1;
		old_s = ih->id;
		ih->id = sport;
		old_d = dport = 0; /* one field: the identifier */
		csum_off = l4off + 2;
	} else {
		return -1;
	}
	/* only what changes goes into the checksums (an unchanged field adds nothing, and costs) */
	__be32 old_sa = ip->saddr, old_da = ip->daddr;
	__u16 ipc = ip->check;
	if (old_sa != saddr)
		ipc = jv_csum_update(ipc, old_sa, saddr, 2);
	if (old_da != daddr)
		ipc = jv_csum_update(ipc, old_da, daddr, 2);
	ip->check = ipc;
	ip->saddr = saddr;
	ip->daddr = daddr;

	if (ctx->hook == JV_HOOK_TC) {
		/* the helpers may move the packet: every write above is done before the first call */
		struct __sk_buff *skb = ctx->raw;
		if (!icmp) {
			if (old_sa != saddr)
				bpf_l4_csum_replace(skb, csum_off, old_sa, saddr, 4 | BPF_F_PSEUDO_HDR | l4flags);
			if (old_da != daddr)
				bpf_l4_csum_replace(skb, csum_off, old_da, daddr, 4 | BPF_F_PSEUDO_HDR | l4flags);
		}
		if (old_s != sport)
			bpf_l4_csum_replace(skb, csum_off, old_s, sport, 2 | l4flags);
		if (old_d != dport)
			bpf_l4_csum_replace(skb, csum_off, old_d, dport, 2 | l4flags);
		jv_ctx_reload(ctx);
		return 0;
	}
	/* XDP: the checksum pointer is taken again from its offset, bounds-checked (the verifier loses
	 * track of the per-protocol ones above) */
	__u16 *pc = jv_header_at(ctx, csum_off, sizeof(__u16));
	if (!pc)
		return -1;
	__u16 c = *pc;
	if (!(udp && c == 0)) {
		if (!icmp && old_sa != saddr)
			c = jv_csum_update(c, old_sa, saddr, 2);
		if (!icmp && old_da != daddr)
			c = jv_csum_update(c, old_da, daddr, 2);
		if (old_s != sport)
			c = jv_csum_update(c, old_s, sport, 1);
		if (old_d != dport)
			c = jv_csum_update(c, old_d, dport, 1);
		if (udp && c == 0)
			c = 0xffff;
		*pc = c;
	}
	return 0;
}

static __always_inline int jv_mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

static __always_inline int jv_is_broadcast(const __u8 *mac)
{
	return mac[0] == 0xff && mac[1] == 0xff && mac[2] == 0xff && mac[3] == 0xff && mac[4] == 0xff &&
	       mac[5] == 0xff;
}

static __always_inline int jv_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

/* ---- rate-limited log --------------------------------------------------- */

#ifndef JV_LOG_LINES_PER_SECOND
#define JV_LOG_LINES_PER_SECOND 10
#endif

static __always_inline int jv_log_allowed(void)
{
	__u32 slot = jv_slot;
	struct jv_log_budget *b = bpf_map_lookup_elem(&jv_log_budget, &slot);
	if (!b)
		return 0;
	__u64 now = bpf_ktime_get_ns() / 1000000000ull;
	if (b->second != now) {
		b->second = now;
		b->lines = 0;
	}
	if (b->lines >= JV_LOG_LINES_PER_SECOND)
		return 0;
	b->lines++;
	return 1;
}

/*
 * jv_log("fmt", args...): at most JV_LOG_LINES_PER_SECOND lines per second per
 * CPU and instance reach the engine's log (through the jv_logs ring buffer).
 * Formats are those of bpf_snprintf (%d %u %x %llu %s %pI4 ...), at most 12 args.
 */
#define jv_log(fmt, args...)                                                         \
	({                                                                                \
		if (jv_log_allowed()) {                                                       \
			struct jv_log_line *__l = bpf_ringbuf_reserve(&jv_logs, sizeof(*__l), 0);  \
			if (__l) {                                                                \
				static const char ___fmt[] = fmt;                                     \
				unsigned long long ___param[___bpf_narg(args)];                        \
				_Pragma("GCC diagnostic push")                                         \
				_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")                 \
				___bpf_fill(___param, args);                                           \
				_Pragma("GCC diagnostic pop")                                          \
				long __n = bpf_snprintf(__l->text, sizeof(__l->text), ___fmt,          \
							___param, sizeof(___param));                          \
				__l->slot = jv_slot;                                                  \
				__l->len = __n < 0 ? 0 : (__u32)__n;                                   \
				__l->ts = bpf_ktime_get_ns();                                         \
				bpf_ringbuf_submit(__l, 0);                                           \
			}                                                                         \
		}                                                                             \
	})

#ifndef JV_NO_ENTRY_POINTS
/* ---- the module's function ---------------------------------------------- */

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md);
#endif

/* ---- the next instance ------------------------------------------------------ */

#ifndef JV_NO_ENTRY_POINTS
#define JV_NEXT_CASE(n)                                                              \
	case n:                                                                           \
		bpf_tail_call_static(ctx, &jv_next, n);                                       \
		break;

/*
 * A tail call into the instance connected to port, through jv_next with a constant key per port:
 * a direct jump. It returns only when the call fails: the entry is empty (the port is being
 * rewired, or is not connected to an instance), or the chain is at the kernel's tail-call limit.
 */
static __always_inline void jv_next_call(void *ctx, __u32 port)
{
	switch (port) {
	JV_NEXT_CASE(0) JV_NEXT_CASE(1) JV_NEXT_CASE(2) JV_NEXT_CASE(3)
	JV_NEXT_CASE(4) JV_NEXT_CASE(5) JV_NEXT_CASE(6) JV_NEXT_CASE(7)
	JV_NEXT_CASE(8) JV_NEXT_CASE(9) JV_NEXT_CASE(10) JV_NEXT_CASE(11)
	JV_NEXT_CASE(12) JV_NEXT_CASE(13) JV_NEXT_CASE(14) JV_NEXT_CASE(15)
	JV_NEXT_CASE(16) JV_NEXT_CASE(17) JV_NEXT_CASE(18) JV_NEXT_CASE(19)
	JV_NEXT_CASE(20) JV_NEXT_CASE(21) JV_NEXT_CASE(22) JV_NEXT_CASE(23)
	JV_NEXT_CASE(24) JV_NEXT_CASE(25) JV_NEXT_CASE(26) JV_NEXT_CASE(27)
	JV_NEXT_CASE(28) JV_NEXT_CASE(29) JV_NEXT_CASE(30) JV_NEXT_CASE(31)
	}
}
#endif

/*
 * Into the instance in slot, connected to port of the instance running: in an instance, first the
 * direct jump through jv_next, then, when that entry is empty (the engine empties it while it
 * rewires the port), the patch panel (patch: jv_patch_tc or jv_patch_xdp), which always holds the
 * slot's program; the engine-wide programs have no jv_next and take the panel only. Returns only
 * when the packet went nowhere.
 */
static __always_inline void jv_call_instance(void *ctx, void *patch, __u32 port, __u32 slot)
{
#ifndef JV_NO_ENTRY_POINTS
	jv_next_call(ctx, port);
#endif
	bpf_tail_call(ctx, patch, slot);
}

/* ---- tc (tcx) hook -------------------------------------------------------- */

/* The metadata that travels to the next program: cb[0..2] (struct jv_md). */
static __always_inline void jv_tc_store_md(struct __sk_buff *skb, __u32 in_port, __u32 hops, __u32 mark)
{
	skb->cb[0] = in_port;
	skb->cb[1] = hops;
	skb->cb[2] = mark;
}

/* The metadata a program receives, as jv_tc_store_md left it, with no out port or reason yet. */
static __always_inline struct jv_md jv_tc_load_md(struct __sk_buff *skb)
{
	struct jv_md md = {
		.in_port = skb->cb[0],
		.hops = skb->cb[1],
		.mark = skb->cb[2],
		.out_port = JV_NO_PORT,
		.reason = 0,
	};
	return md;
}

/*
 * To a device, in tc. A frame addressed to the MAC of the other end of a veth flagged
 * JV_DEV_F_PEER_REDIRECT enters that end's ingress directly (bpf_redirect_peer: one netns switch,
 * no transmit on the veth and no trip through the per-CPU backlog). Every other frame (broadcast,
 * multicast, another unicast address, a device that is not such a veth) leaves by bpf_redirect as
 * before, so that the receiving end classifies it (pkt_type) exactly as a transmitted frame.
 */
static __always_inline int jv_tc_redirect(struct __sk_buff *skb, struct jv_peer *p)
{
	if (p->dev_flags & JV_DEV_F_PEER_REDIRECT) {
		void *data = (void *)(long)skb->data;
		void *data_end = (void *)(long)skb->data_end;
		struct ethhdr *eth = data;
		if ((void *)(eth + 1) <= data_end &&
		    ((eth->h_dest[0] ^ p->peer_mac[0]) | (eth->h_dest[1] ^ p->peer_mac[1]) |
		     (eth->h_dest[2] ^ p->peer_mac[2]) | (eth->h_dest[3] ^ p->peer_mac[3]) |
		     (eth->h_dest[4] ^ p->peer_mac[4]) | (eth->h_dest[5] ^ p->peer_mac[5])) == 0) {
			/* the kernel sets PACKET_HOST itself since 6.15; older kernels keep the ingress type */
			bpf_skb_change_type(skb, 0 /* PACKET_HOST */);
			return bpf_redirect_peer(p->target, 0);
		}
	}
	return bpf_redirect(p->target, 0);
}

/* Out of port of the instance in slot from, to a device or to the next instance; the tc verdict. */
static __always_inline int jv_tc_out_of(struct __sk_buff *skb, struct jv_md *md, __u32 port, __u32 from)
{
	if (port >= JV_MAX_PORTS) {
		jv_count_drop_of(from, JV_DROP_BAD_PORT);
		return TC_ACT_SHOT;
	}
	__u32 key = jv_port_key_of(from, port);
	struct jv_peer *p = bpf_map_lookup_elem(&jv_ports, &key);
	if (!p || p->kind == JV_PEER_NONE) {
		jv_count_drop_of(from, JV_DROP_UNCONNECTED);
		return TC_ACT_SHOT;
	}
	jv_count_tx_of(from, port, skb->len);
	if (p->kind == JV_PEER_DEVICE)
		return jv_tc_redirect(skb, p);
	__u32 slot = p->target;
	jv_tc_store_md(skb, p->port, md->hops + 1, md->mark);
	jv_call_instance(skb, &jv_patch_tc, port, slot);
	jv_count_failed_call_of(from, md->hops, slot, 1);
	return TC_ACT_SHOT;
}

/* Out of port, to a device or to the next instance; returns the tc verdict. */
static __always_inline int jv_tc_out(struct __sk_buff *skb, struct jv_md *md, __u32 port)
{
	return jv_tc_out_of(skb, md, port, jv_slot);
}

/*
 * True when port is not the ingress port. The comparison goes through an
 * opaque xor so that the verifier does not learn the ingress port's value in
 * one branch: otherwise every loop iteration would split the verifier's state
 * in two and flooding would exceed its complexity limit.
 */
static __always_inline int jv_other_port(__u32 port, __u32 in_port)
{
	__u32 diff = port ^ in_port;
	barrier_var(diff);
	return diff != 0;
}

static __always_inline struct jv_peer *jv_peer_of_slot(__u32 slot, __u32 port)
{
	__u32 key = jv_port_key_of(slot, port);
	return bpf_map_lookup_elem(&jv_ports, &key);
}

/* The peer of one of the running instance's ports (NULL only for a bad key). */
static __always_inline struct jv_peer *jv_peer_of(__u32 port)
{
	return jv_peer_of_slot(jv_slot, port);
}

/* The lowest port of slot other than the ingress one whose peer is of kind (enum jv_peer_kind), or JV_NO_PORT. */
static __always_inline __u32 jv_first_peer_port_of(__u32 slot, struct jv_md *md, __u32 kind)
{
	for (__u32 port = 0; port < JV_MAX_PORTS; port++) {
		struct jv_peer *p = jv_peer_of_slot(slot, port);
		if (jv_other_port(port, md->in_port) && p && p->kind == kind)
			return port;
	}
	return JV_NO_PORT;
}

/* Counts a JV_DROP_FLOOD_LIMIT for each instance port of slot from `from` on, other than the ingress one. */
static __always_inline void jv_count_flood_limit_of(__u32 slot, struct jv_md *md, __u32 from)
{
	for (__u32 port = from; port < JV_MAX_PORTS; port++) {
		struct jv_peer *p = jv_peer_of_slot(slot, port);
		if (jv_other_port(port, md->in_port) && p && p->kind == JV_PEER_INSTANCE)
			jv_count_drop_of(slot, JV_DROP_FLOOD_LIMIT);
	}
}

/*
 * Flooding in tc, for the instance in slot: a clone to every device port
 * (bpf_clone_redirect), then the original to the first instance port (a tail
 * call). An skb can enter one instance only, so further instance ports are
 * counted as JV_DROP_FLOOD_LIMIT. The three loops carry no state from one
 * iteration to the next, which keeps the verifier's work linear in
 * JV_MAX_PORTS. It runs in the engine-wide program jv_flood_tc (entry.c),
 * verified once per engine rather than in every instance that floods.
 */
static __always_inline int jv_tc_flood_of(struct __sk_buff *skb, struct jv_md *md, __u32 slot)
{
	for (__u32 port = 0; port < JV_MAX_PORTS; port++) {
		struct jv_peer *p = jv_peer_of_slot(slot, port);
		if (!jv_other_port(port, md->in_port) || !p || p->kind != JV_PEER_DEVICE)
			continue;
		jv_count_tx_of(slot, port, skb->len);
		bpf_clone_redirect(skb, p->target, 0);
	}
	__u32 first = jv_first_peer_port_of(slot, md, JV_PEER_INSTANCE);
	if (first == JV_NO_PORT)
		return TC_ACT_SHOT; /* every copy has been sent */
	jv_count_flood_limit_of(slot, md, first + 1);
	return jv_tc_out_of(skb, md, first, slot);
}

static __always_inline int jv_tc_controller(struct __sk_buff *skb, struct jv_md *md)
{
	struct jv_packet_in *pin = bpf_ringbuf_reserve(&jv_slowpath, sizeof(*pin), 0);
	if (!pin) {
		jv_count_drop(JV_DROP_SLOWPATH_FULL);
		return TC_ACT_SHOT;
	}
	/* 64-bit, so that the bounds checks below apply to the register passed to the helper */
	__u64 len = skb->len;
	if (len > JV_SNAPLEN)
		len = JV_SNAPLEN;
	pin->slot = jv_slot;
	pin->in_port = md->in_port;
	pin->reason = md->reason;
	pin->wire_len = skb->len;
	pin->mark = md->mark;
	pin->hook = JV_HOOK_TC;
	pin->ifindex = skb->ingress_ifindex;
	pin->len = 0;
	/* keep clang from merging the two bounds into one unsigned compare the verifier cannot split */
	barrier_var(len);
	if (len >= 1) {
		barrier_var(len);
		if (len <= JV_SNAPLEN && bpf_skb_load_bytes(skb, 0, pin->data, len) == 0)
			pin->len = len;
	}
	bpf_ringbuf_submit(pin, 0);
	return TC_ACT_SHOT;
}

#ifndef JV_NO_ENTRY_POINTS
/*
 * jv_flood() in tc: hands the packet to the engine-wide flood program (jv_svc_tc), with the
 * instance's slot in cb[3]. A tail call of constant key: a direct jump.
 */
static __always_inline int jv_tc_flood(struct __sk_buff *skb, struct jv_md *md)
{
	jv_tc_store_md(skb, md->in_port, md->hops + 1, md->mark);
	skb->cb[3] = jv_slot;
	skb->cb[4] = 0;
	bpf_tail_call_static(skb, &jv_svc_tc, JV_SVC_FLOOD);
	jv_count_failed_call_of(jv_slot, md->hops, 0, 0);
	return TC_ACT_SHOT;
}

SEC("tc")
int jv_tc(struct __sk_buff *skb)
{
	struct jv_md md = jv_tc_load_md(skb);
	jv_count_rx(md.in_port, skb->len);
	struct jv_ctx ctx = {
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
		.raw = skb,
		.hook = JV_HOOK_TC,
		.len = skb->len,
	};
	switch (jv_rx(&ctx, &md)) {
	case JV_ACT_FORWARD:
		return jv_tc_out(skb, &md, md.out_port);
	case JV_ACT_PASS:
		return TC_ACT_OK;
	case JV_ACT_FLOOD:
		return jv_tc_flood(skb, &md);
	case JV_ACT_CONTROLLER:
		return jv_tc_controller(skb, &md);
	default:
		jv_count_drop(md.reason);
		return TC_ACT_SHOT;
	}
}

#endif /* JV_NO_ENTRY_POINTS */

/* ---- XDP hook ------------------------------------------------------------- */

/* The packet's metadata in XDP, on the channel the engine chose; NULL when there is none. */
static __always_inline struct jv_md *jv_xdp_md(struct xdp_md *xdp)
{
	if (jv_xdp_md_channel == JV_XDP_MD_SCRATCH) {
		__u32 zero = 0;
		return bpf_map_lookup_elem(&jv_xdp_scratch, &zero);
	}
	void *meta = (void *)(long)xdp->data_meta;
	void *data = (void *)(long)xdp->data;
	if (meta + sizeof(struct jv_md) > data)
		return 0;
	return meta;
}

/* A working copy of the XDP metadata m, with no out port or reason yet. */
static __always_inline struct jv_md jv_xdp_load_md(const struct jv_md *m)
{
	struct jv_md md = {
		.in_port = m->in_port,
		.hops = m->hops,
		.mark = m->mark,
		.out_port = JV_NO_PORT,
		.reason = 0,
	};
	return md;
}

/* Out of port of the instance in slot from, to a device or to the next instance; the XDP verdict. */
static __always_inline int jv_xdp_out_of(struct xdp_md *xdp, struct jv_md *md, __u32 port, __u32 len, __u32 from)
{
	if (port >= JV_MAX_PORTS) {
		jv_count_drop_of(from, JV_DROP_BAD_PORT);
		return XDP_DROP;
	}
	__u32 key = jv_port_key_of(from, port);
	struct jv_peer *p = bpf_map_lookup_elem(&jv_ports, &key);
	if (!p || p->kind == JV_PEER_NONE) {
		jv_count_drop_of(from, JV_DROP_UNCONNECTED);
		return XDP_DROP;
	}
	jv_count_tx_of(from, port, len);
	if (p->kind == JV_PEER_DEVICE)
		return bpf_redirect(p->target, 0);
	__u32 slot = p->target;
	struct jv_md *m = jv_xdp_md(xdp);
	if (!m) {
		jv_count_drop_of(from, JV_DROP_NO_METADATA);
		return XDP_DROP;
	}
	m->in_port = p->port;
	m->hops = md->hops + 1;
	m->mark = md->mark;
	jv_call_instance(xdp, &jv_patch_xdp, port, slot);
	jv_count_failed_call_of(from, md->hops, slot, 1);
	return XDP_DROP;
}

static __always_inline int jv_xdp_out(struct xdp_md *xdp, struct jv_md *md, __u32 port, __u32 len)
{
	return jv_xdp_out_of(xdp, md, port, len, jv_slot);
}

static __always_inline int jv_xdp_controller(struct xdp_md *xdp, struct jv_md *md)
{
	struct jv_packet_in *pin = bpf_ringbuf_reserve(&jv_slowpath, sizeof(*pin), 0);
	if (!pin) {
		jv_count_drop(JV_DROP_SLOWPATH_FULL);
		return XDP_DROP;
	}
	__u32 wire = (__u32)(xdp->data_end - xdp->data);
	__u64 len = wire; /* 64-bit: see jv_tc_controller */
	if (len > JV_SNAPLEN)
		len = JV_SNAPLEN;
	pin->slot = jv_slot;
	pin->in_port = md->in_port;
	pin->reason = md->reason;
	pin->wire_len = wire;
	pin->mark = md->mark;
	pin->hook = JV_HOOK_XDP;
	pin->ifindex = xdp->ingress_ifindex;
	pin->len = 0;
	/* keep clang from merging the two bounds into one unsigned compare the verifier cannot split */
	barrier_var(len);
	if (len >= 1) {
		barrier_var(len);
		if (len <= JV_SNAPLEN && bpf_xdp_load_bytes(xdp, 0, pin->data, len) == 0)
			pin->len = len;
	}
	bpf_ringbuf_submit(pin, 0);
	return XDP_DROP;
}

/*
 * Flooding in XDP, for the instance in slot. A frame cannot be cloned here, so it takes one of two
 * ways. With device ports to flood to, one devmap broadcast (the instance's jv_flood_devs, found in
 * jv_flood_devs_of) sends it out of all of them, each counted as in tc, and every instance port is
 * counted as JV_DROP_FLOOD_LIMIT: it cannot reach them too. With instance ports only, it goes to
 * the first one, as in tc, and the others count as JV_DROP_FLOOD_LIMIT. As in jv_tc_flood_of, no
 * loop carries state into the next iteration, and it runs in the engine-wide program jv_flood_xdp.
 */
static __always_inline int jv_xdp_flood_of(struct xdp_md *xdp, struct jv_md *md, __u32 len, __u32 slot)
{
	__u32 first = jv_first_peer_port_of(slot, md, JV_PEER_INSTANCE);
	if (jv_first_peer_port_of(slot, md, JV_PEER_DEVICE) == JV_NO_PORT) {
		if (first == JV_NO_PORT)
			return XDP_DROP; /* nowhere to flood to */
		jv_count_flood_limit_of(slot, md, first + 1);
		return jv_xdp_out_of(xdp, md, first, len, slot);
	}
	void *devs = bpf_map_lookup_elem(&jv_flood_devs_of, &slot);
	if (!devs) {
		jv_count_drop_of(slot, JV_DROP_UNCONNECTED); /* the engine has not registered the devices yet */
		return XDP_DROP;
	}
	for (__u32 port = 0; port < JV_MAX_PORTS; port++) {
		struct jv_peer *p = jv_peer_of_slot(slot, port);
		if (jv_other_port(port, md->in_port) && p && p->kind == JV_PEER_DEVICE)
			jv_count_tx_of(slot, port, len);
	}
	jv_count_flood_limit_of(slot, md, 0);
	/* every device port but the one the frame arrived on */
	return bpf_redirect_map(devs, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

#ifndef JV_NO_ENTRY_POINTS
/* jv_flood() in XDP: to the engine-wide flood program (jv_svc_xdp), the instance's slot in out_port. */
static __always_inline int jv_xdp_flood(struct xdp_md *xdp, struct jv_md *md)
{
	struct jv_md *m = jv_xdp_md(xdp);
	if (!m) {
		jv_count_drop(JV_DROP_NO_METADATA);
		return XDP_DROP;
	}
	m->in_port = md->in_port;
	m->hops = md->hops + 1;
	m->mark = md->mark;
	m->out_port = jv_slot;
	m->reason = 0;
	bpf_tail_call_static(xdp, &jv_svc_xdp, JV_SVC_FLOOD);
	jv_count_failed_call_of(jv_slot, md->hops, 0, 0);
	return XDP_DROP;
}

SEC("xdp")
int jv_xdp(struct xdp_md *xdp)
{
	struct jv_md *m = jv_xdp_md(xdp);
	if (!m) {
		jv_count_drop(JV_DROP_NO_METADATA);
		return XDP_DROP;
	}
	struct jv_md md = jv_xdp_load_md(m);
	__u32 len = (__u32)(xdp->data_end - xdp->data);
	jv_count_rx(md.in_port, len);
	struct jv_ctx ctx = {
		.data = (void *)(long)xdp->data,
		.data_end = (void *)(long)xdp->data_end,
		.raw = xdp,
		.hook = JV_HOOK_XDP,
		.len = len,
	};
	switch (jv_rx(&ctx, &md)) {
	case JV_ACT_FORWARD:
		return jv_xdp_out(xdp, &md, md.out_port, len);
	case JV_ACT_PASS:
		return XDP_PASS;
	case JV_ACT_FLOOD:
		return jv_xdp_flood(xdp, &md);
	case JV_ACT_CONTROLLER:
		return jv_xdp_controller(xdp, &md);
	default:
		jv_count_drop(md.reason);
		return XDP_DROP;
	}
}

#endif /* JV_NO_ENTRY_POINTS */

char _jv_license[] SEC("license") = "Dual BSD/GPL";

#endif /* JVISOR_MODULE_H */

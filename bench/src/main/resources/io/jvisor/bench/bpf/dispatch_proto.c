// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prototypes of the engine's hop from one instance to the next, for io.jvisor.bench.DispatchProtoBench.
 * Each program is the SDK forwarder (forwarder.c: port 0 to port 1 and back) with the framework's
 * own maps and metadata (jvisor/module.h, without its entry points), and differs only in how it
 * reaches the next instance:
 *
 *   panel          today's jv_tc_out: the peer's slot from jv_ports, then a tail call through the
 *                  shared patch panel jv_patch_tc[slot] (an indirect jump: a retpoline here).
 *   direct         the peer's kind and port from jv_ports, then a switch over the out port with a
 *                  tail call of constant key into the instance's own program array proto_next
 *                  (one entry per port, written by the engine when it wires the port): every jump
 *                  is direct, patched by the kernel when the entry changes.
 *   *_nocount      the same without the per-CPU rx/tx counters (jv_stats).
 *   direct_rxonly  direct with the rx counter only: what one counter costs.
 *   direct_slimcb, direct_noports, direct_min: direct_nocount with less and less of the hop
 *                  (flags P_* below), to find where its time goes.
 *   direct_slotstats  direct, with the counters of an instance's ports in one per-CPU value.
 *   direct_hopcb   direct, writing only the cb words the next instance reads.
 *   direct_cand    both.
 */
#define JV_NO_ENTRY_POINTS
#include <jvisor/module.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, JV_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} proto_next SEC(".maps");

/* P_SLOTSTATS: the counters of all of an instance's ports in one per-CPU value, found by one lookup */
struct proto_slot_stats {
	struct jv_port_stats port[JV_MAX_PORTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JV_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct proto_slot_stats);
} proto_stats SEC(".maps");

#define PROTO_CASE(n)                                           \
	case n:                                                     \
		bpf_tail_call_static(skb, &proto_next, n);              \
		break;

static __always_inline void proto_next_call(struct __sk_buff *skb, __u32 port)
{
	switch (port) {
	PROTO_CASE(0) PROTO_CASE(1) PROTO_CASE(2) PROTO_CASE(3) PROTO_CASE(4) PROTO_CASE(5) PROTO_CASE(6)
	PROTO_CASE(7) PROTO_CASE(8) PROTO_CASE(9) PROTO_CASE(10) PROTO_CASE(11) PROTO_CASE(12) PROTO_CASE(13)
	PROTO_CASE(14) PROTO_CASE(15) PROTO_CASE(16) PROTO_CASE(17) PROTO_CASE(18) PROTO_CASE(19) PROTO_CASE(20)
	PROTO_CASE(21) PROTO_CASE(22) PROTO_CASE(23) PROTO_CASE(24) PROTO_CASE(25) PROTO_CASE(26) PROTO_CASE(27)
	PROTO_CASE(28) PROTO_CASE(29) PROTO_CASE(30) PROTO_CASE(31)
	}
}

enum {
	P_RX = 1,      /* count rx on the in port (jv_stats) */
	P_TX = 2,      /* count tx on the out port */
	P_DIRECT = 4,  /* switch of constant-key tail calls into proto_next (else the patch panel) */
	P_PORTS = 8,   /* look the peer up in jv_ports before the tail call (else: peer port 0, and a
			* failed tail call means a device: ifindex 1) */
	P_FULLCB = 16, /* write all five cb words, hop count included (else in_port only) */
	P_CHECK = 32,  /* the forwarder's in_port > 1 check and its drop path */
	P_SLOTSTATS = 64, /* with P_RX and P_TX: one lookup of proto_stats[slot] for both counters */
	P_HOPCB = 128, /* write in_port, hop count and mark (cb[0..2]) only */
};

static __always_inline int proto_hop(struct __sk_buff *skb, int f)
{
	__u32 in_port = skb->cb[0];
	__u32 hops = skb->cb[1];
	__u32 mark = skb->cb[2];
	struct proto_slot_stats *ss = 0;
	if (f & P_SLOTSTATS) {
		__u32 slot = jv_slot;
		ss = bpf_map_lookup_elem(&proto_stats, &slot);
		if ((f & P_RX) && ss) {
			ss->port[in_port & (JV_MAX_PORTS - 1)].rx_packets++;
			ss->port[in_port & (JV_MAX_PORTS - 1)].rx_bytes += skb->len;
		}
	} else if (f & P_RX) {
		jv_count_rx(in_port, skb->len);
	}
	if ((f & P_CHECK) && in_port > 1) {
		jv_count_drop(JV_DROP_USER);
		return TC_ACT_SHOT;
	}
	__u32 port = in_port ^ 1;
	if (!(f & P_PORTS)) {
		port &= 1;
		skb->cb[0] = 0;
		if (f & P_FULLCB) {
			skb->cb[1] = hops + 1;
			skb->cb[2] = mark;
			skb->cb[3] = 0;
			skb->cb[4] = 0;
		}
		proto_next_call(skb, port);
		return bpf_redirect(1, 0);
	}
	__u32 key = jv_port_key(port);
	struct jv_peer *p = bpf_map_lookup_elem(&jv_ports, &key);
	if (!p || p->kind == JV_PEER_NONE) {
		jv_count_drop(JV_DROP_UNCONNECTED);
		return TC_ACT_SHOT;
	}
	if ((f & P_TX) && (f & P_SLOTSTATS)) {
		if (ss) {
			ss->port[port & (JV_MAX_PORTS - 1)].tx_packets++;
			ss->port[port & (JV_MAX_PORTS - 1)].tx_bytes += skb->len;
		}
	} else if (f & P_TX) {
		jv_count_tx(port, skb->len);
	}
	if (p->kind == JV_PEER_DEVICE)
		return jv_tc_redirect(skb, p);
	__u32 slot = p->target;
	skb->cb[0] = p->port;
	if (f & P_HOPCB) {
		skb->cb[1] = hops + 1;
		skb->cb[2] = mark;
	}
	if (f & P_FULLCB) {
		skb->cb[1] = hops + 1;
		skb->cb[2] = mark;
		skb->cb[3] = 0;
		skb->cb[4] = 0;
	}
	if (f & P_DIRECT)
		proto_next_call(skb, port);
	else
		bpf_tail_call(skb, &jv_patch_tc, slot);
	jv_count_missed(slot);
	return TC_ACT_SHOT;
}

#define PROTO(name, flags)                          \
	SEC("tc")                                       \
	int name(struct __sk_buff *skb)                 \
	{                                               \
		return proto_hop(skb, flags);               \
	}

PROTO(panel, P_RX | P_TX | P_PORTS | P_FULLCB | P_CHECK)
PROTO(panel_nocount, P_PORTS | P_FULLCB | P_CHECK)
PROTO(direct, P_DIRECT | P_RX | P_TX | P_PORTS | P_FULLCB | P_CHECK)
PROTO(direct_rxonly, P_DIRECT | P_RX | P_PORTS | P_FULLCB | P_CHECK)
PROTO(direct_nocount, P_DIRECT | P_PORTS | P_FULLCB | P_CHECK)
PROTO(direct_slimcb, P_DIRECT | P_PORTS | P_CHECK)
PROTO(direct_noports, P_DIRECT | P_CHECK)
PROTO(direct_min, P_DIRECT)
PROTO(direct_slotstats, P_DIRECT | P_RX | P_TX | P_SLOTSTATS | P_PORTS | P_FULLCB | P_CHECK)
PROTO(direct_hopcb, P_DIRECT | P_RX | P_TX | P_PORTS | P_HOPCB | P_CHECK)
PROTO(direct_cand, P_DIRECT | P_RX | P_TX | P_SLOTSTATS | P_PORTS | P_HOPCB | P_CHECK)

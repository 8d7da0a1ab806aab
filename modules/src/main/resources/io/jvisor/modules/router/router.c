/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The router: IPv4 forwarding between ports, each with an address/prefix and a MAC.
 *
 * The fast path (all in the kernel): longest-prefix lookup in rt_routes, TTL decrement with an
 * incremental header checksum update (RFC 1624), neighbour lookup in rt_neigh, MAC rewrite and
 * forward. Everything else goes to the Java control plane with a reason:
 *   RT_ARP      an ARP request for one of our addresses, or an ARP reply (learned into rt_neigh)
 *   RT_LOCAL    an ICMP echo request to one of our addresses (answered from Java)
 *   RT_TTL      TTL would expire (Java sends ICMP time exceeded)
 *   RT_UNREACH  no route (Java sends ICMP net unreachable)
 *   RT_RESOLVE  the next hop has no neighbour entry (Java sends an ARP request; the packet is
 *               dropped and counted: no queue)
 */
#include <jvisor/module.h>

#define RT_ARP 1
#define RT_LOCAL 2
#define RT_TTL 3
#define RT_UNREACH 4
#define RT_RESOLVE 5

#define RT_DROP_NOT_IP (JV_DROP_USER + 1)      /* neither IPv4 nor ARP, or a malformed IPv4 header */
#define RT_DROP_NO_PORT (JV_DROP_USER + 2)     /* the ingress port has no address */
#define RT_DROP_NOT_FOR_US (JV_DROP_USER + 3)  /* unicast frame to another MAC, or ARP not for us */
#define RT_DROP_LOCAL (JV_DROP_USER + 4)       /* to our address, but not an echo request */
#define RT_DROP_BAD_ROUTE (JV_DROP_USER + 5)   /* a route to a port with no address */

struct rt_port {
	__be32 addr;   /* 0: the port has no address */
	__u32 prefixlen;
	__u8 mac[6];
	__u16 pad;
};

struct rt_key {
	__u32 prefixlen;
	__be32 addr;
};

struct rt_route {
	__be32 nexthop; /* 0: connected, the destination itself is the neighbour */
	__u32 port;
	__u32 metric;
	__u32 pad;
};

struct rt_neighbour {
	__u8 mac[6];
	__u16 pad;
	__u64 updated; /* CLOCK_MONOTONIC ns, set by the control plane */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, JV_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct rt_port);
} rt_ports SEC(".maps");

/* our own addresses -> port */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JV_MAX_PORTS);
	__type(key, __be32);
	__type(value, __u32);
} rt_local SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rt_key);
	__type(value, struct rt_route);
} rt_routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, struct rt_neighbour);
} rt_neigh SEC(".maps");

static __always_inline int rt_arp(struct jv_ctx *ctx, struct jv_md *md)
{
	struct jv_arphdr *arp = jv_header_at(ctx, sizeof(struct ethhdr), sizeof(struct jv_arphdr));
	if (!arp || arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) || arp->hlen != 6 || arp->plen != 4)
		return jv_drop(md, RT_DROP_NOT_FOR_US);
	if (arp->oper == bpf_htons(2))
		return jv_controller(md, RT_ARP);
	if (arp->oper != bpf_htons(1))
		return jv_drop(md, RT_DROP_NOT_FOR_US);
	__be32 tpa = arp->tpa;
	__u32 *port = bpf_map_lookup_elem(&rt_local, &tpa);
	if (!port || *port != md->in_port)
		return jv_drop(md, RT_DROP_NOT_FOR_US);
	return jv_controller(md, RT_ARP);
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	struct ethhdr *eth = jv_eth(ctx);
	if (!eth)
		return jv_drop(md, RT_DROP_NOT_IP);
	__u32 in = md->in_port;
	struct rt_port *inp = bpf_map_lookup_elem(&rt_ports, &in);
	if (!inp || !inp->addr)
		return jv_drop(md, RT_DROP_NO_PORT);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return rt_arp(ctx, md);
	struct iphdr *ip = jv_ipv4(ctx);
	/* an IPv4 header: version 4, and as long as its IHL says (options included) */
	if (!ip || ip->version != 4 || !jv_header_at(ctx, sizeof(struct ethhdr), ip->ihl * 4))
		return jv_drop(md, RT_DROP_NOT_IP);
	if (!jv_mac_eq(eth->h_dest, inp->mac))
		return jv_drop(md, RT_DROP_NOT_FOR_US);

	__be32 daddr = ip->daddr;
	if (bpf_map_lookup_elem(&rt_local, &daddr)) {
		struct jv_icmphdr *icmp;
		if (ip->protocol == IPPROTO_ICMP && (icmp = jv_l4(ctx, ip, sizeof(*icmp))) && icmp->type == 8)
			return jv_controller(md, RT_LOCAL);
		return jv_drop(md, RT_DROP_LOCAL);
	}

	struct rt_key key = { .prefixlen = 32, .addr = daddr };
	struct rt_route *r = bpf_map_lookup_elem(&rt_routes, &key);
	if (!r)
		return jv_controller(md, RT_UNREACH);
	if (ip->ttl <= 1)
		return jv_controller(md, RT_TTL);
	__u32 out = r->port;
	struct rt_port *outp = bpf_map_lookup_elem(&rt_ports, &out);
	if (!outp || !outp->addr)
		return jv_drop(md, RT_DROP_BAD_ROUTE);
	__be32 hop = r->nexthop ? r->nexthop : daddr;
	struct rt_neighbour *n = bpf_map_lookup_elem(&rt_neigh, &hop);
	if (!n)
		return jv_controller(md, RT_RESOLVE);

	/* TTL - 1: the 16-bit word (ttl, protocol) drops by 0x0100; RFC 1624 HC' = HC + 0x0100 (ones' complement) */
	__u32 check = ip->check;
	check += bpf_htons(0x0100);
	ip->check = (__sum16)(check + (check >= 0xffff));
	ip->ttl--;
	__builtin_memcpy(eth->h_dest, n->mac, 6);
	__builtin_memcpy(eth->h_source, outp->mac, 6);
	return jv_forward(md, out);
}

/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat: IPv4 source NAT with port allocation (masquerade) and destination NAT (port forwarding),
 * as a two-port bump in the wire: port 0 is the inside, port 1 the outside. MAC addresses are
 * left alone (the module sits on one L2 segment, typically between a router port and the
 * outside device); frames that are not IPv4 (ARP...) cross unchanged.
 *
 * State: nat_conn holds two entries per connection, one per direction, keyed by the tuple the
 * packet has when it arrives (and the port it arrives on). Each says what to rewrite the tuple to.
 * The data plane creates both entries on a connection's first packet:
 *   - SNAT (inside -> outside, source in an nat_snat prefix): the source becomes the rule's
 *     address and a port from the configured range. The port is searched in the data plane: the
 *     original port first (when in range), then up to NAT_TRIES random ones. The reply entry is
 *     inserted with BPF_NOEXIST, which the kernel does under the bucket lock: two flows can never
 *     get the same (address, port, remote endpoint), so the allocation is collision-free.
 *   - DNAT (outside -> inside, destination in nat_dnat): the destination becomes the rule's.
 * ICMP echo is translated on its identifier, which plays the part of the inside port. ICMP errors
 * about a translated packet get their quoted headers and outer addresses translated back.
 * Checksums are updated incrementally (jv_ipv4_rewrite in jvisor/module.h: RFC 1624 for the IPv4
 * header, bpf_l4_csum_replace in tc, which also handles CHECKSUM_PARTIAL skbs, RFC 1624 in XDP).
 * Expiry is done by the Java sweeper (NatHandler) from the entries' last-seen times, and for TCP
 * from the closing flag the data plane sets when a FIN or RST crosses.
 */
#include <jvisor/module.h>

#define NAT_INSIDE 0
#define NAT_OUTSIDE 1
#define NAT_TRIES 32
#define NAT_CONN_SIZE 131072

#define NAT_KIND_SNAT 1
#define NAT_KIND_DNAT 2

#define NAT_DROP_NO_PORT (JV_DROP_USER + 1)   /* no free port after NAT_TRIES tries (or the table is full) */
#define NAT_DROP_BAD_PORT (JV_DROP_USER + 2)  /* arrived on a port other than 0 and 1 */
#define NAT_DROP_FRAGMENT (JV_DROP_USER + 3)  /* IPv4 fragments are not translated */
#define NAT_DROP_CLASH (JV_DROP_USER + 4)     /* a DNAT reply tuple already belongs to another connection */
#define NAT_DROP_SHORT (JV_DROP_USER + 5)     /* a translated packet too short for its L4 header */

/* A packet's tuple as it arrives, and the port it arrives on. ICMP echo: request sport=id, reply dport=id. */
struct nat_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir;
	__u16 pad;
};

/* What to rewrite the tuple to. */
struct nat_entry {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 kind;     /* NAT_KIND_SNAT or NAT_KIND_DNAT: the rule that created the connection */
	__u8 closing;  /* TCP: a FIN or RST went this way (the sweeper then uses timeout.tcp.closed) */
	__u8 pad[2];
	__u64 seen;    /* last packet in this direction, bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
};

struct nat_cfg {
	__u32 port_min; /* the SNAT port range, inclusive */
	__u32 port_max;
};

struct nat_snat_key {
	__u32 prefixlen;
	__be32 addr;
};

struct nat_snat_rule {
	__be32 to;
	__u32 pad;
};

struct nat_dnat_key {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct nat_dnat_rule {
	__be32 to;
	__be16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_cfg);
} nat_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nat_snat_key);
	__type(value, struct nat_snat_rule);
} nat_snat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct nat_dnat_key);
	__type(value, struct nat_dnat_rule);
} nat_dnat SEC(".maps");

/* A plain hash, not an LRU: an evicted half of a live connection would break it silently. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NAT_CONN_SIZE);
	__type(key, struct nat_key);
	__type(value, struct nat_entry);
} nat_conn SEC(".maps");

/* ---- ICMP errors ------------------------------------------------------------------------------ */

/* An ICMP error quoting an IPv4 packet, both headers without options, and the quoted L4's first 8 bytes. */
struct nat_icmp_err {
	struct ethhdr eth;
	struct iphdr ip;
	struct jv_icmphdr icmp;
	struct iphdr in;
	__be16 in_l4[4]; /* TCP/UDP: sport, dport, ...; UDP: [3] checksum; ICMP echo: [1] checksum, [2] id */
} __attribute__((packed));

/*
 * Destination unreachable, time exceeded and parameter problem quote the packet they are about. That
 * packet went the other way through the NAT, so the reverse of its tuple, arriving here, is a key in
 * nat_conn; its entry says what the quoted packet looked like before translation. The quoted
 * headers are put back that way, and the outer addresses that were the quoted packet's are
 * translated with them. Checksums: outer IPv4, ICMP (over every changed byte), quoted IPv4, and the
 * quoted UDP or ICMP echo checksum (TCP's lies beyond the 8 quoted bytes RFC 792 guarantees and is
 * left alone). Errors that match no connection cross unchanged.
 */
static __always_inline int nat_icmp_error(struct jv_ctx *ctx, struct jv_md *md, __u32 in, __u32 out)
{
	struct nat_icmp_err *p = jv_header_at(ctx, 0, sizeof(struct nat_icmp_err));
	if (!p || p->ip.ihl != 5 || p->in.ihl != 5)
		return jv_forward(md, out);
	struct nat_key k = { .saddr = p->in.daddr, .daddr = p->in.saddr, .proto = p->in.protocol, .dir = (__u8)in };
	int echo = 0;
	if (k.proto == IPPROTO_TCP || k.proto == IPPROTO_UDP) {
		k.sport = p->in_l4[1];
		k.dport = p->in_l4[0];
	} else if (k.proto == IPPROTO_ICMP && *(__u8 *)&p->in_l4[0] == 8) {
		echo = 1; /* a quoted echo request: its reverse is a reply with the identifier as dport */
		k.dport = p->in_l4[2];
	} else {
		return jv_forward(md, out);
	}
	struct nat_entry *e = bpf_map_lookup_elem(&nat_conn, &k);
	if (!e)
		return jv_forward(md, out);
	__be32 o_sa = p->ip.saddr, o_da = p->ip.daddr, i_sa = p->in.saddr, i_da = p->in.daddr;
	__be32 ni_sa = e->daddr, ni_da = e->saddr;
	__be32 n_sa = o_sa == i_da ? ni_da : o_sa;
	__be32 n_da = o_da == i_sa ? ni_sa : o_da;
	__be16 e_sport = e->sport, e_dport = e->dport;

	__u16 ic = p->icmp.checksum;
	__u16 old_ich = p->in.check;
	__u16 new_ich = jv_csum_update(jv_csum_update(old_ich, i_sa, ni_sa, 2), i_da, ni_da, 2);
	ic = jv_csum_update(ic, i_sa, ni_sa, 2);
	ic = jv_csum_update(ic, i_da, ni_da, 2);
	ic = jv_csum_update(ic, old_ich, new_ich, 1);
	p->in.saddr = ni_sa;
	p->in.daddr = ni_da;
	p->in.check = new_ich;
	if (echo) {
		__be16 oid = p->in_l4[2];
		__u16 oc = p->in_l4[1];
		__u16 nc = jv_csum_update(oc, oid, e_dport, 1);
		ic = jv_csum_update(ic, oid, e_dport, 1);
		ic = jv_csum_update(ic, oc, nc, 1);
		p->in_l4[2] = e_dport;
		p->in_l4[1] = nc;
	} else {
		__be16 osp = p->in_l4[0], odp = p->in_l4[1];
		ic = jv_csum_update(ic, osp, e_dport, 1);
		ic = jv_csum_update(ic, odp, e_sport, 1);
		p->in_l4[0] = e_dport;
		p->in_l4[1] = e_sport;
		__u16 oc = p->in_l4[3];
		if (k.proto == IPPROTO_UDP && oc != 0) {
			__u16 nc = jv_csum_update(oc, i_sa, ni_sa, 2);
			nc = jv_csum_update(nc, i_da, ni_da, 2);
			nc = jv_csum_update(nc, osp, e_dport, 1);
			nc = jv_csum_update(nc, odp, e_sport, 1);
			if (nc == 0)
				nc = 0xffff;
			ic = jv_csum_update(ic, oc, nc, 1);
			p->in_l4[3] = nc;
		}
	}
	p->icmp.checksum = ic;
	p->ip.check = jv_csum_update(jv_csum_update(p->ip.check, o_sa, n_sa, 2), o_da, n_da, 2);
	p->ip.saddr = n_sa;
	p->ip.daddr = n_da;
	return jv_forward(md, out);
}

/* ---- connection set-up ------------------------------------------------------------------------ */

/* A new inside->outside connection from a source an SNAT rule covers: allocate a port, insert both halves. */
static __always_inline struct nat_entry *nat_new_snat(struct nat_key *k, __be32 to, __u64 now)
{
	__u32 zero = 0;
	struct nat_cfg *cfg = bpf_map_lookup_elem(&nat_cfg, &zero);
	if (!cfg || cfg->port_max < cfg->port_min || cfg->port_min == 0 || cfg->port_max > 65535)
		return 0;
	__u32 range = cfg->port_max - cfg->port_min + 1;
	struct nat_key rk = {
		.saddr = k->daddr, .daddr = to, .sport = k->dport, .proto = k->proto, .dir = NAT_OUTSIDE,
	};
	struct nat_entry rv = {
		.saddr = k->daddr, .daddr = k->saddr, .sport = k->dport, .dport = k->sport,
		.kind = NAT_KIND_SNAT, .seen = now,
	};
	__u32 orig = bpf_ntohs(k->sport);
	__u32 start = bpf_get_prandom_u32();
	for (int i = 0; i < NAT_TRIES; i++) {
		__u32 port;
		if (i == 0 && orig >= cfg->port_min && orig <= cfg->port_max)
			port = orig;
		else
			port = cfg->port_min + (start + (__u32)i) % range;
		rk.dport = bpf_htons((__u16)port);
		if (bpf_map_update_elem(&nat_conn, &rk, &rv, BPF_NOEXIST) != 0)
			continue;
		struct nat_entry fv = {
			.saddr = to, .daddr = k->daddr, .sport = rk.dport, .dport = k->dport,
			.kind = NAT_KIND_SNAT, .seen = now,
		};
		if (bpf_map_update_elem(&nat_conn, k, &fv, BPF_NOEXIST) != 0)
			/* another CPU set up the same connection first: give our port back, use theirs */
			bpf_map_delete_elem(&nat_conn, &rk);
		return bpf_map_lookup_elem(&nat_conn, k);
	}
	return 0;
}

/* A new outside->inside connection to a DNAT address and port. */
static __always_inline struct nat_entry *nat_new_dnat(struct nat_key *k, struct nat_dnat_rule *r, __u64 now)
{
	struct nat_key rk = {
		.saddr = r->to, .daddr = k->saddr, .sport = r->port, .dport = k->sport, .proto = k->proto,
		.dir = NAT_INSIDE,
	};
	struct nat_entry rv = {
		.saddr = k->daddr, .daddr = k->saddr, .sport = k->dport, .dport = k->sport,
		.kind = NAT_KIND_DNAT, .seen = now,
	};
	if (bpf_map_update_elem(&nat_conn, &rk, &rv, BPF_NOEXIST) != 0)
		return bpf_map_lookup_elem(&nat_conn, k); /* set up meanwhile by another CPU, or a clash */
	struct nat_entry fv = {
		.saddr = k->saddr, .daddr = r->to, .sport = k->sport, .dport = r->port,
		.kind = NAT_KIND_DNAT, .seen = now,
	};
	if (bpf_map_update_elem(&nat_conn, k, &fv, BPF_NOEXIST) != 0)
		bpf_map_delete_elem(&nat_conn, &rk);
	return bpf_map_lookup_elem(&nat_conn, k);
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	__u32 in = md->in_port;
	if (in > NAT_OUTSIDE)
		return jv_drop(md, NAT_DROP_BAD_PORT);
	__u32 out = in ^ 1;
	struct iphdr *ip = jv_ipv4(ctx);
	if (!ip)
		return jv_forward(md, out); /* ARP and everything not IPv4 crosses unchanged */
	if (ip->frag_off & bpf_htons(0x3fff))
		return jv_drop(md, NAT_DROP_FRAGMENT);

	struct nat_key k = { .saddr = ip->saddr, .daddr = ip->daddr, .proto = ip->protocol, .dir = (__u8)in };
	int icmp_request = 0;
	__u8 fin_rst = 0;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = jv_l4(ctx, ip, sizeof(struct tcphdr));
		if (!th)
			return jv_forward(md, out);
		k.sport = th->source;
		k.dport = th->dest;
		fin_rst = th->fin | th->rst;
	} else if (ip->protocol == IPPROTO_UDP) {
		__be16 *ports = jv_l4(ctx, ip, 4);
		if (!ports)
			return jv_forward(md, out);
		k.sport = ports[0];
		k.dport = ports[1];
	} else if (ip->protocol == IPPROTO_ICMP) {
		struct jv_icmphdr *ih = jv_l4(ctx, ip, sizeof(*ih));
		if (ih && (ih->type == 3 || ih->type == 11 || ih->type == 12))
			return nat_icmp_error(ctx, md, in, out);
		if (!ih || (ih->type != 8 && ih->type != 0))
			return jv_forward(md, out);
		icmp_request = ih->type == 8;
		if (icmp_request)
			k.sport = ih->id;
		else
			k.dport = ih->id;
	} else {
		return jv_forward(md, out);
	}

	__u64 now = bpf_ktime_get_ns();
	struct nat_entry *e = bpf_map_lookup_elem(&nat_conn, &k);
	if (!e) {
		if (in == NAT_INSIDE) {
			struct nat_snat_key sk = { .prefixlen = 32, .addr = k.saddr };
			struct nat_snat_rule *r = bpf_map_lookup_elem(&nat_snat, &sk);
			if (!r)
				return jv_forward(md, out);
			e = nat_new_snat(&k, r->to, now);
			if (!e)
				return jv_drop(md, NAT_DROP_NO_PORT);
		} else {
			if (ip->protocol == IPPROTO_ICMP)
				return jv_forward(md, out);
			struct nat_dnat_key dk = { .addr = k.daddr, .port = k.dport, .proto = k.proto };
			struct nat_dnat_rule *r = bpf_map_lookup_elem(&nat_dnat, &dk);
			if (!r)
				return jv_forward(md, out);
			e = nat_new_dnat(&k, r, now);
			if (!e)
				return jv_drop(md, NAT_DROP_CLASH);
		}
	}
	if (e->seen != now)
		e->seen = now;
	if (fin_rst && !e->closing)
		e->closing = 1;
	/* ICMP echo: the identifier is the "source port" of a request and the "destination port" of a reply */
	__be16 sport = k.proto == IPPROTO_ICMP && !icmp_request ? e->dport : e->sport;
	if (jv_ipv4_rewrite(ctx, e->saddr, e->daddr, sport, e->dport) != 0)
		return jv_drop(md, NAT_DROP_SHORT);
	return jv_forward(md, out);
}

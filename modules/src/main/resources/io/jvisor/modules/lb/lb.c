/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lb: an L4 load balancer (IPv4, TCP and UDP) as a two-port bump in the wire: port 0 faces the
 * clients (typically a router port), port 1 the backends' segment.
 *
 * A service is VIP:port/protocol. A new flow is hashed (5-tuple) into the service's Maglev table
 * (computed in Java, lb_ring), which names a backend. The choice is kept in lb_conn, an LRU hash,
 * so an established flow keeps its backend whatever the table becomes, as long as the backend is
 * not removed (a draining backend keeps its flows but gets no new ones).
 *
 * Two modes per service:
 *   DNAT  the destination becomes the backend (address, port and MAC); the reply, which crosses
 *         port 1 -> port 0, gets the VIP back as its source (a reverse entry in lb_conn).
 *   DSR   the packet is encapsulated in IPIP (outer source: the configured dsr source, outer
 *         destination: the backend), like Katran; the backend answers the client directly with
 *         the VIP as source, and those replies cross the LB unchanged.
 *
 * MACs: the LB owns its VIPs at L2. ARP requests for a VIP arriving on port 0 go to Java, which
 * answers with the LB's MAC. Frames to a backend get the backend's MAC as destination; the
 * backends' MACs are learned from the ARP frames they send through port 1 (Java probes unknown
 * backends with RFC 5227 ARP probes). Everything else crosses unchanged, MACs included.
 *
 * Table swap: each service has two halves in lb_ring; Java writes the inactive half, then flips
 * the service's 'half' in one lb_services update, so a packet sees either the old or the new table.
 *
 * Fast path: an established flow's entry caches the backend's MAC, the service's mode and the tick
 * (jiffies) of its last refresh. Within that tick, while no backend MAC has been learned anew and no
 * config applied since (the two counters in lb_gen), a packet needs the connection and backend-slot
 * lookups only: no service lookup, clock read, MAC lookup or reverse-entry check. The first packet
 * of a new tick takes the full path, which refreshes the entry.
 */
#include <jvisor/module.h>

#define LB_CLIENTS 0
#define LB_BACKENDS 1
#define LB_MAX_SERVICES 16
#define LB_RING_MAX 65537
#define LB_MAX_BACKENDS 4096
#define LB_CONN_SIZE 65536

#define LB_MODE_DNAT 0
#define LB_MODE_DSR 1

#define LB_ARP 1      /* an ARP request for a VIP, from the clients' side: Java answers */
#define LB_RESOLVE 2  /* the chosen backend's MAC is unknown: Java sends an ARP probe; the packet is dropped */

#define LB_DROP_BAD_PORT (JV_DROP_USER + 1)
#define LB_DROP_NO_BACKEND (JV_DROP_USER + 2)  /* the service has no active backend */
#define LB_DROP_FRAGMENT (JV_DROP_USER + 3)    /* fragments to a VIP are not balanced */
#define LB_DROP_SHORT (JV_DROP_USER + 4)
#define LB_DROP_ENCAP (JV_DROP_USER + 5)       /* DSR: no room to encapsulate */
#define LB_DROP_ARP_PROBE (JV_DROP_USER + 6)   /* the answer to our own ARP probe (learned, consumed) */

struct lb_service_key {
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct lb_service {
	__u32 slot;  /* 0 .. LB_MAX_SERVICES - 1: where its two table halves are in lb_ring */
	__u32 half;  /* the live half, 0 or 1 */
	__u32 size;  /* table size, a prime <= LB_RING_MAX; 0: no backend */
	__u32 mode;  /* LB_MODE_DNAT or LB_MODE_DSR */
};

struct lb_backend {
	__be32 addr;   /* 0: no backend in this slot (removed) */
	__be16 port;
	__u16 pad;
};

/* A flow's tuple as it arrives; dir is the port it arrives on. */
struct lb_conn_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir;
	__u16 pad;
};

/*
 * dir 0 (client -> VIP): the backend chosen (its slot, and its address and port, so that a slot
 * reused by another backend does not inherit the flow), and its MAC as of neigh generation 'gen'.
 * dir 1 (backend -> client, DNAT): the VIP and port to put back as the source.
 */
struct lb_conn {
	__u32 backend;
	__be32 addr;
	__be16 port;
	__u8 mac[6];
	__u32 tick;   /* low 32 bits of jiffies at the last refresh */
	__u16 gen;    /* dir 0: lb_gen[LB_GEN_NEIGH] (low bits) when mac was read */
	__u8 epoch;   /* dir 0: lb_gen[LB_GEN_CONFIG] (low bits) when the service was looked up */
	__u8 mode;    /* dir 0: the service's mode then */
	__u64 seen;   /* bpf_ktime_get_ns() at the last refresh (CLOCK_MONOTONIC) */
};

struct lb_cfg {
	__u8 mac[6];    /* the LB's own MAC: ARP answers for VIPs, ARP probes to backends */
	__u16 pad;
	__be32 dsr_src; /* outer source address of DSR packets */
	__u32 pad2;
};

struct lb_neigh {
	__u8 mac[6];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_cfg);
} lb_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, struct lb_service_key);
	__type(value, struct lb_service);
} lb_services SEC(".maps");

/* VIPs the LB answers ARP for (value unused) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __be32);
	__type(value, __u32);
} lb_vips SEC(".maps");

/* (slot * 2 + half) * LB_RING_MAX + i -> backend slot */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_SERVICES * 2 * LB_RING_MAX);
	__type(key, __u32);
	__type(value, __u32);
} lb_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend);
} lb_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_CONN_SIZE);
	__type(key, struct lb_conn_key);
	__type(value, struct lb_conn);
} lb_conn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __be32);
	__type(value, struct lb_neigh);
} lb_neigh SEC(".maps");

/*
 * Generations that invalidate the connection entries' cached state:
 *   LB_GEN_NEIGH   bumped by the data plane whenever it learns a new or changed MAC;
 *   LB_GEN_CONFIG  bumped by Java after each config is written (services may have gone or changed).
 */
#define LB_GEN_NEIGH 0
#define LB_GEN_CONFIG 1

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} lb_gen SEC(".maps");

static __always_inline __u32 lb_gen_of(__u32 which)
{
	__u32 *g = bpf_map_lookup_elem(&lb_gen, &which);
	return g ? *g : 0;
}

/* The coarse clock of the refreshes: jiffies, inlined by the verifier (no helper call). */
static __always_inline __u32 lb_tick(void)
{
	return (__u32)bpf_jiffies64();
}

/* ---- hashing -------------------------------------------------------------------------------- */

static __always_inline __u32 lb_mix(__u32 h)
{
	/* murmur3's finalizer */
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static __always_inline __u32 lb_hash(struct lb_conn_key *k)
{
	__u32 h = lb_mix(k->saddr * 0x9e3779b1u ^ k->daddr);
	h = lb_mix(h ^ (((__u32)k->sport << 16) | k->dport));
	return lb_mix(h ^ k->proto);
}

/* DSR: puts an outer IPv4 header (protocol 4, IPIP) between Ethernet and the packet's own. */
static __always_inline int lb_encap(struct jv_ctx *ctx, __be32 src, __be32 dst)
{
	struct iphdr *inner = jv_ipv4(ctx);
	if (!inner)
		return -1;
	__u16 inner_len = bpf_ntohs(inner->tot_len);
	__u8 tos = inner->tos;
	if (ctx->hook == JV_HOOK_TC) {
		if (bpf_skb_adjust_room(ctx->raw, sizeof(struct iphdr), BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
			return -1;
		jv_ctx_reload(ctx);
	} else {
		if (bpf_xdp_adjust_head(ctx->raw, -(int)sizeof(struct iphdr)))
			return -1;
		jv_ctx_reload(ctx);
		struct ethhdr *neth = jv_header_at(ctx, 0, sizeof(struct ethhdr) + sizeof(struct iphdr));
		if (!neth)
			return -1;
		/* the Ethernet header moves to the new front */
		__builtin_memmove(neth, (void *)neth + sizeof(struct iphdr), sizeof(struct ethhdr));
	}
	struct iphdr *outer = jv_header_at(ctx, sizeof(struct ethhdr), sizeof(struct iphdr));
	if (!outer)
		return -1;
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = tos;
	outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = bpf_htons(0x4000); /* DF */
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = src;
	outer->daddr = dst;
	__u32 s = 0;
	__u16 *w = (__u16 *)outer;
#pragma unroll
	for (int i = 0; i < 10; i++)
		s += w[i];
	outer->check = ~jv_csum_fold(s);
	return 0;
}

/* ---- the two directions --------------------------------------------------------------------- */

static __always_inline int lb_from_clients(struct jv_ctx *ctx, struct jv_md *md)
{
	struct ethhdr *eth = jv_eth(ctx);
	if (!eth)
		return jv_drop(md, LB_DROP_SHORT);
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		struct jv_arphdr *arp = jv_header_at(ctx, sizeof(struct ethhdr), sizeof(struct jv_arphdr));
		if (arp && arp->oper == bpf_htons(1)) {
			__be32 tpa = arp->tpa;
			if (bpf_map_lookup_elem(&lb_vips, &tpa))
				return jv_controller(md, LB_ARP);
		}
		return jv_forward(md, LB_BACKENDS);
	}
	struct iphdr *ip = jv_ipv4(ctx);
	if (!ip || (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
		return jv_forward(md, LB_BACKENDS);
	__be16 *ports = jv_l4(ctx, ip, 4);
	if (!ports)
		return jv_forward(md, LB_BACKENDS);

	struct lb_conn_key k = {
		.saddr = ip->saddr, .daddr = ip->daddr, .sport = ports[0], .dport = ports[1], .proto = ip->protocol,
		.dir = LB_CLIENTS,
	};
	__u32 tick = lb_tick();
	__u16 gen = lb_gen_of(LB_GEN_NEIGH);
	__u8 epoch = lb_gen_of(LB_GEN_CONFIG);
	struct lb_backend *be = 0;
	__u32 bid = 0;
	/* a fragment never takes the fast path: the service lookup below drops it */
	struct lb_conn *c = 0;
	if (!(ip->frag_off & bpf_htons(0x3fff)))
		c = bpf_map_lookup_elem(&lb_conn, &k);
	if (c) {
		bid = c->backend;
		be = bpf_map_lookup_elem(&lb_backends, &bid);
		/* removed, or the slot now holds another backend: schedule the flow again */
		if (be && (be->addr != c->addr || be->port != c->port || !be->addr))
			be = 0;
	}
	__be32 baddr;
	__be16 bport;
	__u8 mac[6];
	__u32 mode;
	if (be && c->tick == tick && c->gen == gen && c->epoch == epoch) {
		/* refreshed in this tick, no MAC learned and no config applied since: the entry has all we need */
		baddr = c->addr;
		bport = c->port;
		mode = c->mode;
		__builtin_memcpy(mac, c->mac, 6);
	} else {
		/* not a known flow, a rescheduled one, or the first packet of a tick: the full path */
		struct lb_service_key sk = { .vip = ip->daddr, .port = ports[1], .proto = ip->protocol };
		struct lb_service *svc = bpf_map_lookup_elem(&lb_services, &sk);
		if (!svc)
			return jv_forward(md, LB_BACKENDS);
		if (ip->frag_off & bpf_htons(0x3fff))
			return jv_drop(md, LB_DROP_FRAGMENT);
		mode = svc->mode;
		if (!be) {
			if (!svc->size)
				return jv_drop(md, LB_DROP_NO_BACKEND);
			__u32 idx = (svc->slot * 2 + (svc->half & 1)) * LB_RING_MAX + lb_hash(&k) % svc->size;
			__u32 *b = bpf_map_lookup_elem(&lb_ring, &idx);
			if (!b)
				return jv_drop(md, LB_DROP_NO_BACKEND);
			bid = *b;
			be = bpf_map_lookup_elem(&lb_backends, &bid);
			if (!be || !be->addr)
				return jv_drop(md, LB_DROP_NO_BACKEND);
			c = 0;
		}
		baddr = be->addr;
		bport = be->port;
		__u64 now = bpf_ktime_get_ns();
		struct lb_neigh *n = bpf_map_lookup_elem(&lb_neigh, &baddr);
		if (!n) {
			if (!c) {
				/* keep the choice; a past tick sends the next packet down this path again */
				struct lb_conn nc = { .backend = bid, .addr = baddr, .port = bport, .tick = tick - 1,
						      .gen = gen, .epoch = epoch, .mode = mode, .seen = now };
				bpf_map_update_elem(&lb_conn, &k, &nc, BPF_ANY);
			} else {
				c->seen = now;
			}
			return jv_controller(md, LB_RESOLVE);
		}
		__builtin_memcpy(mac, n->mac, 6);
		if (c && jv_mac_eq(c->mac, mac)) {
			c->seen = now;
			c->gen = gen;
			c->epoch = epoch;
			c->mode = mode;
			c->tick = tick;
		} else {
			/* new, rescheduled, or the MAC changed: one atomic replace of the whole entry */
			struct lb_conn nc = { .backend = bid, .addr = baddr, .port = bport, .tick = tick, .gen = gen,
					      .epoch = epoch, .mode = mode, .seen = now };
			__builtin_memcpy(nc.mac, mac, 6);
			bpf_map_update_elem(&lb_conn, &k, &nc, BPF_ANY);
		}
		if (mode != LB_MODE_DSR) {
			/* the reply's entry: backend -> client gets the VIP back */
			struct lb_conn_key rk = {
				.saddr = baddr, .daddr = k.saddr, .sport = bport, .dport = k.sport, .proto = k.proto,
				.dir = LB_BACKENDS,
			};
			struct lb_conn *r = bpf_map_lookup_elem(&lb_conn, &rk);
			if (!r || r->addr != k.daddr || r->port != k.dport) {
				struct lb_conn rv = { .addr = k.daddr, .port = k.dport, .tick = tick, .seen = now };
				bpf_map_update_elem(&lb_conn, &rk, &rv, BPF_ANY);
			} else if (r->tick != tick) {
				r->seen = now;
				r->tick = tick;
			}
		}
	}

	if (mode == LB_MODE_DSR) {
		__u32 zero = 0;
		struct lb_cfg *cfg = bpf_map_lookup_elem(&lb_cfg, &zero);
		if (!cfg || lb_encap(ctx, cfg->dsr_src, baddr))
			return jv_drop(md, LB_DROP_ENCAP);
	} else if (jv_ipv4_rewrite(ctx, k.saddr, baddr, k.sport, bport)) {
		return jv_drop(md, LB_DROP_SHORT);
	}
	eth = jv_eth(ctx);
	if (!eth)
		return jv_drop(md, LB_DROP_SHORT);
	__builtin_memcpy(eth->h_dest, mac, 6);
	return jv_forward(md, LB_BACKENDS);
}

static __always_inline int lb_from_backends(struct jv_ctx *ctx, struct jv_md *md)
{
	struct ethhdr *eth = jv_eth(ctx);
	if (!eth)
		return jv_drop(md, LB_DROP_SHORT);
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		struct jv_arphdr *arp = jv_header_at(ctx, sizeof(struct ethhdr), sizeof(struct jv_arphdr));
		if (!arp || arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP))
			return jv_forward(md, LB_CLIENTS);
		__be32 spa = arp->spa;
		if (spa && !(arp->sha[0] & 1)) {
			struct lb_neigh nb = {};
			__builtin_memcpy(nb.mac, arp->sha, 6);
			struct lb_neigh *old = bpf_map_lookup_elem(&lb_neigh, &spa);
			if (!old || !jv_mac_eq(old->mac, nb.mac)) {
				bpf_map_update_elem(&lb_neigh, &spa, &nb, BPF_ANY);
				/* connection entries that cached a MAC re-read it on their next packet */
				__u32 which = LB_GEN_NEIGH;
				__u32 *g = bpf_map_lookup_elem(&lb_gen, &which);
				if (g)
					__sync_fetch_and_add(g, 1);
			}
		}
		__u32 zero = 0;
		struct lb_cfg *cfg = bpf_map_lookup_elem(&lb_cfg, &zero);
		if (cfg && arp->oper == bpf_htons(2) && jv_mac_eq(eth->h_dest, cfg->mac))
			return jv_drop(md, LB_DROP_ARP_PROBE);
		return jv_forward(md, LB_CLIENTS);
	}
	struct iphdr *ip = jv_ipv4(ctx);
	if (!ip || (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
		return jv_forward(md, LB_CLIENTS);
	if (ip->frag_off & bpf_htons(0x3fff))
		return jv_forward(md, LB_CLIENTS);
	__be16 *ports = jv_l4(ctx, ip, 4);
	if (!ports)
		return jv_forward(md, LB_CLIENTS);
	struct lb_conn_key k = {
		.saddr = ip->saddr, .daddr = ip->daddr, .sport = ports[0], .dport = ports[1], .proto = ip->protocol,
		.dir = LB_BACKENDS,
	};
	struct lb_conn *r = bpf_map_lookup_elem(&lb_conn, &k);
	if (!r)
		return jv_forward(md, LB_CLIENTS);
	__be32 vip = r->addr;
	__be16 vport = r->port;
	__u32 tick = lb_tick();
	if (r->tick != tick) {
		r->seen = bpf_ktime_get_ns();
		r->tick = tick;
	}
	if (jv_ipv4_rewrite(ctx, vip, k.daddr, vport, k.dport))
		return jv_drop(md, LB_DROP_SHORT);
	return jv_forward(md, LB_CLIENTS);
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	if (md->in_port == LB_CLIENTS)
		return lb_from_clients(ctx, md);
	if (md->in_port == LB_BACKENDS)
		return lb_from_backends(ctx, md);
	return jv_drop(md, LB_DROP_BAD_PORT);
}

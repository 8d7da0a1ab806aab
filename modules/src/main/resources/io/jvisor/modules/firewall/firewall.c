/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * firewall: a stateful IPv4 firewall inserted transparently between two peers.
 *
 * Port 0 is "inside", port 1 is "outside". A packet that enters on port 0 and leaves on port 1 is
 * judged by the egress chain; one that enters on port 1 and leaves on port 0 by the ingress chain.
 *
 * Classification is tuple-space search (Srinivasan, Suri, Varghese 1999), as docs/firewall.md
 * describes: the control plane groups the rules of a chain by their *tuple* (source and
 * destination prefix lengths, whether the protocol is given, source and destination port prefix
 * lengths after expanding ranges into prefixes, the TCP flag mask, whether a conntrack state is
 * given; an ICMP type and code take the destination and source port slots). Each tuple is one hash probe on the packet's fields under that tuple's masks; the hash
 * value holds the first rule (lowest priority number) with exactly those masked fields. Tuples are
 * sorted by the best priority they hold, so the search stops as soon as no later tuple can hold
 * a better rule. The cost follows the number of tuples, not the number of rules.
 *
 * Atomic replacement: every rule set exists in one of two versions (0 or 1); fw_active says which
 * one packets use. A packet reads fw_active once, so it is judged entirely by one version. The
 * control plane writes the inactive version, flips fw_active, waits for an RCU grace period and
 * only then removes the old version.
 *
 * Connection tracking (fw_ct, an LRU hash) is keyed by the original direction's 5-tuple; the
 * reply direction is found by looking the reversed tuple up. Entries are created and updated only
 * by packets that are accepted.
 */
#include <jvisor/module.h>

#define FW_MAX_TUPLES 1024        /* tuples per chain and version */
#define FW_MAX_ENTRIES 524288     /* classifier entries, both versions */
#define FW_COUNTERS 65536         /* per-rule counter slots (old and new rule set), then one per chain's policy */
#define FW_CT_SIZE 65536

#define FW_CHAIN_EGRESS 0
#define FW_CHAIN_INGRESS 1

/* the ICMP type and code slots of a packet with no ICMP header: outside 0..255, so no rule matches */
#define FW_ICMP_NONE 256

#define FW_ACT_DROP 1
#define FW_ACT_LOG 2

/* conntrack states a rule matches on (0: the rule does not look at the state) */
#define FW_ST_NEW 1
#define FW_ST_ESTABLISHED 2
#define FW_ST_RELATED 3
#define FW_ST_INVALID 4

/* a connection's TCP state */
#define CT_NONE 0
#define CT_SYN_SENT 1
#define CT_SYN_RECV 2
#define CT_ESTABLISHED 3
#define CT_FIN_WAIT 4
#define CT_CLOSING 5
#define CT_CLOSED 6

#define CT_F_REPLIED 1
#define CT_F_FIN_ORIG 2
#define CT_F_FIN_REPLY 4

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

enum {
	FW_DROP_RULE = JV_DROP_USER,        /* a rule said drop */
	FW_DROP_POLICY = JV_DROP_USER + 1,  /* no rule matched and the chain's policy is drop */
	FW_DROP_NOT_IPV4 = JV_DROP_USER + 2,/* neither IPv4 nor ARP */
	FW_DROP_PORT = JV_DROP_USER + 3,    /* arrived on a port other than 0 and 1 */
};

struct fw_key {
	__u32 tuple;   /* global tuple index: (version * 2 + chain) * FW_MAX_TUPLES + position */
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 flags;
	__u8 state;
	__u8 pad;
};

struct fw_rule {
	__u32 prio;    /* the rule's position in its chain: lower wins */
	__u32 counter; /* its counter slot */
	__u32 action;  /* FW_ACT_* bits */
	__u32 pad;
};

struct fw_tuple {
	__be32 smask;
	__be32 dmask;
	__be16 spmask;
	__be16 dpmask;
	__u8 proto;    /* 1: the protocol is part of the key */
	__u8 fmask;    /* TCP flags that are part of the key */
	__u8 state;    /* 1: the conntrack state is part of the key */
	__u8 pclass;   /* bit 0: the key holds the source port's class, bit 1: the destination port's */
	__u32 min_prio;
	__u32 pad2;
};

struct fw_chain {
	__u32 ntuples;
	__u32 policy;  /* FW_ACT_* bits when no rule matches */
	__u32 pad[2];
};

struct fw_counter {
	__u64 packets;
	__u64 bytes;
};

struct fw_timeouts {
	__u64 tcp_syn;
	__u64 tcp_established;
	__u64 tcp_fin;
	__u64 tcp_close;
	__u64 udp;
	__u64 icmp;
};

struct fw_ct_key {
	__be32 src;
	__be32 dst;
	__be16 sport;  /* ICMP echo: the identifier, in both */
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct fw_ct {
	__u64 seen;    /* bpf_ktime_get_ns of the last accepted packet */
	__u32 state;   /* CT_* for TCP; CT_NONE otherwise */
	__u32 flags;   /* CT_F_* */
	__u32 origin;  /* the chain of the packet that opened it */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fw_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct fw_chain);
} fw_chains SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4 * FW_MAX_TUPLES);
	__type(key, __u32);
	__type(value, struct fw_tuple);
} fw_tuples SEC(".maps");

/*
 * Port classes, per version, chain and field (source, destination): the elementary interval of
 * each port among the chain's port ranges. A range that spans few classes is one entry per class
 * in a single tuple, instead of one entry per prefix in as many tuples as it has prefix lengths.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4 * 2 * 65536);
	__type(key, __u32);
	__type(value, __u16);
} fw_pclass SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FW_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_key);
	__type(value, struct fw_rule);
} fw_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_COUNTERS + 2);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_counters SEC(".maps");

/* counter slot -> identity of the rule that owns it (0: free); only the control plane uses it */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} fw_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_timeouts);
} fw_timeouts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FW_CT_SIZE);
	__type(key, struct fw_ct_key);
	__type(value, struct fw_ct);
} fw_ct SEC(".maps");

/* What the search needs: the packet's fields and the best rule so far. */
struct fw_search {
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 flags;
	__u8 state;
	__u8 pad;
	__be16 sclass;
	__be16 dclass;
	__u32 base;
	__u32 ntuples;
	__u32 best_prio;
	__u32 best_counter;
	__u32 best_action;
	__u32 found;
};

static long fw_probe(__u32 i, void *data)
{
	struct fw_search *s = data;
	if (i >= s->ntuples)
		return 1;
	__u32 idx = s->base + i;
	struct fw_tuple *t = bpf_map_lookup_elem(&fw_tuples, &idx);
	if (!t || t->min_prio >= s->best_prio)
		return 1; /* tuples are sorted by min_prio: no later one holds a better rule */
	struct fw_key k = {
		.tuple = idx,
		.src = s->src & t->smask,
		.dst = s->dst & t->dmask,
		.sport = (t->pclass & 1) ? s->sclass : s->sport & t->spmask,
		.dport = (t->pclass & 2) ? s->dclass : s->dport & t->dpmask,
		.proto = t->proto ? s->proto : 0,
		.flags = s->flags & t->fmask,
		.state = t->state ? s->state : 0,
		.pad = 0,
	};
	struct fw_rule *r = bpf_map_lookup_elem(&fw_rules, &k);
	if (r && r->prio < s->best_prio) {
		s->best_prio = r->prio;
		s->best_counter = r->counter;
		s->best_action = r->action;
		s->found = 1;
	}
	return 0;
}

static __always_inline __u64 fw_timeout(struct fw_timeouts *to, __u8 proto, __u32 state)
{
	if (proto == IPPROTO_UDP)
		return to->udp;
	if (proto == IPPROTO_ICMP)
		return to->icmp;
	switch (state) {
	case CT_ESTABLISHED:
		return to->tcp_established;
	case CT_FIN_WAIT:
	case CT_CLOSING:
		return to->tcp_fin;
	case CT_CLOSED:
		return to->tcp_close;
	default:
		return to->tcp_syn;
	}
}

/* The live entry for key (expired ones are deleted and not returned). */
static __always_inline struct fw_ct *fw_ct_live(struct fw_ct_key *key, struct fw_timeouts *to, __u64 now)
{
	struct fw_ct *ct = bpf_map_lookup_elem(&fw_ct, key);
	if (ct && now - ct->seen > fw_timeout(to, key->proto, ct->state)) {
		bpf_map_delete_elem(&fw_ct, key);
		return 0;
	}
	return ct;
}

static __always_inline void fw_reverse(struct fw_ct_key *r, const struct fw_ct_key *k)
{
	r->src = k->dst;
	r->dst = k->src;
	r->sport = k->dport;
	r->dport = k->sport;
	r->proto = k->proto;
	r->pad[0] = r->pad[1] = r->pad[2] = 0;
}

static __always_inline int fw_icmp_error(__u8 type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* An ICMP error is RELATED when the packet it quotes belongs to a tracked connection. */
static __always_inline int fw_related(struct jv_ctx *ctx, __u32 l4off, struct fw_timeouts *to, __u64 now)
{
	__u32 off = l4off + 8;
	if (off > 128)
		return 0;
	struct iphdr *in = jv_header_at(ctx, off, sizeof(struct iphdr));
	if (!in || in->ihl < 5)
		return 0;
	struct fw_ct_key k = { .src = in->saddr, .dst = in->daddr, .proto = in->protocol };
	__u32 ioff = off + (in->ihl & 0xf) * 4;
	if (in->protocol == IPPROTO_TCP || in->protocol == IPPROTO_UDP) {
		__be16 *ports = jv_header_at(ctx, ioff, 4);
		if (!ports)
			return 0;
		k.sport = ports[0];
		k.dport = ports[1];
	} else if (in->protocol == IPPROTO_ICMP) {
		struct jv_icmphdr *ic = jv_header_at(ctx, ioff, sizeof(struct jv_icmphdr));
		if (!ic)
			return 0;
		k.sport = ic->id;
		k.dport = ic->id;
	} else {
		return 0;
	}
	if (fw_ct_live(&k, to, now))
		return 1;
	struct fw_ct_key r;
	fw_reverse(&r, &k);
	return fw_ct_live(&r, to, now) != 0;
}

static __always_inline void fw_count(__u32 slot, __u32 len)
{
	struct fw_counter *c = bpf_map_lookup_elem(&fw_counters, &slot);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	__u32 in = md->in_port;
	if (in > 1)
		return jv_drop(md, FW_DROP_PORT);
	__u32 out = in ^ 1;
	__u32 chain = in == 0 ? FW_CHAIN_EGRESS : FW_CHAIN_INGRESS;
	struct ethhdr *eth = jv_eth(ctx);
	if (!eth)
		return jv_drop(md, FW_DROP_NOT_IPV4);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return jv_forward(md, out);
	struct iphdr *ip = jv_ipv4(ctx);
	if (!ip)
		return jv_drop(md, FW_DROP_NOT_IPV4);

	__u32 zero = 0;
	struct fw_timeouts *to = bpf_map_lookup_elem(&fw_timeouts, &zero);
	__u32 *active = bpf_map_lookup_elem(&fw_active, &zero);
	if (!to || !active)
		return jv_drop(md, FW_DROP_POLICY);
	__u32 version = *active & 1;

	struct fw_search s = {
		.src = ip->saddr,
		.dst = ip->daddr,
		.proto = ip->protocol,
		.best_prio = 0xffffffffu,
	};
	struct fw_ct_key ck = { .src = ip->saddr, .dst = ip->daddr, .proto = ip->protocol };
	__u32 l4off = sizeof(struct ethhdr) + (ip->ihl & 0xf) * 4;
	int first_fragment = (ip->frag_off & bpf_htons(0x1fff)) == 0;
	int trackable = 0;  /* may open a connection when accepted as NEW */
	__u8 icmp_type = 0;
	if (first_fragment && ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = jv_l4(ctx, ip, sizeof(struct tcphdr));
		if (th) {
			s.sport = th->source;
			s.dport = th->dest;
			s.flags = ((__u8 *)th)[13];
		}
	} else if (first_fragment && ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = jv_l4(ctx, ip, sizeof(struct udphdr));
		if (uh) {
			s.sport = uh->source;
			s.dport = uh->dest;
		}
	} else if (ip->protocol == IPPROTO_ICMP) {
		/*
		 * ICMP type and code take the destination and source port slots of the search, so that
		 * icmp-type rules are ordinary (class) entries of a tuple with the protocol in its key.
		 * Without an ICMP header (a non-first fragment, a truncated packet) both hold
		 * FW_ICMP_NONE, which no icmp-type rule matches.
		 */
		s.sport = bpf_htons(FW_ICMP_NONE);
		s.dport = bpf_htons(FW_ICMP_NONE);
		struct jv_icmphdr *ic = first_fragment ? jv_l4(ctx, ip, sizeof(struct jv_icmphdr)) : 0;
		if (ic) {
			icmp_type = ic->type;
			s.dport = bpf_htons(ic->type);
			s.sport = bpf_htons(ic->code);
			if (ic->type == 8 || ic->type == 0) {
				ck.sport = ic->id;
				ck.dport = ic->id;
			}
		}
	}
	ck.sport = ip->protocol == IPPROTO_ICMP ? ck.sport : s.sport;
	ck.dport = ip->protocol == IPPROTO_ICMP ? ck.dport : s.dport;

	/* conntrack: what this packet is */
	__u64 now = bpf_ktime_get_ns();
	int reply = 0;
	struct fw_ct_key rk;
	fw_reverse(&rk, &ck);
	struct fw_ct *ct = 0;
	__u8 tf = s.flags & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN);
	if (!first_fragment) {
		s.state = FW_ST_INVALID;
	} else if (ip->protocol == IPPROTO_ICMP && fw_icmp_error(icmp_type)) {
		s.state = fw_related(ctx, l4off, to, now) ? FW_ST_RELATED : FW_ST_INVALID;
	} else if (ip->protocol == IPPROTO_ICMP && icmp_type != 8 && icmp_type != 0) {
		s.state = FW_ST_NEW; /* other ICMP messages are not tracked */
	} else if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_ICMP) {
		s.state = FW_ST_NEW;
	} else {
		ct = fw_ct_live(&ck, to, now);
		if (!ct) {
			ct = fw_ct_live(&rk, to, now);
			reply = ct != 0;
		}
		if (!ct) {
			if (ip->protocol == IPPROTO_TCP)
				s.state = (tf & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN)) == TCPF_SYN ? FW_ST_NEW : FW_ST_INVALID;
			else if (ip->protocol == IPPROTO_ICMP)
				s.state = icmp_type == 8 ? FW_ST_NEW : FW_ST_INVALID;
			else
				s.state = FW_ST_NEW;
			trackable = s.state == FW_ST_NEW;
		} else if (ip->protocol != IPPROTO_TCP) {
			s.state = (!reply && !(ct->flags & CT_F_REPLIED)) ? FW_ST_NEW : FW_ST_ESTABLISHED;
		} else {
			__u32 st = ct->state;
			if (tf & TCPF_RST)
				s.state = FW_ST_ESTABLISHED;
			else if (st == CT_SYN_SENT)
				s.state = !reply && tf == TCPF_SYN ? FW_ST_NEW
					  : reply && tf == (TCPF_SYN | TCPF_ACK) ? FW_ST_ESTABLISHED : FW_ST_INVALID;
			else if (st == CT_CLOSED) {
				s.state = !reply && tf == TCPF_SYN ? FW_ST_NEW : FW_ST_INVALID;
				trackable = s.state == FW_ST_NEW;
			} else if (st == CT_SYN_RECV && reply && tf == (TCPF_SYN | TCPF_ACK))
				s.state = FW_ST_ESTABLISHED;
			else if (tf & TCPF_SYN)
				s.state = FW_ST_INVALID;
			else
				s.state = FW_ST_ESTABLISHED;
		}
	}

	/* the rule set */
	__u32 ci = version * 2 + chain;
	struct fw_chain *c = bpf_map_lookup_elem(&fw_chains, &ci);
	if (!c)
		return jv_drop(md, FW_DROP_POLICY);
	s.base = ci * FW_MAX_TUPLES;
	s.ntuples = c->ntuples < FW_MAX_TUPLES ? c->ntuples : FW_MAX_TUPLES;
	__u32 policy = c->policy;
	__u32 pk = ci * 2 * 65536 + bpf_ntohs(s.sport);
	__u16 *pc = bpf_map_lookup_elem(&fw_pclass, &pk);
	s.sclass = pc ? bpf_htons(*pc) : 0;
	pk = (ci * 2 + 1) * 65536 + bpf_ntohs(s.dport);
	pc = bpf_map_lookup_elem(&fw_pclass, &pk);
	s.dclass = pc ? bpf_htons(*pc) : 0;
	bpf_loop(FW_MAX_TUPLES, fw_probe, &s, 0);

	__u32 action = s.found ? s.best_action : policy;
	__u32 slot = s.found ? s.best_counter : FW_COUNTERS + chain;
	fw_count(slot, ctx->len);
	if (action & FW_ACT_LOG)
		jv_log("%s chain %s rule %u: %pI4 -> %pI4 proto %u", (action & FW_ACT_DROP) ? "drop" : "accept",
		       chain == FW_CHAIN_INGRESS ? "ingress" : "egress", s.found ? s.best_prio : 0xffffffffu,
		       &s.src, &s.dst, s.proto);
	if (action & FW_ACT_DROP)
		return jv_drop(md, s.found ? FW_DROP_RULE : FW_DROP_POLICY);

	/* accepted: conntrack learns from it */
	if (trackable && (!ct || (ct && ct->state == CT_CLOSED))) {
		struct fw_ct n = {
			.seen = now,
			.state = ip->protocol == IPPROTO_TCP ? CT_SYN_SENT : CT_NONE,
			.origin = chain,
		};
		bpf_map_update_elem(&fw_ct, &ck, &n, BPF_ANY);
	} else if (ct) {
		ct->seen = now;
		if (reply)
			ct->flags |= CT_F_REPLIED;
		if (ip->protocol == IPPROTO_TCP) {
			__u32 st = ct->state;
			if (tf & TCPF_RST) {
				ct->state = CT_CLOSED;
			} else if (st == CT_SYN_SENT && reply && tf == (TCPF_SYN | TCPF_ACK)) {
				ct->state = CT_SYN_RECV;
			} else if (st == CT_SYN_RECV && !reply && (tf & TCPF_ACK) && !(tf & TCPF_SYN)) {
				ct->state = CT_ESTABLISHED;
			}
			if ((tf & TCPF_FIN) && ct->state != CT_CLOSED) {
				__u32 f = ct->flags | (reply ? CT_F_FIN_REPLY : CT_F_FIN_ORIG);
				ct->flags = f;
				ct->state = (f & CT_F_FIN_ORIG) && (f & CT_F_FIN_REPLY) ? CT_CLOSING : CT_FIN_WAIT;
			}
		}
	}
	return jv_forward(md, out);
}

/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ddos: a transparent DDoS mitigator between port 0 and port 1, written for XDP first.
 *
 * IPv4 frames entering a policed port (dd_cfg.ports, port 0 by default) go through three checks,
 * in this order, and the first that fails drops the frame:
 *   1. the source address against the dd_src_block LPM trie (DD_DROP_SRC_BLOCKED);
 *   2. the destination address against the dd_dst_block LPM trie (DD_DROP_DST_BLOCKED);
 *   3. the per-source rate limit, when dd_cfg.interval_ns is non-zero (DD_DROP_RATE_LIMITED).
 * Everything else, including frames that are not IPv4, is forwarded to the other port.
 *
 * The rate limit is a token bucket per source address (rate R packets per second, burst B),
 * computed as GCRA, its lock-free equivalent: each source holds one u64, its theoretical arrival
 * time (TAT). With T = 1e9 / R ns and tau = (B - 1) * T, a frame arriving at t conforms when
 * TAT - tau <= t, and then TAT becomes max(TAT, t) + T. A full bucket (B tokens) is TAT <= t; each
 * frame takes one token (T ns of TAT); tokens come back at R per second. The update is one
 * compare-and-swap (BPF_CMPXCHG), retried a few times when another CPU updated the same source in
 * between; no spin lock, no per-CPU split of the budget. The state lives in an LRU hash, so a flood
 * of new sources evicts the least recently seen ones instead of failing.
 *
 * Every drop is counted twice: under its reason in the engine's drop counters, and in dd_stats by
 * kind (per CPU); blocklist entries and sources also count their own hits (atomic adds).
 */
#include <jvisor/module.h>

/* Default sizes: the engine sets each instance's from blocklist.max and sources.max (DdosModule.mapSizes). */
#define DD_BLOCK_SIZE 65536
#define DD_SOURCES 65536
#define DD_CAS_TRIES 4

enum {
	DD_DROP_SRC_BLOCKED = JV_DROP_USER + 1,
	DD_DROP_DST_BLOCKED = JV_DROP_USER + 2,
	DD_DROP_RATE_LIMITED = JV_DROP_USER + 3,
};

/* dd_stats indexes: packets then bytes */
enum {
	DD_PASSED = 0,
	DD_SRC_BLOCKED = 1,
	DD_DST_BLOCKED = 2,
	DD_RATE_LIMITED = 3,
	DD_NOT_POLICED = 4, /* not IPv4, or entered a port that is not policed: forwarded unchecked */
	DD_NKINDS = 5,
};

struct dd_counter {
	__u64 packets;
	__u64 bytes;
};

struct dd_config {
	__u64 interval_ns; /* T = 1e9 / R; 0: no rate limit */
	__u64 tau_ns;      /* (B - 1) * T */
	__u32 ports;       /* bit N: police frames entering port N */
	__u32 pad;
};

struct dd_key {
	__u32 prefixlen;
	__be32 addr;
};

/* A blocklist entry's hits. */
struct dd_hits {
	__u64 packets;
	__u64 bytes;
};

/* A source's rate limit state. */
struct dd_source {
	__u64 tat;      /* theoretical arrival time, bpf_ktime_get_ns() ns */
	__u64 dropped;  /* frames of this source dropped by the rate limit */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dd_config);
} dd_cfg SEC(".maps");

/* A blocklist: an LPM trie of prefixes, each with its hits. One for sources, one for destinations. */
#define DD_BLOCKLIST(name)                                      \
	struct {                                                \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);            \
		__uint(max_entries, DD_BLOCK_SIZE);             \
		__uint(map_flags, BPF_F_NO_PREALLOC);           \
		__type(key, struct dd_key);                     \
		__type(value, struct dd_hits);                  \
	} name SEC(".maps")

DD_BLOCKLIST(dd_src_block);
DD_BLOCKLIST(dd_dst_block);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DD_SOURCES);
	__type(key, __be32);
	__type(value, struct dd_source);
} dd_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DD_NKINDS);
	__type(key, __u32);
	__type(value, struct dd_counter);
} dd_stats SEC(".maps");

static __always_inline void dd_count(__u32 kind, __u32 len)
{
	struct dd_counter *c = bpf_map_lookup_elem(&dd_stats, &kind);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline int dd_blocked(void *trie, __be32 addr, __u32 len)
{
	struct dd_key k = { .prefixlen = 32, .addr = addr };
	struct dd_hits *h = bpf_map_lookup_elem(trie, &k);
	if (!h)
		return 0;
	__sync_fetch_and_add(&h->packets, 1);
	__sync_fetch_and_add(&h->bytes, len);
	return 1;
}

/* GCRA: 1 when the frame conforms (and takes its token), 0 when it is over the rate. */
static __always_inline int dd_conforms(__be32 src, const struct dd_config *c)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 t = c->interval_ns;
	struct dd_source *s = bpf_map_lookup_elem(&dd_sources, &src);
	if (!s) {
		struct dd_source fresh = { .tat = now + t, .dropped = 0 };
		if (bpf_map_update_elem(&dd_sources, &src, &fresh, BPF_NOEXIST) == 0)
			return 1; /* a new source starts with a full bucket and takes one token */
		s = bpf_map_lookup_elem(&dd_sources, &src); /* another CPU made it first */
		if (!s)
			return 1;
	}
	for (int i = 0; i < DD_CAS_TRIES; i++) {
		__u64 tat = s->tat;
		if (tat > now + c->tau_ns) {
			__sync_fetch_and_add(&s->dropped, 1);
			return 0;
		}
		__u64 next = (tat > now ? tat : now) + t;
		if (__sync_val_compare_and_swap(&s->tat, tat, next) == tat)
			return 1;
	}
	/* other CPUs kept taking this source's tokens: it is sending on several CPUs at once */
	__sync_fetch_and_add(&s->dropped, 1);
	return 0;
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	__u32 in = md->in_port;
	if (in > 1)
		return jv_drop(md, JV_DROP_BAD_PORT);
	__u32 len = ctx->len;
	__u32 zero = 0;
	struct dd_config *c = bpf_map_lookup_elem(&dd_cfg, &zero);
	struct iphdr *ip = jv_ipv4(ctx);
	if (!c || !ip || !(c->ports & (1u << in))) {
		dd_count(DD_NOT_POLICED, len);
		return jv_forward(md, in ^ 1);
	}
	if (dd_blocked(&dd_src_block, ip->saddr, len)) {
		dd_count(DD_SRC_BLOCKED, len);
		return jv_drop(md, DD_DROP_SRC_BLOCKED);
	}
	if (dd_blocked(&dd_dst_block, ip->daddr, len)) {
		dd_count(DD_DST_BLOCKED, len);
		return jv_drop(md, DD_DROP_DST_BLOCKED);
	}
	if (c->interval_ns && !dd_conforms(ip->saddr, c)) {
		dd_count(DD_RATE_LIMITED, len);
		return jv_drop(md, DD_DROP_RATE_LIMITED);
	}
	dd_count(DD_PASSED, len);
	return jv_forward(md, in ^ 1);
}

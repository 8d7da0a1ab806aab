/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bridge: a learning Ethernet bridge (no STP).
 *
 * The FDB maps (vlan, mac) to (port, last seen). Learned entries live in an LRU hash of
 * BRIDGE_FDB_SIZE entries: when it is full, the least recently used entry goes first. Static
 * entries live in their own hash (fdb_static), which learning and aging never touch and which is
 * looked up first. Aging is enforced here: a learned entry older than the aging time is unknown
 * (its destination is flooded, the entry is deleted) until its MAC is seen again. Unknown unicast,
 * broadcast and multicast are flooded in the kernel with jv_flood(). VLANs are not implemented
 * yet: every frame is in VLAN 0.
 */
#include <jvisor/module.h>

#define BRIDGE_FDB_SIZE 4096
#define BRIDGE_STATIC_SIZE 1024
#define BRIDGE_DEFAULT_AGING_NS (300ull * 1000000000ull)

enum { BRIDGE_DROP_HAIRPIN = JV_DROP_USER, BRIDGE_DROP_RUNT = JV_DROP_USER + 1 };

struct fdb_key {
	__u8 mac[6];
	__u16 vlan;
};

struct fdb_entry {
	__u32 port;
	__u32 flags; /* reserved */
	__u64 seen_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) when the MAC was last seen */
};

struct bridge_cfg {
	__u64 aging_ns; /* 0: the default, 300 s */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BRIDGE_FDB_SIZE);
	__type(key, struct fdb_key);
	__type(value, struct fdb_entry);
} fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BRIDGE_STATIC_SIZE);
	__type(key, struct fdb_key);
	__type(value, struct fdb_entry);
} fdb_static SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bridge_cfg);
} bridge_cfg SEC(".maps");

static __always_inline void bridge_key(struct fdb_key *k, const __u8 *mac, __u16 vlan)
{
	__builtin_memcpy(k->mac, mac, 6);
	k->vlan = vlan;
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	struct ethhdr *eth = jv_eth(ctx);
	if (!eth)
		return jv_drop(md, BRIDGE_DROP_RUNT);
	__u16 vlan = 0;
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;
	struct bridge_cfg *cfg = bpf_map_lookup_elem(&bridge_cfg, &zero);
	__u64 aging = (cfg && cfg->aging_ns) ? cfg->aging_ns : BRIDGE_DEFAULT_AGING_NS;

	/* learn the source, unless it is a group address or a static entry */
	if (!jv_is_multicast(eth->h_source)) {
		struct fdb_key sk = {};
		bridge_key(&sk, eth->h_source, vlan);
		if (!bpf_map_lookup_elem(&fdb_static, &sk)) {
			struct fdb_entry *e = bpf_map_lookup_elem(&fdb, &sk);
			if (e) {
				if (e->port != md->in_port)
					e->port = md->in_port; /* the MAC moved */
				e->seen_ns = now;
			} else {
				struct fdb_entry ne = { .port = md->in_port, .flags = 0, .seen_ns = now };
				bpf_map_update_elem(&fdb, &sk, &ne, BPF_ANY);
			}
		}
	}

	if (jv_is_multicast(eth->h_dest)) /* broadcast too */
		return jv_flood(md);

	struct fdb_key dk = {};
	bridge_key(&dk, eth->h_dest, vlan);
	__u32 out;
	struct fdb_entry *s = bpf_map_lookup_elem(&fdb_static, &dk);
	if (s) {
		out = s->port;
	} else {
		struct fdb_entry *e = bpf_map_lookup_elem(&fdb, &dk);
		if (!e)
			return jv_flood(md);
		if ((__s64)(now - e->seen_ns) > (__s64)aging) { /* signed: a CPU may have just stored a later time */
			bpf_map_delete_elem(&fdb, &dk); /* aged out: unknown until seen again */
			return jv_flood(md);
		}
		out = e->port;
	}
	if (out == md->in_port)
		return jv_drop(md, BRIDGE_DROP_HAIRPIN); /* the destination is on the port it came from */
	return jv_forward(md, out);
}

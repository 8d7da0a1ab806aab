/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bridge: a learning Ethernet bridge (no STP).
 *
 * The FDB maps (vlan, mac) to (port, last seen). Learned entries live in an LRU hash of
 * BRIDGE_FDB_SIZE entries (the engine resizes it per instance from the fdb.max key): when it is
 * full, the least recently used entry goes first. Static
 * entries live in their own hash (fdb_static), which learning and aging never touch and which is
 * looked up first. Aging is enforced here: a learned entry older than the aging time is unknown
 * (its destination is flooded, the entry is deleted) until its MAC is seen again. Unknown unicast,
 * broadcast and multicast are flooded in the kernel with jv_flood(). With VLANs configured (tc
 * only), each port is an access or a trunk port, the FDB is per VLAN and floods stay in the VLAN.
 */
#include <jvisor/module.h>

#define BRIDGE_FDB_SIZE 4096
#define BRIDGE_STATIC_SIZE 1024
/*
 * The aging time before the control plane has written one: 300 s at the highest HZ Linux offers
 * (1000), so that an entry never ages earlier than the default says.
 */
#define BRIDGE_DEFAULT_AGING_TICKS (300ull * 1000ull)

enum {
	BRIDGE_DROP_HAIRPIN = JV_DROP_USER,
	BRIDGE_DROP_RUNT = JV_DROP_USER + 1,
	BRIDGE_DROP_VLAN = JV_DROP_USER + 2,   /* not allowed on the ingress port, or no VLAN */
	BRIDGE_DROP_NOT_MEMBER = JV_DROP_USER + 3, /* out port not in the VLAN, or no member port */
};

struct fdb_key {
	__u8 mac[6];
	__u16 vlan;
};

struct fdb_entry {
	__u32 port;
	__u32 flags; /* reserved */
	/*
	 * When the MAC was last seen, in kernel ticks: bpf_jiffies64(), which the verifier inlines into
	 * one load (a clock read costs 15-19 ns per frame). The control plane converts ticks to time
	 * with HZ and the current jiffies, which it measures once (Bridge.java); aging is in seconds.
	 */
	__u64 seen;
};

struct bridge_cfg {
	__u64 aging_ticks; /* the aging time in kernel ticks (jiffies); 0: BRIDGE_DEFAULT_AGING_TICKS */
	__u64 vlans;    /* non-zero: ports have VLAN modes (tc only) */
	__u64 statics;  /* non-zero: fdb_static may hold entries; zero skips its two lookups per frame */
};

enum { PORT_NONE = 0, PORT_ACCESS = 1, PORT_TRUNK = 2 };

/* A port's VLAN mode: access (untagged, in pvid) or trunk (allowed VLANs tagged, pvid untagged). */
struct port_vlan {
	__u32 mode;
	__u32 pvid;         /* access VLAN, or the trunk's native VLAN (0: none) */
	__u8 allowed[512];  /* trunk: bit v set when VLAN v is allowed */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, JV_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct port_vlan);
} port_vlans SEC(".maps");

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

/*
 * How a frame of VLAN vlan leaves port: -1 not at all (not a member, or not a device), 0 untagged,
 * 1 tagged.
 */
static __always_inline int vlan_egress(__u32 port, __u32 vlan)
{
	__u32 p = port & (JV_MAX_PORTS - 1);
	struct port_vlan *pv = bpf_map_lookup_elem(&port_vlans, &p);
	if (!pv)
		return -1;
	if (pv->mode == PORT_ACCESS)
		return pv->pvid == vlan ? 0 : -1;
	if (pv->mode == PORT_TRUNK) {
		if (vlan == pv->pvid)
			return 0;
		__u32 v = vlan & 4095;
		return (pv->allowed[v >> 3] >> (v & 7)) & 1 ? 1 : -1;
	}
	return -1;
}

/* Sends the frame (untagged in the skb) out of port in VLAN vlan; as jv_forward, or a drop. */
static __always_inline int vlan_out(struct __sk_buff *skb, struct jv_md *md, __u32 port, __u32 vlan)
{
	int how = vlan_egress(port, vlan);
	if (how < 0)
		return jv_drop(md, BRIDGE_DROP_NOT_MEMBER);
	if (how == 1)
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vlan);
	return jv_forward(md, port);
}

/* True when port is a member of vlan connected to a peer of this kind, other than the ingress port. */
static __always_inline int vlan_member(__u32 port, struct jv_md *md, __u32 vlan, __u32 kind)
{
	struct jv_peer *p = jv_peer_of(port);
	return jv_other_port(port, md->in_port) && p && p->kind == kind && vlan_egress(port, vlan) >= 0;
}

/*
 * Floods in VLAN vlan, as jv_flood() does without VLANs: a clone to every member device port but the
 * ingress port, and the frame itself to the first member port connected to another instance (a tail
 * call; an skb enters one instance only, so further instance ports are counted as
 * JV_DROP_FLOOD_LIMIT), or, when no instance port is a member, to the first member device port
 * instead of a clone. The loops carry no more than a flag from one iteration to the next and compare
 * ports through jv_other_port(), as the SDK's own flood does, to keep the verifier's work linear.
 */
static __always_inline int vlan_flood(struct __sk_buff *skb, struct jv_md *md, __u32 vlan)
{
	int to_instance = 0;
	for (__u32 port = 0; port < JV_MAX_PORTS; port++) {
		if (vlan_member(port, md, vlan, JV_PEER_INSTANCE)) {
			to_instance = 1;
			break;
		}
	}
	int placed = to_instance; /* the frame itself has a port */
	for (__u32 port = 0; port < JV_MAX_PORTS; port++) {
		struct jv_peer *p = jv_peer_of(port);
		if (!jv_other_port(port, md->in_port) || !p || p->kind != JV_PEER_DEVICE)
			continue;
		int how = vlan_egress(port, vlan);
		if (how < 0)
			continue;
		if (!placed) {
			placed = 1; /* the first member device port gets the frame itself, below */
			continue;
		}
		jv_count_tx(port, skb->len);
		if (how == 1) {
			bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vlan);
			bpf_clone_redirect(skb, p->target, 0);
			bpf_skb_vlan_pop(skb);
		} else {
			bpf_clone_redirect(skb, p->target, 0);
		}
	}
	if (!placed)
		return jv_drop(md, BRIDGE_DROP_NOT_MEMBER);
	__u32 kind = to_instance ? JV_PEER_INSTANCE : JV_PEER_DEVICE;
	__u32 first = JV_NO_PORT;
	for (__u32 port = 0; port < JV_MAX_PORTS; port++) {
		if (vlan_member(port, md, vlan, kind)) {
			first = port;
			break;
		}
	}
	if (first == JV_NO_PORT)
		return jv_drop(md, BRIDGE_DROP_NOT_MEMBER);
	if (to_instance) {
		for (__u32 port = first + 1; port < JV_MAX_PORTS; port++) {
			if (vlan_member(port, md, vlan, JV_PEER_INSTANCE))
				jv_count_drop(JV_DROP_FLOOD_LIMIT);
		}
	}
	return vlan_out(skb, md, first, vlan);
}

/* The frame's VLAN on ingress, with any tag removed; -1 when the port does not take it. */
static __always_inline int vlan_ingress(struct jv_ctx *ctx, struct jv_md *md)
{
	struct __sk_buff *skb = ctx->raw;
	__u32 p = md->in_port & (JV_MAX_PORTS - 1);
	struct port_vlan *pv = bpf_map_lookup_elem(&port_vlans, &p);
	if (!pv || pv->mode == PORT_NONE)
		return -1;
	__u32 mode = pv->mode, pvid = pv->pvid;
	int tagged = -1; /* the VID */
	/* an 802.1ad (S-VLAN) tag is a tag too: access ports and trunks drop it */
	if (skb->vlan_present) {
		if (skb->vlan_proto != bpf_htons(ETH_P_8021Q))
			return -1;
		tagged = skb->vlan_tci & 4095;
	} else {
		struct ethhdr *eth = jv_eth(ctx);
		if (!eth)
			return -1;
		if (eth->h_proto == bpf_htons(ETH_P_8021AD))
			return -1;
		if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
			__be16 *tci = jv_header_at(ctx, sizeof(struct ethhdr), 2);
			if (!tci)
				return -1;
			tagged = bpf_ntohs(*tci) & 4095;
		}
	}
	if (tagged < 0)
		return pvid ? (int)pvid : -1;
	if (mode != PORT_TRUNK || tagged == 0)
		return -1; /* access ports take untagged frames only; priority tags are not handled */
	__u32 v = tagged & 4095;
	if (!((pv->allowed[v >> 3] >> (v & 7)) & 1))
		return -1;
	if (bpf_skb_vlan_pop(skb))
		return -1;
	jv_ctx_reload(ctx);
	return (int)v;
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	struct ethhdr *eth = jv_eth(ctx);
	if (!eth)
		return jv_drop(md, BRIDGE_DROP_RUNT);
	__u16 vlan = 0;
	__u64 now = bpf_jiffies64();
	__u32 zero = 0;
	struct bridge_cfg *cfg = bpf_map_lookup_elem(&bridge_cfg, &zero);
	__u64 aging = (cfg && cfg->aging_ticks) ? cfg->aging_ticks : BRIDGE_DEFAULT_AGING_TICKS;
	int vlans = cfg && cfg->vlans && ctx->hook == JV_HOOK_TC;
	int statics = cfg && cfg->statics;
	if (vlans) {
		int v = vlan_ingress(ctx, md);
		if (v < 0)
			return jv_drop(md, BRIDGE_DROP_VLAN);
		vlan = (__u16)v;
		eth = jv_eth(ctx);
		if (!eth)
			return jv_drop(md, BRIDGE_DROP_RUNT);
	}

	/* learn the source, unless it is a group address or a static entry */
	if (!jv_is_multicast(eth->h_source)) {
		struct fdb_key sk = {};
		bridge_key(&sk, eth->h_source, vlan);
		if (!statics || !bpf_map_lookup_elem(&fdb_static, &sk)) {
			struct fdb_entry *e = bpf_map_lookup_elem(&fdb, &sk);
			if (e) {
				if (e->port != md->in_port)
					e->port = md->in_port; /* the MAC moved */
				/* jiffies move once a tick: most frames leave the entry's cache line clean */
				if (e->seen != now)
					e->seen = now;
			} else {
				struct fdb_entry ne = { .port = md->in_port, .flags = 0, .seen = now };
				bpf_map_update_elem(&fdb, &sk, &ne, BPF_ANY);
			}
		}
	}

	__u32 out = JV_NO_PORT; /* none: flood */
	if (!jv_is_multicast(eth->h_dest)) { /* group addresses (broadcast too) are flooded */
		struct fdb_key dk = {};
		bridge_key(&dk, eth->h_dest, vlan);
		struct fdb_entry *s = statics ? bpf_map_lookup_elem(&fdb_static, &dk) : NULL;
		if (s) {
			out = s->port;
		} else {
			struct fdb_entry *e = bpf_map_lookup_elem(&fdb, &dk);
			if (e) {
				/* signed: another CPU may have just stored a later time */
				if ((__s64)(now - e->seen) > (__s64)aging)
					bpf_map_delete_elem(&fdb, &dk); /* aged out: unknown until seen again */
				else
					out = e->port;
			}
		}
	}
	if (out == JV_NO_PORT)
		return vlans ? vlan_flood(ctx->raw, md, vlan) : jv_flood(md);
	if (out == md->in_port)
		return jv_drop(md, BRIDGE_DROP_HAIRPIN); /* the destination is on the port it came from */
	return vlans ? vlan_out(ctx->raw, md, out, vlan) : jv_forward(md, out);
}

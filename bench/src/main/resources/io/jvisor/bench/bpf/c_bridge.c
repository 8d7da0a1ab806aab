// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A minimal hand-written tc learning bridge: the peer the bridge cost benchmark compares jvisor's
 * bridge module with. Plain libbpf-style C, no jvisor header. Attached (or test-run) on every port
 * device; the port is the ingress device.
 *
 *   c_bridge        learns the source MAC -> ingress ifindex in an LRU hash (an update only when
 *                   the MAC is new or moved), looks up the destination: known -> bpf_redirect to
 *                   its device (dropped when it is the ingress device); unknown, broadcast or
 *                   multicast -> a clone to every other port device, then the original dropped.
 *   c_bridge_aging  the same with what jvisor's bridge also does per packet: a last-seen time
 *                   refreshed on every frame and checked on the destination (aging), and a static
 *                   table looked up first for the source and the destination.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define MAX_PORTS 32
#define FDB_SIZE 4096
#define AGING_NS (300ull * 1000000000ull)

struct mac_key {
	__u8 mac[6];
	__u16 pad;
};

struct fdb_val {
	__u32 ifindex;
	__u32 pad;
	__u64 seen_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FDB_SIZE);
	__type(key, struct mac_key);
	__type(value, struct fdb_val);
} c_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mac_key);
	__type(value, struct fdb_val);
} c_fdb_static SEC(".maps");

/* The port devices, for floods: ifindex per port, 0 when unused. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} c_ports SEC(".maps");

static __always_inline int flood(struct __sk_buff *skb, __u32 in)
{
	for (__u32 i = 0; i < MAX_PORTS; i++) {
		__u32 *ifindex = bpf_map_lookup_elem(&c_ports, &i);
		if (ifindex && *ifindex && *ifindex != in)
			bpf_clone_redirect(skb, *ifindex, 0);
	}
	return TC_ACT_SHOT;
}

SEC("tc")
int c_bridge(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return TC_ACT_SHOT;
	__u32 in = skb->ingress_ifindex;
	struct mac_key k = {};
	if (!(eth->h_source[0] & 1)) {
		__builtin_memcpy(k.mac, eth->h_source, 6);
		struct fdb_val *v = bpf_map_lookup_elem(&c_fdb, &k);
		if (!v || v->ifindex != in) {
			struct fdb_val nv = { .ifindex = in };
			bpf_map_update_elem(&c_fdb, &k, &nv, BPF_ANY);
		}
	}
	if (eth->h_dest[0] & 1)
		return flood(skb, in);
	__builtin_memcpy(k.mac, eth->h_dest, 6);
	struct fdb_val *d = bpf_map_lookup_elem(&c_fdb, &k);
	if (!d)
		return flood(skb, in);
	if (d->ifindex == in)
		return TC_ACT_SHOT;
	return bpf_redirect(d->ifindex, 0);
}

/*
 * The learning bridge with optional parts, each a load-time constant (the verifier prunes what is
 * off): a last-seen time from bpf_ktime_get_ns (use_time 1), bpf_ktime_get_coarse_ns (2) or
 * bpf_jiffies64 (3, with the aging bound still in ns: for cost only),
 * refreshed on every frame and checked on the destination; a static table looked up first
 * (use_static). The benchmark loads it as c_bridge_aging (both), and as one-part variants to show
 * where the time goes.
 */
const volatile __u32 use_time = 1;
const volatile __u32 use_static = 1;

static __always_inline __u64 now_ns(void)
{
	if (use_time == 3)
		return bpf_jiffies64();
	if (use_time == 2)
		return bpf_ktime_get_coarse_ns();
	if (use_time)
		return bpf_ktime_get_ns();
	return 0;
}

SEC("tc")
int c_bridge_aging(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return TC_ACT_SHOT;
	__u32 in = skb->ingress_ifindex;
	__u64 now = now_ns();
	struct mac_key k = {};
	if (!(eth->h_source[0] & 1)) {
		__builtin_memcpy(k.mac, eth->h_source, 6);
		if (!use_static || !bpf_map_lookup_elem(&c_fdb_static, &k)) {
			struct fdb_val *v = bpf_map_lookup_elem(&c_fdb, &k);
			if (v) {
				if (v->ifindex != in)
					v->ifindex = in;
				if (use_time)
					v->seen_ns = now;
			} else {
				struct fdb_val nv = { .ifindex = in, .seen_ns = now };
				bpf_map_update_elem(&c_fdb, &k, &nv, BPF_ANY);
			}
		}
	}
	if (eth->h_dest[0] & 1)
		return flood(skb, in);
	__builtin_memcpy(k.mac, eth->h_dest, 6);
	__u32 out = 0;
	struct fdb_val *s = use_static ? bpf_map_lookup_elem(&c_fdb_static, &k) : 0;
	if (s) {
		out = s->ifindex;
	} else {
		struct fdb_val *d = bpf_map_lookup_elem(&c_fdb, &k);
		if (d) {
			if (use_time && (__s64)(now - d->seen_ns) > (__s64)AGING_NS)
				bpf_map_delete_elem(&c_fdb, &k);
			else
				out = d->ifindex;
		}
	}
	if (!out)
		return flood(skb, in);
	if (out == in)
		return TC_ACT_SHOT;
	return bpf_redirect(out, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

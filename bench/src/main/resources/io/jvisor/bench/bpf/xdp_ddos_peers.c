/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The hand-written XDP programs the ddos module is measured against (DdosCapBench): what a user
 * writes without jvisor. No SDK, no metadata, no tail call: parse Ethernet and IPv4, look the
 * source and the destination up in two LPM tries, count and drop a hit, redirect the rest to a
 * load-time ifindex. The rate-limited variant adds the usual token bucket per source: a hash
 * entry guarded by a bpf_spin_lock, refilled from the elapsed time.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 target_ifindex = 0;
const volatile __u64 rate_pps = 1000000000ull;
const volatile __u64 burst = 1000000000ull;

struct lpm_key {
	__u32 prefixlen;
	__be32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} src_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} dst_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

struct bucket {
	struct bpf_spin_lock lock;
	__u64 tokens;
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __be32);
	__type(value, struct bucket);
} buckets SEC(".maps");

static __always_inline int drop(void)
{
	__u32 k = 0;
	__u64 *c = bpf_map_lookup_elem(&dropped, &k);
	if (c)
		(*c)++;
	return XDP_DROP;
}

static __always_inline struct iphdr *ipv4(struct xdp_md *x)
{
	void *data = (void *)(long)x->data, *end = (void *)(long)x->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return 0;
	return ip;
}

static __always_inline int blocked(struct iphdr *ip)
{
	struct lpm_key k = { .prefixlen = 32, .addr = ip->saddr };
	if (bpf_map_lookup_elem(&src_block, &k))
		return 1;
	k.addr = ip->daddr;
	return bpf_map_lookup_elem(&dst_block, &k) != 0;
}

SEC("xdp")
int xdp_nop(struct xdp_md *x)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_lpm_drop(struct xdp_md *x)
{
	struct iphdr *ip = ipv4(x);
	if (ip && blocked(ip))
		return drop();
	return bpf_redirect(target_ifindex, 0);
}

SEC("xdp")
int xdp_lpm_ratelimit(struct xdp_md *x)
{
	struct iphdr *ip = ipv4(x);
	if (!ip)
		return bpf_redirect(target_ifindex, 0);
	if (blocked(ip))
		return drop();
	__be32 src = ip->saddr;
	__u64 now = bpf_ktime_get_ns();
	struct bucket *b = bpf_map_lookup_elem(&buckets, &src);
	if (!b) {
		struct bucket fresh = { .tokens = burst - 1, .last_ns = now };
		bpf_map_update_elem(&buckets, &src, &fresh, BPF_NOEXIST);
		return bpf_redirect(target_ifindex, 0);
	}
	int ok = 0;
	bpf_spin_lock(&b->lock);
	__u64 add = (now - b->last_ns) * rate_pps / 1000000000ull;
	if (add) {
		b->tokens = b->tokens + add > burst ? burst : b->tokens + add;
		b->last_ns = now;
	}
	if (b->tokens) {
		b->tokens--;
		ok = 1;
	}
	bpf_spin_unlock(&b->lock);
	if (!ok)
		return drop();
	return bpf_redirect(target_ifindex, 0);
}

char _license[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The hand-written peer of the lb module's per-packet cost (LbCostBench): a minimal tc DNAT, what
 * a user writes without a framework. One hash lookup of (VIP, port, protocol) gives the backend's
 * address, port, MAC and device; the program rewrites the destination with the kernel's checksum
 * helpers and redirects. No Maglev, no connection table, no reverse path, no counters.
 *
 *   dnat  the DNAT
 *   nop   returns TC_ACT_REDIRECT and does nothing: the test-run harness's own cost
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct svc_key {
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct backend {
	__be32 addr;
	__be16 port;
	__u8 mac[6];
	__u32 ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct svc_key);
	__type(value, struct backend);
} services SEC(".maps");

SEC("tc")
int dnat(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl != 5 || (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP))
		return TC_ACT_OK;
	__be16 *ports = (void *)(ip + 1);
	if ((void *)(ports + 2) > end)
		return TC_ACT_OK;
	struct svc_key k = { .vip = ip->daddr, .port = ports[1], .proto = ip->protocol };
	struct backend *b = bpf_map_lookup_elem(&services, &k);
	if (!b)
		return TC_ACT_OK;
	__u32 csum_off = sizeof(*eth) + sizeof(*ip) + (ip->protocol == IPPROTO_TCP ? 16 : 6);
	__u64 flags = ip->protocol == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	__be32 old_a = ip->daddr;
	__be16 old_p = ports[1];
	ip->daddr = b->addr;
	ports[1] = b->port;
	__builtin_memcpy(eth->h_dest, b->mac, 6);
	__u32 ifindex = b->ifindex;
	__be32 new_a = b->addr;
	__be16 new_p = b->port;
	bpf_l3_csum_replace(skb, sizeof(*eth) + 10, old_a, new_a, 4);
	bpf_l4_csum_replace(skb, csum_off, old_a, new_a, 4 | BPF_F_PSEUDO_HDR | flags);
	bpf_l4_csum_replace(skb, csum_off, old_p, new_p, 2 | flags);
	return bpf_redirect(ifindex, 0);
}

SEC("tc")
int nop(struct __sk_buff *skb)
{
	return TC_ACT_REDIRECT;
}

char _license[] SEC("license") = "Dual BSD/GPL";

#include <jvisor/module.h>
/*
 * A transparent counter: what enters port 0 leaves port 1 and back, and the
 * IPv4 UDP packets of each direction are counted in udp_packets[in_port].
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} udp_packets SEC(".maps");

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	if (md->in_port > 1)
		return jv_drop(md, JV_DROP_USER);
	struct iphdr *ip = jv_ipv4(ctx);
	if (ip && ip->protocol == IPPROTO_UDP) {
		__u32 k = md->in_port;
		__u64 *c = bpf_map_lookup_elem(&udp_packets, &k);
		if (c)
			(*c)++;
	}
	return jv_forward(md, md->in_port ^ 1);
}

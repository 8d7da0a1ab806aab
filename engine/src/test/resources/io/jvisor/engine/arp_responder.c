#include <jvisor/module.h>
/* Sends ARP to the Java control plane (reason 1); drops everything else. */
static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	struct ethhdr *eth = jv_eth(ctx);
	if (eth && eth->h_proto == bpf_htons(ETH_P_ARP)) {
		jv_log("arp on port %u", md->in_port);
		return jv_controller(md, 1);
	}
	return jv_drop(md, JV_DROP_USER + 1);
}

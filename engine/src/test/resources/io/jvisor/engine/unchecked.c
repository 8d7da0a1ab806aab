#include <jvisor/module.h>
/* Reads the IP protocol without checking the packet's length: the verifier must refuse it. */
static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	struct iphdr *ip = ctx->data + sizeof(struct ethhdr);
	if (ip->protocol == IPPROTO_UDP)
		return jv_drop(md, JV_DROP_USER);
	return jv_forward(md, md->in_port ^ 1);
}

#include <jvisor/module.h>
/* An 8-port relay: whatever enters port N leaves port N+1 (mod 8). */
static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	if (md->in_port > 7)
		return jv_drop(md, JV_DROP_USER);
	return jv_forward(md, (md->in_port + 1) & 7);
}

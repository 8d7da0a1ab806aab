#include <jvisor/module.h>
/* A two-port forwarder: whatever enters port 0 leaves port 1, and back. */
static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	if (md->in_port > 1)
		return jv_drop(md, JV_DROP_USER);
	return jv_forward(md, md->in_port ^ 1);
}

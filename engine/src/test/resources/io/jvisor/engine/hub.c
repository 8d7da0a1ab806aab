#include <jvisor/module.h>
static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	return jv_flood(md);
}

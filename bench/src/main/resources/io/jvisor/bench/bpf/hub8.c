#include <jvisor/module.h>
/* An 8-port hub: every packet leaves by every other connected port (the engine tests' hub.c). */
static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	return jv_flood(md);
}

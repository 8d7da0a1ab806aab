/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * recorder: a test-only module for the differential tests. Every frame that reaches one of its
 * ports is written to rec_out as (port, VLAN tag the skb carries out of band, bytes) and dropped.
 * Its ports are wired to the ports of the module under test (directly, or through a veth pair),
 * so that each record says which port of that module sent the frame and what it looked like.
 */
#include <jvisor/module.h>

#define REC_SNAPLEN 1536

struct rec_frame {
	__u32 port;
	__u32 len;        /* bytes in data */
	__u32 vlan_present;
	__u32 vlan_proto; /* network order, as __sk_buff has it */
	__u32 vlan_tci;
	__u32 pad;
	__u8 data[REC_SNAPLEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} rec_out SEC(".maps");

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	if (ctx->hook != JV_HOOK_TC)
		return jv_drop(md, JV_DROP_USER);
	struct __sk_buff *skb = ctx->raw;
	struct rec_frame *r = bpf_ringbuf_reserve(&rec_out, sizeof(*r), 0);
	if (!r)
		return jv_drop(md, JV_DROP_USER + 1);
	__u64 len = skb->len; /* 64-bit, and the barriers below: see jv_tc_controller */
	if (len > REC_SNAPLEN)
		len = REC_SNAPLEN;
	r->port = md->in_port;
	r->vlan_present = skb->vlan_present;
	r->vlan_proto = skb->vlan_proto;
	r->vlan_tci = skb->vlan_tci;
	r->pad = 0;
	r->len = 0;
	barrier_var(len);
	if (len >= 1) {
		barrier_var(len);
		if (len <= REC_SNAPLEN && bpf_skb_load_bytes(skb, 0, r->data, len) == 0)
			r->len = len;
	}
	bpf_ringbuf_submit(r, 0);
	return jv_drop(md, JV_DROP_USER);
}

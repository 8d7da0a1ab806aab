// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The device entry of the jvisor engine. One copy is loaded per device
 * connection, with jv_slot set to the instance and jv_entry_port to its port.
 * It writes the packet's metadata and tail-calls into the instance through
 * the patch panel; jv_slot is a frozen constant, so the verifier sees the key
 * and the call is a direct jump. The same object defines the framework's
 * shared maps, which the engine creates from it, and the engine-wide programs
 * (enum jv_service), loaded once per engine and reached from every instance.
 */
#define JV_NO_ENTRY_POINTS
#include <jvisor/module.h>

const volatile __u32 jv_entry_port = 0;

SEC("tc")
int jv_entry_tc(struct __sk_buff *skb)
{
	jv_tc_store_md(skb, jv_entry_port, 1, 0);
	bpf_tail_call(skb, &jv_patch_tc, jv_slot);
	jv_count_missed(jv_slot);
	return TC_ACT_SHOT;
}

SEC("xdp")
int jv_entry_xdp(struct xdp_md *xdp)
{
	/*
	 * On the metadata-area channel, a frame can arrive with our metadata
	 * already in front of it: a repeated test run hands the same buffer back,
	 * and veth keeps the metadata of a frame that an instance redirected into
	 * it. Reuse it rather than grow the area past the kernel's 32-byte limit.
	 * On the scratch channel the verifier drops this branch (jv_xdp_md_channel
	 * is a frozen constant), so bpf_xdp_adjust_meta is never checked.
	 */
	if (jv_xdp_md_channel == JV_XDP_MD_META &&
	    (void *)(long)xdp->data_meta + sizeof(struct jv_md) != (void *)(long)xdp->data &&
	    bpf_xdp_adjust_meta(xdp, -(int)sizeof(struct jv_md))) {
		jv_count_drop(JV_DROP_NO_METADATA);
		return XDP_DROP;
	}
	struct jv_md *m = jv_xdp_md(xdp);
	if (!m) {
		jv_count_drop(JV_DROP_NO_METADATA);
		return XDP_DROP;
	}
	m->in_port = jv_entry_port;
	m->hops = 1;
	m->mark = 0;
	m->out_port = 0;
	m->reason = 0;
	bpf_tail_call(xdp, &jv_patch_xdp, jv_slot);
	jv_count_missed(jv_slot);
	return XDP_DROP;
}

/*
 * User-space transmissions into an instance port arrive here: the engine
 * sends them into its own veth pair with the target in the socket mark
 * (0x6a in the top byte, the slot in bits 8..23, the port in bits 0..7).
 * The mark travels across the pair because both ends share a namespace.
 */
SEC("tc")
int jv_reinject_tc(struct __sk_buff *skb)
{
	__u32 m = skb->mark;
	if ((m >> 24) != 0x6a)
		return TC_ACT_SHOT;
	__u32 slot = (m >> 8) & 0xffff;
	__u32 port = m & 0xff;
	skb->mark = 0;
	if (slot >= JV_MAX_SLOTS || port >= JV_MAX_PORTS)
		return TC_ACT_SHOT;
	jv_tc_store_md(skb, port, 1, 0);
	bpf_tail_call(skb, &jv_patch_tc, slot);
	return TC_ACT_SHOT;
}

/*
 * jv_flood() of every instance, in tc: the instance tail-calls here (jv_svc_tc[JV_SVC_FLOOD]) with
 * its slot in cb[3]. Its loops over the ports are verified once, here, instead of in every module
 * that floods; the tail call to the first instance port goes through the patch panel.
 */
SEC("tc")
int jv_flood_tc(struct __sk_buff *skb)
{
	__u32 slot = skb->cb[3];
	if (slot >= JV_MAX_SLOTS)
		return TC_ACT_SHOT;
	struct jv_md md = jv_tc_load_md(skb);
	return jv_tc_flood_of(skb, &md, slot);
}

/* jv_flood() of every instance, in XDP: as jv_flood_tc, the slot in the metadata's out_port. */
SEC("xdp")
int jv_flood_xdp(struct xdp_md *xdp)
{
	struct jv_md *m = jv_xdp_md(xdp);
	if (!m)
		return XDP_DROP;
	__u32 slot = m->out_port;
	if (slot >= JV_MAX_SLOTS)
		return XDP_DROP;
	struct jv_md md = jv_xdp_load_md(m);
	return jv_xdp_flood_of(xdp, &md, (__u32)(xdp->data_end - xdp->data), slot);
}

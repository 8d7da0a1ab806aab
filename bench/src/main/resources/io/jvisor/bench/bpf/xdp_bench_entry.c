/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A test-run stand-in for the engine's XDP entry program (DdosCostBench). BPF_PROG_TEST_RUN runs a
 * program `repeat` times on the same xdp_buff, so the engine's entry, which grows the metadata area
 * with bpf_xdp_adjust_meta() on every packet, fails from the second run on (the area is limited to
 * 32 bytes). This one grows it only when it is not there yet, then writes the same struct jv_md and
 * tail-calls into the instance's slot of the engine's own patch panel (the pinned jv_patch_xdp),
 * exactly like the real entry.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 slot = 0;
const volatile __u32 in_port = 0;

struct md {
	__u32 in_port;
	__u32 instance;
	__u32 mark;
	__u32 out_port;
	__u32 reason;
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} jv_patch_xdp SEC(".maps");

SEC("xdp")
int bench_entry(struct xdp_md *x)
{
	void *meta = (void *)(long)x->data_meta;
	void *data = (void *)(long)x->data;
	if (meta + sizeof(struct md) > data) {
		if (bpf_xdp_adjust_meta(x, -(int)sizeof(struct md)))
			return XDP_ABORTED;
		meta = (void *)(long)x->data_meta;
		data = (void *)(long)x->data;
		if (meta + sizeof(struct md) > data)
			return XDP_ABORTED;
	}
	struct md *m = meta;
	m->in_port = in_port;
	m->instance = slot;
	m->mark = 0;
	m->out_port = 0;
	m->reason = 0;
	bpf_tail_call(x, &jv_patch_xdp, slot);
	return XDP_ABORTED;
}

char _license[] SEC("license") = "Dual BSD/GPL";

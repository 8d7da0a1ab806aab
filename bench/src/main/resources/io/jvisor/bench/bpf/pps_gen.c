// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The router packet-rate benchmark's traffic generator: run with BPF_PROG_TEST_RUN and live frames
 * (BPF_F_TEST_XDP_LIVE_FRAMES), it sends every frame out of the context's ingress device with
 * XDP_TX.
 *
 * It writes the whole frame from a template first. The kernel recycles a live frame's page once
 * the frame is consumed, and a router rewrites the frame in that page (MAC addresses, TTL,
 * checksum): without the rewrite, the next frame sent from the page would carry the last hop's
 * header.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define FRAME_LEN 60

struct frame {
	__u8 bytes[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct frame);
} pps_frame SEC(".maps");

SEC("xdp")
int pps_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + FRAME_LEN > end)
		return XDP_ABORTED;
	__u32 zero = 0;
	struct frame *f = bpf_map_lookup_elem(&pps_frame, &zero);
	if (!f)
		return XDP_ABORTED;
	__builtin_memcpy(data, f->bytes, FRAME_LEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * capture: a transparent capture point between port 0 and port 1.
 *
 * Every frame is forwarded to the other port, captured or not. While a capture session is active
 * (cap_active[0] != 0, set by the Java CaptureSession), frames entering a selected port that match
 * the 5-tuple filter in cap_cfg are copied, cut to the snap length, into the cap_ring ring buffer
 * behind a struct cap_record header. The copy is made into a per-CPU scratch buffer first
 * (bpf_skb_load_bytes / bpf_xdp_load_bytes, which also read non-linear data: skb fragments and
 * XDP multi-buffer frags), then bpf_ringbuf_output() writes a record of exactly header + captured
 * bytes, so a 64-byte frame takes 88 bytes of ring, not the snap length.
 *
 * A record that does not fit in the ring is not silently lost: cap_stats counts it (CAP_LOST and
 * CAP_LOST_BYTES, per CPU), and the Java side reports it.
 */
#include <jvisor/module.h>

/* Largest snap length: the scratch buffer is one per-CPU value, and per-CPU values are at most 32 KiB. */
#define CAP_MAX_SNAPLEN 32704

/* cap_cfg.flags: which filter fields are set */
#define CAP_F_PROTO (1u << 0)
#define CAP_F_SRC (1u << 1)
#define CAP_F_DST (1u << 2)
#define CAP_F_SPORT (1u << 3)
#define CAP_F_DPORT (1u << 4)
#define CAP_F_BOTH_WAYS (1u << 5) /* also match with source and destination swapped */
#define CAP_F_IPV4_ONLY (CAP_F_PROTO | CAP_F_SRC | CAP_F_DST | CAP_F_SPORT | CAP_F_DPORT)

/* cap_stats indexes */
enum {
	CAP_SEEN = 0,       /* frames that entered a selected port while a session was active */
	CAP_MATCHED = 1,    /* of those, frames the filter matched */
	CAP_CAPTURED = 2,   /* records written to the ring */
	CAP_LOST = 3,       /* matched frames whose record did not fit in the ring */
	CAP_LOST_BYTES = 4, /* the wire bytes of those */
	CAP_ERRORS = 5,     /* matched frames whose bytes could not be read */
	CAP_NSTATS = 6,
};

struct cap_config {
	__u32 flags;
	__u32 snaplen;   /* 1 .. CAP_MAX_SNAPLEN */
	__u32 ports;     /* bit N: capture frames entering port N */
	__u8 proto;
	__u8 pad[3];
	__be32 src;      /* network byte order, already masked */
	__be32 src_mask;
	__be32 dst;
	__be32 dst_mask;
	__be16 sport;
	__be16 dport;
};

/* The header of every ring record; the captured bytes follow it. */
struct cap_record {
	__u64 ts_ns;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 wire_len;  /* the frame's full length */
	__u32 cap_len;   /* bytes that follow */
	__u32 in_port;   /* the port it entered on (it leaves by the other one) */
	__u32 hook;      /* enum jv_hook */
};

struct cap_scratch {
	struct cap_record hdr;
	__u8 data[CAP_MAX_SNAPLEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_config);
} cap_cfg SEC(".maps");

/* [0]: non-zero while a session is active (the session's process id) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cap_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CAP_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} cap_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_scratch);
} cap_scratch SEC(".maps");

/*
 * 8 MiB by default: about 90 k records of a 64-byte frame, or 5 k full 1500-byte frames. The engine
 * sets each instance's size from ring.size (CaptureModule.mapSizes).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} cap_ring SEC(".maps");

static __always_inline void cap_count(__u32 index, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&cap_stats, &index);
	if (c)
		*c += n;
}

static __always_inline int cap_match_one(const struct cap_config *c, __u8 proto, __be32 s, __be32 d, __be16 sp,
					 __be16 dp)
{
	if ((c->flags & CAP_F_PROTO) && proto != c->proto)
		return 0;
	if ((c->flags & CAP_F_SRC) && (s & c->src_mask) != c->src)
		return 0;
	if ((c->flags & CAP_F_DST) && (d & c->dst_mask) != c->dst)
		return 0;
	if ((c->flags & CAP_F_SPORT) && sp != c->sport)
		return 0;
	if ((c->flags & CAP_F_DPORT) && dp != c->dport)
		return 0;
	return 1;
}

/* IPv4 5-tuple match; frames that are not IPv4 match only an empty filter. */
static __always_inline int cap_match(struct jv_ctx *ctx, const struct cap_config *c)
{
	if (!(c->flags & CAP_F_IPV4_ONLY))
		return 1;
	struct iphdr *ip = jv_ipv4(ctx);
	if (!ip)
		return 0;
	__be16 sp = 0, dp = 0;
	int has_ports = 0;
	/* ports only in the first fragment; later fragments match no port filter */
	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP || ip->protocol == IPPROTO_SCTP) &&
	    !(ip->frag_off & bpf_htons(0x1fff))) {
		__be16 *ports = jv_l4(ctx, ip, 4);
		if (ports) {
			sp = ports[0];
			dp = ports[1];
			has_ports = 1;
		}
	}
	if ((c->flags & (CAP_F_SPORT | CAP_F_DPORT)) && !has_ports)
		return 0;
	if (cap_match_one(c, ip->protocol, ip->saddr, ip->daddr, sp, dp))
		return 1;
	return (c->flags & CAP_F_BOTH_WAYS) && cap_match_one(c, ip->protocol, ip->daddr, ip->saddr, dp, sp);
}

static __always_inline void cap_capture(struct jv_ctx *ctx, struct jv_md *md, const struct cap_config *c)
{
	__u32 zero = 0;
	struct cap_scratch *s = bpf_map_lookup_elem(&cap_scratch, &zero);
	if (!s)
		return;
	__u32 wire;
	if (ctx->hook == JV_HOOK_TC)
		wire = ((struct __sk_buff *)ctx->raw)->len;
	else
		wire = bpf_xdp_get_buff_len(ctx->raw); /* linear part plus multi-buffer frags */
	/* 64-bit, and barriers, so that the verifier sees both bounds on the register the helper gets */
	__u64 len = wire;
	__u64 snap = c->snaplen;
	if (len > snap)
		len = snap;
	barrier_var(len);
	if (len < 1 || len > CAP_MAX_SNAPLEN) {
		cap_count(CAP_ERRORS, 1);
		return;
	}
	long err;
	barrier_var(len);
	if (ctx->hook == JV_HOOK_TC)
		err = bpf_skb_load_bytes(ctx->raw, 0, s->data, len);
	else
		err = bpf_xdp_load_bytes(ctx->raw, 0, s->data, len);
	if (err) {
		cap_count(CAP_ERRORS, 1);
		return;
	}
	s->hdr.ts_ns = bpf_ktime_get_ns();
	s->hdr.wire_len = wire;
	s->hdr.cap_len = len;
	s->hdr.in_port = md->in_port;
	s->hdr.hook = ctx->hook;
	if (bpf_ringbuf_output(&cap_ring, s, sizeof(struct cap_record) + len, 0)) {
		cap_count(CAP_LOST, 1);
		cap_count(CAP_LOST_BYTES, wire);
		return;
	}
	cap_count(CAP_CAPTURED, 1);
}

static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
{
	__u32 in = md->in_port;
	if (in > 1)
		return jv_drop(md, JV_DROP_BAD_PORT);
	__u32 zero = 0;
	__u32 *active = bpf_map_lookup_elem(&cap_active, &zero);
	if (active && *active) {
		struct cap_config *c = bpf_map_lookup_elem(&cap_cfg, &zero);
		if (c && (c->ports & (1u << in))) {
			cap_count(CAP_SEEN, 1);
			if (cap_match(ctx, c)) {
				cap_count(CAP_MATCHED, 1);
				cap_capture(ctx, md, c);
			}
		}
	}
	return jv_forward(md, in ^ 1);
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The hand-written tc programs the engine benchmarks compare jvisor with: what a user writes
 * without a framework. Plain libbpf-style C, no jvisor header.
 *
 *   fwd          a two-port forwarder: its ingress port is a load-time constant; it looks up the
 *                other port's peer device in an array and redirects there.
 *   fwd_counted  the same, plus per-CPU rx/tx packet and byte counters per port, as the jvisor
 *                framework keeps them.
 *   stage        one stage of a hand-written tail-call pipeline: jumps to the next stage, whose
 *                index is a load-time constant (the JIT patches a direct jump).
 *   stage_dyn    the same with the next index read from a map at run time (an indirect jump, as
 *                a chain wired through one shared table indexed at run time does).
 *   stage_switch a stage that picks its out port at run time (cb[0] ^ 1, as the SDK forwarder
 *                does) and tail-calls through its own per-port program array with a constant key
 *                per port (bpf_tail_call_static in a switch): rewiring stays a map update, but
 *                every jump is direct.
 *   stage_switch_counted  the same with per-CPU rx/tx packet and byte counters for its two ports,
 *                as the jvisor framework keeps them (the chain's last stage is then fwd_counted).
 *   nop          returns TC_ACT_REDIRECT and does nothing: the test-run harness's own cost.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define MAX_PORTS 64
#define MAX_STAGES 64

struct peer {
	__u32 ifindex;
	__u32 flags;
};

struct port_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u32);
	__type(value, struct peer);
} peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u32);
	__type(value, struct port_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, MAX_STAGES);
	__type(key, __u32);
	__type(value, __u32);
} stages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_STAGES);
	__type(key, __u32);
	__type(value, __u32);
} next_of SEC(".maps");

/* stage_switch: this stage's own next hop per out port (each loaded copy gets its own map) */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} out_ports SEC(".maps");

const volatile __u32 in_port = 0;    /* fwd, fwd_counted: the port this program serves */
const volatile __u32 next_stage = 0; /* stage: the index of the next stage */
const volatile __u32 my_stage = 0;   /* stage_dyn: this stage's own index; stage_switch_counted: its
				      * counters are stats[2 * my_stage] and stats[2 * my_stage + 1] */

SEC("tc")
int fwd(struct __sk_buff *skb)
{
	__u32 key = in_port ^ 1;
	struct peer *p = bpf_map_lookup_elem(&peers, &key);
	if (!p || !p->ifindex)
		return TC_ACT_SHOT;
	return bpf_redirect(p->ifindex, 0);
}

SEC("tc")
int fwd_counted(struct __sk_buff *skb)
{
	__u32 in = in_port;
	__u32 out = in ^ 1;
	struct port_stats *s = bpf_map_lookup_elem(&stats, &in);
	if (s) {
		s->rx_packets++;
		s->rx_bytes += skb->len;
	}
	struct peer *p = bpf_map_lookup_elem(&peers, &out);
	if (!p || !p->ifindex)
		return TC_ACT_SHOT;
	s = bpf_map_lookup_elem(&stats, &out);
	if (s) {
		s->tx_packets++;
		s->tx_bytes += skb->len;
	}
	return bpf_redirect(p->ifindex, 0);
}

SEC("tc")
int stage(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &stages, next_stage);
	return TC_ACT_SHOT;
}

SEC("tc")
int stage_dyn(struct __sk_buff *skb)
{
	__u32 key = my_stage;
	__u32 *next = bpf_map_lookup_elem(&next_of, &key);
	if (!next)
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &stages, *next);
	return TC_ACT_SHOT;
}

SEC("tc")
int stage_switch(struct __sk_buff *skb)
{
	__u32 out = skb->cb[0] ^ 1;
	skb->cb[0] = 0; /* the next stage's in port */
	switch (out) {
	case 0: bpf_tail_call_static(skb, &out_ports, 0); break;
	case 1: bpf_tail_call_static(skb, &out_ports, 1); break;
	case 2: bpf_tail_call_static(skb, &out_ports, 2); break;
	case 3: bpf_tail_call_static(skb, &out_ports, 3); break;
	case 4: bpf_tail_call_static(skb, &out_ports, 4); break;
	case 5: bpf_tail_call_static(skb, &out_ports, 5); break;
	case 6: bpf_tail_call_static(skb, &out_ports, 6); break;
	case 7: bpf_tail_call_static(skb, &out_ports, 7); break;
	}
	return TC_ACT_SHOT;
}

static __always_inline void count(__u32 key, __u32 len, int tx)
{
	struct port_stats *s = bpf_map_lookup_elem(&stats, &key);
	if (!s)
		return;
	if (tx) {
		s->tx_packets++;
		s->tx_bytes += len;
	} else {
		s->rx_packets++;
		s->rx_bytes += len;
	}
}

SEC("tc")
int stage_switch_counted(struct __sk_buff *skb)
{
	__u32 in = skb->cb[0];
	__u32 out = in ^ 1;
	count(2 * my_stage + (in & 1), skb->len, 0);
	count(2 * my_stage + (out & 1), skb->len, 1);
	skb->cb[0] = 0;
	switch (out) {
	case 0: bpf_tail_call_static(skb, &out_ports, 0); break;
	case 1: bpf_tail_call_static(skb, &out_ports, 1); break;
	case 2: bpf_tail_call_static(skb, &out_ports, 2); break;
	case 3: bpf_tail_call_static(skb, &out_ports, 3); break;
	case 4: bpf_tail_call_static(skb, &out_ports, 4); break;
	case 5: bpf_tail_call_static(skb, &out_ports, 5); break;
	case 6: bpf_tail_call_static(skb, &out_ports, 6); break;
	case 7: bpf_tail_call_static(skb, &out_ports, 7); break;
	}
	return TC_ACT_SHOT;
}

SEC("tc")
int nop(struct __sk_buff *skb)
{
	return TC_ACT_REDIRECT;
}

char _license[] SEC("license") = "Dual BSD/GPL";

// The section conventions bpftool 7.1 (libbpf 1.1) also knows, for the xlated comparison.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&hits, &slot);
    if (v)
        __sync_fetch_and_add(v, 1);
}

SEC("socket")
int sock_all(struct __sk_buff *skb)
{
    hit(0);
    return skb->len;
}

SEC("classifier")
int cls_ok(struct __sk_buff *skb)
{
    hit(1);
    return TC_ACT_OK;
}

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
    hit(3);
    return 0;
}

SEC("tp_btf/sched_switch")
int btf_switch(__u64 *ctx)
{
    hit(4);
    return 0;
}

SEC("syscall")
int sys_prog(void *ctx)
{
    hit(5);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";

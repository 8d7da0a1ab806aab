// tc: two classifier programs in one object, sharing an array map (legacy tc and tcx sections).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} seen SEC(".maps");

static __always_inline void count(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&seen, &slot);
    if (v)
        __sync_fetch_and_add(v, 1);
}

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
    count(0);
    skb->mark = 0x2a;
    return TC_ACT_OK;
}

SEC("tcx/ingress")
int tcx_drop_small(struct __sk_buff *skb)
{
    count(1);
    return skb->len < 60 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

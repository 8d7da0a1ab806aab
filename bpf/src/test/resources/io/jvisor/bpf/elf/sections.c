// One program per libbpf section convention that jvisor maps to a program type.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* A legacy map definition, as in objects written before BTF maps. */
struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hits = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 8,
};

static __always_inline void hit(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&legacy_hits, &slot);
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

SEC("tcx/egress")
int tcx_out(struct __sk_buff *skb)
{
    hit(2);
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

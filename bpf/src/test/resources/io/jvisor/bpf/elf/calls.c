// bpf-to-bpf calls: static and global sub-programs in .text, nested, shared by two programs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} results SEC(".maps");

static __noinline __u64 square(__u64 x)
{
    return x * x;
}

static __noinline __u64 sum_of_squares(__u64 a, __u64 b)
{
    return square(a) + square(b);
}

__noinline int store(__u32 slot, __u64 value)
{
    __u64 *v = bpf_map_lookup_elem(&results, &slot);
    if (!v)
        return 0;
    *v = value;
    return 1;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
    __u64 len = ctx->data_end - ctx->data;
    store(0, sum_of_squares(len, 3));
    return XDP_PASS;
}

SEC("xdp")
int xdp_square(struct xdp_md *ctx)
{
    store(1, square(ctx->data_end - ctx->data));
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

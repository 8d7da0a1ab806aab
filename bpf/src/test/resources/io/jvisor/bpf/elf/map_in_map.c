// Map-in-map: an array of arrays; the program reads a value through the outer map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps");

SEC("xdp")
int xdp_inner(struct xdp_md *ctx)
{
    __u32 zero = 0, slot = 2;
    void *inner = bpf_map_lookup_elem(&outer, &slot);
    if (!inner)
        return XDP_ABORTED;
    __u32 *v = bpf_map_lookup_elem(inner, &zero);
    return v ? *v : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// bpf_loop with a callback in .text: clang loads the callback's address with an lddw that has src 0
// and a relocation against .text; the loader must mark it BPF_PSEUDO_FUNC, as libbpf does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sum {
    __u64 total;
};

static long add(__u32 i, void *data)
{
    struct sum *s = data;
    s->total += i + 1;
    return 0;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
    struct sum s = { .total = 0 };
    bpf_loop(10, add, &s, 0);
    return s.total == 55 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";

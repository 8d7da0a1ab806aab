// Global data: .rodata constants chosen before load, .data and .bss written by the program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 verdict = XDP_PASS;
const volatile __u64 magic = 0x1122334455667788ULL;
__u32 runs = 0;
__u64 last_len = 7;
char tag[8] = "jvisor";

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
    runs++;
    last_len = ctx->data_end - ctx->data;
    if (magic != 0x1122334455667788ULL)
        tag[0] = 'J';
    return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

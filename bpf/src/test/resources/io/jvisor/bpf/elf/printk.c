// String literals: bpf_printk's format goes to .rodata.str1.1 (or .rodata), a read-only data map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static const char greeting[] = "hello from jvisor";

SEC("xdp")
int xdp_printk(struct xdp_md *ctx)
{
    __u32 len = ctx->data_end - ctx->data;
    bpf_printk("packet of %u bytes", len);
    return len > sizeof(greeting) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

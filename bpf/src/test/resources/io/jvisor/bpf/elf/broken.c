// Deliberately broken: reads the IP header without checking the packet's length.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_broken(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    struct iphdr *ip = data + sizeof(struct ethhdr);
    if (ip->ihl > 5)
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

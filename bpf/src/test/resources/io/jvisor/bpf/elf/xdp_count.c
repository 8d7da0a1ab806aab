// XDP: counts packets per EtherType in a BTF hash map, drops IPv6.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counter {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u16);
    __type(value, struct counter);
} by_proto SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_ABORTED;
    __u16 proto = bpf_ntohs(eth->h_proto);
    struct counter *c = bpf_map_lookup_elem(&by_proto, &proto);
    if (c) {
        __sync_fetch_and_add(&c->packets, 1);
        __sync_fetch_and_add(&c->bytes, data_end - data);
    } else {
        struct counter init = { .packets = 1, .bytes = data_end - data };
        bpf_map_update_elem(&by_proto, &proto, &init, BPF_NOEXIST);
    }
    return proto == ETH_P_IPV6 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

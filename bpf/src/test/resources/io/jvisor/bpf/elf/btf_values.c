// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Maps whose key and value types exercise BtfValues: addresses, MACs, names, enums, bit-fields,
// anonymous unions, nested arrays. The program only keeps the maps referenced.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

enum verdict { V_PASS = 0, V_DROP = 1, V_REDIRECT = 7 };

struct flow_key {
    __be32 saddr;
    __be32 daddr;
    __be16 sport;
    __be16 dport;
    __u8 proto;
    __u8 pad[3];
};

struct flow_value {
    __u8 mac[6];
    __u16 vlan;
    char name[8];
    enum verdict verdict;
    __u32 prio : 4;
    __u32 flags : 12;
    __s32 delta : 16;
    union {
        __u32 port;
        __u32 ifindex;
    };
    __s64 balance;
    __u64 counters[3];
    _Bool active;
    __u8 blob[20];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, struct flow_key);
    __type(value, struct flow_value);
} flows SEC(".maps");

union addr {
    __be32 v4;
    __u8 bytes[4];
    __u16 halves[2];
};

struct tagged {
    __u32 tag;
    union addr addr;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct tagged);
} tags SEC(".maps");

SEC("xdp")
int btf_values(struct xdp_md *ctx)
{
    struct flow_key k = {};
    struct flow_value *v = bpf_map_lookup_elem(&flows, &k);
    __u32 zero = 0;
    struct tagged *t = bpf_map_lookup_elem(&tags, &zero);
    if (t && t->tag == 7)
        return XDP_TX;
    return v && v->active ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

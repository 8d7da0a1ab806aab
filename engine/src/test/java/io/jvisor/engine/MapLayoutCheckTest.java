package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.toolchain.Clang;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Map layouts across a swap ({@link MapLayoutCheck}) on objects clang compiles from two versions of
 * a tiny module, and entry conversion ({@link MapMigration#convertAll}); no kernel.
 */
class MapLayoutCheckTest {
    private static Clang clang;

    @BeforeAll
    static void findClang() throws Exception {
        clang = Clang.find();
    }

    /** A module with one hash map jv_fib of {@code key} to {@code value}, given the types' definitions. */
    private static CollectionSpec module(String types, String key, String value, String extra) {
        String src = """
                // SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                %s
                struct {
                	__uint(type, BPF_MAP_TYPE_HASH);
                	__uint(max_entries, 16);
                	__type(key, %s);
                	__type(value, %s);
                } jv_fib SEC(".maps");
                %s
                SEC("tc")
                int prog(struct __sk_buff *skb)
                {
                	__u32 k = 0;
                	return bpf_map_lookup_elem(&jv_fib, &k) ? 1 : 0;
                }
                char _license[] SEC("license") = "Dual BSD/GPL";
                """.formatted(types, key, value, extra);
        try {
            return ObjectFile.read(clang.compileString(src, "layout.c", List.of()).object());
        } catch (io.jvisor.bpf.toolchain.CompileException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private static CollectionSpec value(String structBody) {
        return module("struct fib {" + structBody + "};", "__u32", "struct fib", "");
    }

    private static Optional<String> diff(CollectionSpec a, CollectionSpec b) {
        return MapLayoutCheck.difference("jv_fib", a, b);
    }

    private static final String FIB = "__u32 prefix; __u32 ifindex; __u8 mac[6]; __u16 flags;";

    @Test
    void theSameLayoutHasNoDifference() {
        assertThat(diff(value(FIB), value(FIB))).isEmpty();
        // other code, the same map
        CollectionSpec other = module("struct fib {" + FIB + "};", "__u32", "struct fib",
                "static volatile int unrelated;");
        assertThat(diff(value(FIB), other)).isEmpty();
    }

    @Test
    void typeNamesDoNotMatterOnlyBytes() {
        CollectionSpec renamed = module("typedef unsigned int u32; struct fib_v2 { u32 prefix; __u32 ifindex; "
                + "unsigned char mac[6]; __u16 flags; };", "u32", "struct fib_v2", "");
        assertThat(diff(value(FIB), renamed)).isEmpty();
    }

    @Test
    void reorderedMembersAreNamedAtTheFirstOffsetThatDiffers() {
        assertThat(diff(value("__u32 a; __u16 b; __u16 c;"), value("__u32 a; __u16 c; __u16 b;")))
                .hasValue("map 'jv_fib': value member 'b' (__u16) at offset 4 became 'c' (__u16)");
    }

    @Test
    void aRenamedMemberIsADifference() {
        assertThat(diff(value(FIB), value("__u32 prefix; __u32 port; __u8 mac[6]; __u16 flags;")))
                .hasValue("map 'jv_fib': value member 'ifindex' (__u32) at offset 4 became 'port' (__u32)");
    }

    @Test
    void aChangedTypeOfTheSameSizeIsADifference() {
        assertThat(diff(value(FIB), value("__u32 prefix; __s32 ifindex; __u8 mac[6]; __u16 flags;")))
                .hasValue("map 'jv_fib': value member 'ifindex' at offset 4 was __u32, became __s32");
        assertThat(diff(value(FIB), value("__u32 prefix; float ifindex; __u8 mac[6]; __u16 flags;")))
                .hasValue("map 'jv_fib': value member 'ifindex' at offset 4 was __u32, became float");
        assertThat(diff(value(FIB), value("__u32 prefix; __u32 ifindex; __u16 mac[3]; __u16 flags;")))
                .hasValue("map 'jv_fib': value member 'mac' at offset 8 was __u8[6], became __u16[3]");
    }

    @Test
    void nestedMembersAreNamedByTheirPath() {
        String types = "struct nh { __u32 ifindex; __u8 mac[6]; }; struct fib { __u32 prefix; struct nh nh; };";
        String renamed = "struct nh { __u32 port; __u8 mac[6]; }; struct fib { __u32 prefix; struct nh nh; };";
        assertThat(diff(module(types, "__u32", "struct fib", ""), module(renamed, "__u32", "struct fib", "")))
                .hasValue("map 'jv_fib': value member 'nh.ifindex' (__u32) at offset 4 became 'nh.port' (__u32)");
    }

    @Test
    void membersOfAnonymousUnionsAreNamedAsInC() {
        String types = "struct peer { __u32 kind; union { struct { __u32 port; __u32 flags; }; __u8 mac[8]; }; };";
        String changed = "struct peer { __u32 kind; union { struct { __u32 port; __s32 flags; }; __u8 mac[8]; }; };";
        assertThat(diff(module(types, "__u32", "struct peer", ""), module(changed, "__u32", "struct peer", "")))
                .hasValue("map 'jv_fib': value member 'flags' at offset 8 was __u32, became __s32");
    }

    @Test
    void aMemberAddedInThePaddingIsNew() {
        assertThat(diff(value("__u32 a; __u8 b;"), value("__u32 a; __u8 b; __u8 c;")))
                .hasValue("map 'jv_fib': value member 'c' (__u8) at offset 5 is new");
        assertThat(diff(value("__u32 a; __u8 b; __u8 c;"), value("__u32 a; __u8 b;")))
                .hasValue("map 'jv_fib': value member 'c' (__u8) at offset 5 is gone");
    }

    @Test
    void theKeyIsComparedToo() {
        CollectionSpec a = module("struct k { __u32 addr; __u16 port; __u16 proto; };", "struct k", "__u64", "");
        CollectionSpec b = module("struct k { __u32 addr; __u16 proto; __u16 port; };", "struct k", "__u64", "");
        assertThat(diff(a, b)).hasValue("map 'jv_fib': key member 'port' (__u16) at offset 4 became 'proto' (__u16)");
        CollectionSpec wider = module("struct k { __u32 addr; __u16 port; __u16 proto; };", "struct k", "struct k", "");
        assertThat(diff(a, wider)).hasValue("map 'jv_fib': value was __u64, became struct k");
    }

    @Test
    void globalDataIsComparedVariableByVariable() {
        CollectionSpec a = module("", "__u32", "__u64", "__u64 hits; __u64 misses;");
        CollectionSpec b = module("", "__u32", "__u64", "__u64 packets; __u64 misses;");
        assertThat(MapLayoutCheck.difference(".bss", a, a)).isEmpty();
        assertThat(MapLayoutCheck.difference(".bss", a, b))
                .hasValue("map '.bss': value variable 'hits' (__u64) at offset 0 became 'packets' (__u64)");
    }

    @Test
    void mapsWithoutBtfTypesAreComparedBySize() {
        String untyped = """
                struct {
                	__uint(type, BPF_MAP_TYPE_ARRAY);
                	__uint(max_entries, 4);
                	__uint(key_size, 4);
                	__uint(value_size, %d);
                } raw SEC(".maps");
                """;
        String typed = """
                struct {
                	__uint(type, BPF_MAP_TYPE_ARRAY);
                	__uint(max_entries, 4);
                	__uint(key_size, 4);
                	__type(value, __u64);
                } raw SEC(".maps");
                """;
        CollectionSpec eight = module("", "__u32", "__u32", untyped.formatted(8));
        CollectionSpec sixteen = module("", "__u32", "__u32", untyped.formatted(16));
        CollectionSpec withType = module("", "__u32", "__u32", typed);
        assertThat(MapLayoutCheck.difference("raw", eight, eight)).isEmpty();
        assertThat(MapLayoutCheck.difference("raw", eight, sixteen)).hasValue("map 'raw': value is 16 bytes, was 8");
        assertThat(MapLayoutCheck.difference("raw", eight, withType)).hasValue("map 'raw': value: the new code gives "
                + "its type in BTF and the old one does not, so the layouts cannot be compared");
    }

    @Test
    void aMigrationConvertsEveryEntryAndChecksItsSize() {
        // old value {u32 prefix; u32 ifindex}, new value {u32 ifindex; u32 prefix; u32 metric}
        MapMigration.Convert swapAndExtend = (MapMigration.Convert) MapMigration.convert(old -> {
            ByteBuffer in = ByteBuffer.wrap(old.value()).order(ByteOrder.LITTLE_ENDIAN);
            if (in.getInt(0) == 0) {
                return Optional.empty(); // the default route goes
            }
            byte[] v = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(in.getInt(4)).putInt(in.getInt(0))
                    .putInt(10).array();
            return Optional.of(new BpfMap.Entry(old.key(), v));
        });
        List<BpfMap.Entry> old = List.of(entry(1, 0x0a000000, 7), entry(2, 0, 3), entry(3, 0x0b000000, 9));
        List<BpfMap.Entry> converted = MapMigration.convertAll("jv_fib", swapAndExtend, old, 4, 12);
        assertThat(converted).hasSize(2);
        ByteBuffer first = ByteBuffer.wrap(converted.getFirst().value()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new int[] {first.getInt(0), first.getInt(4), first.getInt(8)}).containsExactly(7, 0x0a000000, 10);

        assertThatThrownBy(() -> MapMigration.convertAll("jv_fib", swapAndExtend, old, 4, 16))
                .isInstanceOf(TopologyException.class)
                .hasMessage("map 'jv_fib' entry 0: its migration made a key of 4 bytes and a value of 12, not 4 and 16");
        MapMigration.Convert broken = new MapMigration.Convert(e -> {
            throw new IllegalStateException("no such prefix");
        });
        assertThatThrownBy(() -> MapMigration.convertAll("jv_fib", broken, old, 4, 12))
                .isInstanceOf(TopologyException.class).hasMessage("map 'jv_fib' entry 0: its migration failed: no such prefix");
    }

    private static BpfMap.Entry entry(int key, int prefix, int ifindex) {
        return new BpfMap.Entry(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(key).array(),
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(prefix).putInt(ifindex).array());
    }
}

package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A map carried over a live swap must keep its BTF key and value layout: a same-size layout change
 * is refused by name, unless a {@link MapMigration} is given for the map.
 */
@RequiresRoot
class SafeSwapTest {
    static String source(String valueStruct) {
        return """
                #include <jvisor/module.h>
                struct pair { %s };
                struct {
                    __uint(type, BPF_MAP_TYPE_HASH);
                    __uint(max_entries, 16);
                    __type(key, __u32);
                    __type(value, struct pair);
                } pairs SEC(".maps");
                static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
                {
                    __u32 k = md->in_port;
                    struct pair *p = bpf_map_lookup_elem(&pairs, &k);
                    if (p)
                        md->mark = 1;
                    return jv_forward(md, md->in_port == 0 ? 1 : 0);
                }
                """.formatted(valueStruct);
    }

    static final String AB = source("__u32 a; __u32 b;");
    static final String BA = source("__u32 b; __u32 a;");

    static byte[] u32s(int x, int y) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(x).putInt(y).array();
    }

    @Test
    void aChangedLayoutIsRefusedByNameAndAMigrationCarriesTheEntriesOver() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            ModuleCatalog catalog = new ModuleCatalog();
            catalog.register(ModuleType.fromSource("pair", AB, 2));
            Engine e = bed.start(catalog);
            e.apply(Topology.builder().instance("p", "pair").connect("p:0", bed.dev(1)).connect("p:1", bed.dev(2))
                    .build());
            e.map("p", "pairs").update(BpfMapKeys.u32(1), u32s(10, 20));
            int before = e.programId("p");

            // same size, members swapped: the old bytes would be read with the other meaning
            assertThatThrownBy(() -> e.swap("p", new ModuleCode("pair.c", BA)))
                    .isInstanceOf(TopologyException.class)
                    .hasMessageContaining("instance 'p'").hasMessageContaining("map 'pairs'")
                    .hasMessageContaining("value member").hasMessageContaining("declares no migration");
            assertThat(e.programId("p")).as("nothing changed").isEqualTo(before);
            assertThat(e.map("p", "pairs").lookup(BpfMapKeys.u32(1)).orElseThrow()).isEqualTo(u32s(10, 20));

            // with a migration that converts each entry, the swap goes ahead and the entries follow
            MapMigration swapHalves = MapMigration.convert(old -> {
                ByteBuffer v = ByteBuffer.wrap(old.value()).order(ByteOrder.LITTLE_ENDIAN);
                return Optional.of(new BpfMap.Entry(old.key(), u32s(v.getInt(4), v.getInt(0))));
            });
            e.swap("p", new ModuleCode("pair.c", BA), Map.of("pairs", swapHalves));
            assertThat(e.programId("p")).isNotEqualTo(before);
            assertThat(e.map("p", "pairs").lookup(BpfMapKeys.u32(1)).orElseThrow()).as("b first, then a").isEqualTo(u32s(20, 10));

            // back to the first layout, starting the map empty
            e.swap("p", new ModuleCode("pair.c", AB), Map.of("pairs", MapMigration.startEmpty()));
            assertThat(e.map("p", "pairs").lookup(BpfMapKeys.u32(1))).isEmpty();

            // the same layout again: the map is kept as it is, no migration needed
            e.map("p", "pairs").update(BpfMapKeys.u32(2), u32s(1, 2));
            e.swap("p", new ModuleCode("pair.c", AB + "\n/* a comment changes the code, not the layout */\n"));
            assertThat(e.map("p", "pairs").lookup(BpfMapKeys.u32(2)).orElseThrow()).isEqualTo(u32s(1, 2));
        }
    }
}

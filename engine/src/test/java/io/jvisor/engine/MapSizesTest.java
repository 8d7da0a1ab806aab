package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Ping;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link ModuleType#mapSizes}: per-instance map sizes, set before load, and a live resize. */
@RequiresRoot
class MapSizesTest {
    /** A forwarder with two maps of its own: {@code table} (sized by config) and {@code other}. */
    static final String SOURCE = """
            #include <jvisor/module.h>
            struct {
                __uint(type, BPF_MAP_TYPE_HASH);
                __uint(max_entries, 8);
                __type(key, __u32);
                __type(value, __u64);
            } table SEC(".maps");
            struct {
                __uint(type, BPF_MAP_TYPE_ARRAY);
                __uint(max_entries, 4);
                __type(key, __u32);
                __type(value, __u64);
            } other SEC(".maps");
            static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
            {
                __u32 k = md->in_port;
                __u64 one = 1, *n = bpf_map_lookup_elem(&table, &k);
                if (n)
                    __sync_fetch_and_add(n, 1);
                else
                    bpf_map_update_elem(&table, &k, &one, BPF_ANY);
                __u64 *o = bpf_map_lookup_elem(&other, &k);
                if (o)
                    __sync_fetch_and_add(o, 1);
                return jv_forward(md, md->in_port == 0 ? 1 : 0);
            }
            """;

    /** Config keys: {@code size} (of {@code map}, default {@code table}). */
    record Sized() implements ModuleType {
        @Override
        public String name() {
            return "sized";
        }

        @Override
        public ModuleCode code() {
            return new ModuleCode("sized.c", SOURCE);
        }

        @Override
        public int ports() {
            return 2;
        }

        @Override
        public String validateConfig(Map<String, String> config) {
            return Set.of("size", "map").containsAll(config.keySet()) ? null : "unknown keys in " + config.keySet();
        }

        @Override
        public Map<String, Integer> mapSizes(Map<String, String> config) {
            return Map.of(config.getOrDefault("map", "table"), Integer.parseInt(config.getOrDefault("size", "8")));
        }
    }

    static Engine start(TestBed bed) {
        ModuleCatalog catalog = new ModuleCatalog();
        catalog.register(new Sized());
        return bed.start(catalog);
    }

    static Topology one(TestBed bed, Map<String, String> config) {
        return Topology.builder().instance("s", "sized", config).connect("s:0", bed.dev(1)).connect("s:1", bed.dev(2))
                .build();
    }

    static byte[] u32(int v) {
        return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] u64(long v) {
        return java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    @Test
    void eachInstanceGetsItsOwnSizeFromItsConfig() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = start(bed);
            e.apply(Topology.builder().instance("s", "sized", Map.of("size", "16")).instance("t", "sized",
                            Map.of("size", "64"))
                    .connect("s:0", bed.dev(1)).connect("s:1", bed.dev(2)).build());
            assertThat(e.map("s", "table").maxEntries()).isEqualTo(16);
            assertThat(e.map("t", "table").maxEntries()).isEqualTo(64);
            assertThat(e.map("s", "other").maxEntries()).as("a map not named keeps its source's size").isEqualTo(4);
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
            assertThat(e.map("s", "table").lookup(u32(0))).as("the sized map is the one the program uses").isPresent();
        }
    }

    @Test
    void aSizeChangeReloadsWithANewMapAndKeepsTheOthers() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = start(bed);
            e.apply(one(bed, Map.of("size", "16")));
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
            e.map("s", "other").update(u32(3), u64(42));
            int program = e.programId("s");
            int other = e.map("s", "other").id();
            int table = e.map("s", "table").id();

            Plan plan = e.apply(one(bed, Map.of("size", "32")));
            assertThat(plan.changes()).containsExactly(new Plan.Reconfigure("s"));
            assertThat(e.map("s", "table").maxEntries()).isEqualTo(32);
            assertThat(e.map("s", "table").id()).as("a new map").isNotEqualTo(table);
            assertThat(e.map("s", "table").keys()).as("empty").isEmpty();
            assertThat(e.map("s", "other").id()).as("carried over").isEqualTo(other);
            assertThat(e.map("s", "other").lookup(u32(3))).hasValueSatisfying(v -> assertThat(v).isEqualTo(u64(42)));
            assertThat(e.programId("s")).as("reloaded into its slot").isNotEqualTo(program);
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
            assertThat(e.map("s", "table").lookup(u32(0))).as("the new program uses the new map").isPresent();
            assertThat(e.missedTailCalls("s")).isZero();

            // the same size again: nothing to do; a restart adopts the resized map
            assertThat(e.plan(one(bed, Map.of("size", "32"))).isEmpty()).isTrue();
            e.close();
            Engine again = start(bed);
            assertThat(again.map("s", "table").maxEntries()).isEqualTo(32);
            assertThat(again.plan(one(bed, Map.of("size", "32"))).isEmpty()).isTrue();
        }
    }

    @Test
    void badSizesAreRefusedNamingTheMapAndChangeNothing() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = start(bed);
            e.apply(one(bed, Map.of("size", "16")));
            int program = e.programId("s");
            Topology before = e.topology();
            Map<Map<String, String>, String> bad = Map.of(
                    Map.of("map", "nope"), "'nope'",
                    Map.of("map", "jv_ports"), "'jv_ports'",
                    Map.of("map", ".rodata"), "'.rodata'",
                    Map.of("size", "0"), "not a positive");
            bad.forEach((config, says) -> assertThatThrownBy(() -> e.apply(one(bed, config)))
                    .as("%s", config).isInstanceOf(TopologyException.class)
                    .hasMessageContaining("instance 's'").hasMessageContaining(says));
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("fresh", "sized", Map.of("map", "nope"))
                    .build())).isInstanceOf(TopologyException.class).hasMessageContaining("its maps: [").hasMessageContaining("table").hasMessageContaining("other");
            assertThat(e.topology()).isEqualTo(before);
            assertThat(e.programId("s")).isEqualTo(program);
            assertThat(e.map("s", "table").maxEntries()).isEqualTo(16);
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
        }
    }
}

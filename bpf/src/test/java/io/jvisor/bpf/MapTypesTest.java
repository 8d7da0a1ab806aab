package io.jvisor.bpf;

import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.codec.Codecs;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RequiresRoot
class MapTypesTest {
    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static long asLong(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void hashRoundTripsWithUpdateFlags() {
        for (MapType t : List.of(MapType.HASH, MapType.LRU_HASH)) {
            try (BpfMap m = BpfMap.create(MapSpec.of("h", t, 4, 8, 16))) {
                assertThat(m.lookup(u32(1))).isEmpty();
                m.update(u32(1), u64(100), UpdateFlag.NOEXIST);
                assertThat(m.lookup(u32(1))).hasValueSatisfying(v -> assertThat(asLong(v)).isEqualTo(100));
                assertThatThrownBy(() -> m.update(u32(1), u64(5), UpdateFlag.NOEXIST))
                        .isInstanceOf(BpfException.class).hasMessageContaining("EEXIST")
                        .hasMessageContaining("NOEXIST");
                assertThatThrownBy(() -> m.update(u32(2), u64(5), UpdateFlag.EXIST))
                        .isInstanceOf(BpfException.class).hasMessageContaining("ENOENT")
                        .hasMessageContaining("EXIST was given");
                m.update(u32(1), u64(200), UpdateFlag.EXIST);
                assertThat(asLong(m.lookup(u32(1)).orElseThrow())).isEqualTo(200);
                assertThat(m.lookupAndDelete(u32(1)).map(MapTypesTest::asLong)).contains(200L);
                assertThat(m.lookup(u32(1))).isEmpty();
                assertThat(m.delete(u32(1))).isFalse();
                MapInfo info = m.info();
                assertThat(info.type()).isEqualTo(t);
                assertThat(info.name()).isEqualTo("h");
                assertThat(info.keySize()).isEqualTo(4);
                assertThat(info.valueSize()).isEqualTo(8);
                assertThat(info.maxEntries()).isEqualTo(16);
                assertThat(info.id()).isEqualTo(m.id()).isPositive();
            }
        }
    }

    @Test
    void fullHashMapSaysSo() {
        try (BpfMap m = BpfMap.create(MapSpec.hash("full", 4, 4, 2))) {
            m.update(u32(1), u32(1));
            m.update(u32(2), u32(2));
            assertThatThrownBy(() -> m.update(u32(3), u32(3)))
                    .isInstanceOf(BpfException.class).hasMessageContaining("full").hasMessageContaining("2");
        }
    }

    @Test
    void arrayIsZeroFilledAndIndexed() {
        try (BpfMap m = BpfMap.create(MapSpec.array("a", 8, 4))) {
            assertThat(m.lookup(u32(3)).map(MapTypesTest::asLong)).contains(0L);
            m.update(u32(3), u64(42));
            assertThat(m.lookup(u32(3)).map(MapTypesTest::asLong)).contains(42L);
            assertThatThrownBy(() -> m.update(u32(4), u64(1)))
                    .isInstanceOf(BpfException.class)
                    .hasMessageContaining("index 4").hasMessageContaining("out of range").hasMessageContaining("4");
            // arrays cannot delete
            assertThatThrownBy(() -> m.delete(u32(0))).isInstanceOf(BpfException.class);
        }
    }

    @Test
    void perCpuMapsHoldOneValuePerPossibleCpu() {
        int cpus = Cpus.possible();
        assertThat(cpus).isPositive();
        for (MapType t : List.of(MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH)) {
            try (BpfMap m = BpfMap.create(MapSpec.of("pc", t, 4, 4, 8))) {
                assertThat(m.valueStride()).isEqualTo(8 * cpus);
                List<byte[]> values = new ArrayList<>();
                for (int c = 0; c < cpus; c++) {
                    values.add(u32(1000 + c));
                }
                m.updatePerCpu(u32(1), values, UpdateFlag.ANY);
                List<byte[]> back = m.lookupPerCpu(u32(1)).orElseThrow();
                assertThat(back).hasSize(cpus);
                for (int c = 0; c < cpus; c++) {
                    assertThat(ByteBuffer.wrap(back.get(c)).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(1000 + c);
                }
                var typed = m.typed(Codecs.U32, Codecs.U32);
                assertThat(typed.getPerCpu(1)).hasValueSatisfying(l -> assertThat(l).first().isEqualTo(1000));
            }
        }
    }

    @Test
    void lpmTrieReturnsLongestPrefix() {
        try (BpfMap m = BpfMap.create(MapSpec.lpmTrie("routes", 4, 4, 16))) {
            m.update(prefix(8, 10, 0, 0, 0), u32(8));
            m.update(prefix(16, 10, 1, 0, 0), u32(16));
            m.update(prefix(24, 10, 1, 2, 0), u32(24));
            assertThat(m.lookup(prefix(32, 10, 1, 2, 3)).map(MapTypesTest::int32)).contains(24);
            assertThat(m.lookup(prefix(32, 10, 1, 9, 9)).map(MapTypesTest::int32)).contains(16);
            assertThat(m.lookup(prefix(32, 10, 200, 1, 1)).map(MapTypesTest::int32)).contains(8);
            assertThat(m.lookup(prefix(32, 11, 0, 0, 1))).isEmpty();
            assertThat(m.delete(prefix(24, 10, 1, 2, 0))).isTrue();
            assertThat(m.lookup(prefix(32, 10, 1, 2, 3)).map(MapTypesTest::int32)).contains(16);
        }
    }

    static int int32(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    static byte[] prefix(int len, int a, int b, int c, int d) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(len)
                .put((byte) a).put((byte) b).put((byte) c).put((byte) d).array();
    }

    @Test
    void queueIsFifoAndStackIsLifo() {
        try (BpfMap q = BpfMap.create(MapSpec.of("q", MapType.QUEUE, 0, 4, 4));
             BpfMap s = BpfMap.create(MapSpec.of("s", MapType.STACK, 0, 4, 4))) {
            for (int i = 1; i <= 3; i++) {
                q.push(u32(i));
                s.push(u32(i));
            }
            assertThat(q.peek().map(MapTypesTest::int32)).contains(1);
            assertThat(q.pop().map(MapTypesTest::int32)).contains(1);
            assertThat(q.pop().map(MapTypesTest::int32)).contains(2);
            assertThat(s.pop().map(MapTypesTest::int32)).contains(3);
            assertThat(s.pop().map(MapTypesTest::int32)).contains(2);
            assertThat(q.pop().map(MapTypesTest::int32)).contains(3);
            assertThat(q.pop()).isEmpty();
        }
    }

    @Test
    void programArrayHoldsPrograms() {
        try (BpfMap jt = BpfMap.create(MapSpec.progArray("jt", 4));
             BpfProgram p = BpfProgram.load(ProgramSpec.of("tgt", ProgramType.XDP, null,
                     new Asm().mov64(Register.R0, 2).exit().build()))) {
            jt.setProgram(2, p);
            assertThat(jt.programId(2)).contains(p.id());
            assertThat(jt.programId(1)).isEmpty();
            assertThat(jt.delete(u32(2))).isTrue();
            assertThat(jt.programId(2)).isEmpty();
        }
    }

    @Test
    void devmapsHoldDevices() {
        for (MapType t : List.of(MapType.DEVMAP, MapType.DEVMAP_HASH)) {
            try (BpfMap m = BpfMap.create(MapSpec.of("dm", t, 4, 4, 4))) {
                m.update(u32(0), u32(1)); // loopback of this namespace
                assertThat(m.lookup(u32(0)).map(MapTypesTest::int32)).contains(1);
            }
        }
    }

    @Test
    void mapsOfMapsHoldInnerMaps() {
        MapSpec inner = MapSpec.array("inner", 4, 2);
        for (MapType t : List.of(MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS)) {
            try (BpfMap outer = BpfMap.create(MapSpec.mapOfMaps("outer", t, 4, 4, inner));
                 BpfMap in1 = BpfMap.create(inner.withName("in1"))) {
                outer.setInner(u32(1), in1);
                assertThat(outer.innerId(u32(1))).contains(in1.id());
                BpfMap viaId = BpfMap.fromId(outer.innerId(u32(1)).orElseThrow());
                try (viaId) {
                    viaId.update(u32(0), u32(77));
                }
                assertThat(in1.lookup(u32(0)).map(MapTypesTest::int32)).contains(77);
            }
        }
    }

    @Test
    void ringBufferAndBloomFilterCreate() {
        try (BpfMap rb = BpfMap.create(MapSpec.ringBuf("rb", 4096 * 4));
             BpfMap bloom = BpfMap.create(MapSpec.of("bl", MapType.BLOOM_FILTER, 0, 4, 100))) {
            assertThat(rb.info().type()).isEqualTo(MapType.RINGBUF);
            assertThat(rb.maxEntries()).isEqualTo(16384);
            bloom.push(u32(5));
            assertThat(bloom.mightContain(u32(5))).isTrue();
            assertThat(bloom.mightContain(u32(6))).isFalse(); // one element in 100 slots: no false positive
        }
    }

    @Test
    void iteratesOverHundredThousandEntries() {
        int n = 100_000;
        try (BpfMap m = BpfMap.create(MapSpec.hash("big", 4, 4, n))) {
            List<byte[]> keys = new ArrayList<>(n);
            List<byte[]> values = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                keys.add(u32(i));
                values.add(u32(i * 3));
            }
            assertThat(m.updateBatch(keys, values, UpdateFlag.ANY)).isEqualTo(n);
            assertThatThrownBy(() -> m.updateBatch(keys, values, UpdateFlag.NOEXIST))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only UpdateFlag.ANY");
            Set<Integer> seen = new HashSet<>();
            for (byte[] k : m.keys()) {
                assertThat(seen.add(int32(k))).as("key seen twice").isTrue();
            }
            assertThat(seen).hasSize(n);
            assertThat(seen).contains(0, 1, n / 2, n - 1);
        }
    }

    @Test
    void batchOperationsRoundTrip() {
        for (MapType t : List.of(MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH)) {
            int n = 5000;
            try (BpfMap m = BpfMap.create(MapSpec.of("b", t, 4, 8, n))) {
                List<byte[]> keys = new ArrayList<>();
                List<byte[]> values = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    keys.add(u32(i));
                    byte[] v = new byte[m.valueStride()];
                    ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putLong(i * 7L);
                    values.add(v);
                }
                assertThat(m.updateBatch(keys, values, UpdateFlag.ANY)).isEqualTo(n);
                List<BpfMap.Entry> all = m.lookupBatch(333);
                assertThat(all).hasSize(n);
                for (BpfMap.Entry e : all) {
                    assertThat(asLong(java.util.Arrays.copyOf(e.value(), 8))).isEqualTo(int32(e.key()) * 7L);
                }
                if (t != MapType.ARRAY) {
                    assertThat(m.deleteBatch(keys.subList(0, 1000))).isEqualTo(1000);
                    assertThat(m.lookupAndDeleteBatch(128)).hasSize(n - 1000);
                    assertThat(m.lookupBatch(64)).isEmpty();
                }
            }
        }
    }

    @Test
    void frozenMapRefusesUserWrites() {
        try (BpfMap m = BpfMap.create(MapSpec.array("fz", 4, 1))) {
            m.update(u32(0), u32(9));
            m.freeze();
            assertThatThrownBy(() -> m.update(u32(0), u32(10))).isInstanceOf(BpfException.class)
                    .hasMessageContaining("EPERM").hasMessageContaining("frozen");
            assertThat(m.lookup(u32(0)).map(MapTypesTest::int32)).contains(9);
        }
    }

    record FlowKey(@io.jvisor.bpf.codec.Network int saddr, @io.jvisor.bpf.codec.Network short sport, byte proto) {}

    record FlowStats(long packets, long bytes) {}

    @Test
    void typedViewUsesRecordCodecs() {
        var keyCodec = Codecs.record(FlowKey.class);
        var valueCodec = Codecs.record(FlowStats.class);
        assertThat(keyCodec.size()).isEqualTo(8); // 4 + 2 + 1, padded to 4
        try (BpfMap m = BpfMap.create(MapSpec.hash("flows", keyCodec.size(), valueCodec.size(), 8))) {
            var flows = m.typed(keyCodec, valueCodec);
            FlowKey k = new FlowKey(0x0a000001, (short) 443, (byte) 6);
            flows.put(k, new FlowStats(3, 1500));
            assertThat(flows.get(k)).contains(new FlowStats(3, 1500));
            // network order on the wire: 10.0.0.1 is 0a 00 00 01
            byte[] raw = m.keys().iterator().next();
            assertThat(raw[0]).isEqualTo((byte) 0x0a);
            assertThat(raw[3]).isEqualTo((byte) 0x01);
            assertThat(flows.entries()).hasSize(1);
            assertThat(flows.remove(k)).isTrue();
        }
    }
}

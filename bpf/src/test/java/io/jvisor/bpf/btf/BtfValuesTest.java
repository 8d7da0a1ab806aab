package io.jvisor.bpf.btf;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.MapInfo;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectMap;
import io.jvisor.bpf.elf.TestObjects;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Map keys and values read and written through their BTF types, on a real clang object and the kernel. */
class BtfValuesTest {
    static CollectionSpec spec() {
        return TestObjects.spec("btf_values.c");
    }

    static Map<String, Object> value() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("mac", "02:00:0a:01:02:ff");
        v.put("vlan", 100);
        v.put("name", "uplink");
        v.put("verdict", "V_REDIRECT");
        v.put("prio", 9);
        v.put("flags", 0xabc);
        v.put("delta", -1234);
        v.put("port", 7);
        v.put("balance", -5_000_000_000L);
        v.put("counters", List.of(1, 2, new BigInteger("18446744073709551615")));
        v.put("active", true);
        v.put("blob", "000102030405060708090a0b0c0d0e0f10111213");
        return v;
    }

    @Test
    void aValueWrittenFromItsSpellingReadsBackTheSame() {
        CollectionSpec s = spec();
        ObjectMap flows = s.map("flows").orElseThrow();
        Btf btf = s.btf();
        byte[] bytes = BtfValues.encode(btf, flows.btfValueTypeId(), value());
        assertThat(bytes).hasSize(flows.spec().valueSize());
        Map<?, ?> back = (Map<?, ?>) BtfValues.decode(btf, flows.btfValueTypeId(), bytes);
        assertThat(back.keySet().stream().map(String::valueOf).toList()).containsExactly("mac", "vlan", "name", "verdict", "prio", "flags", "delta", "port",
                "ifindex", "balance", "counters", "active", "blob");
        assertThat(back.get("mac")).isEqualTo("02:00:0a:01:02:ff");
        assertThat(back.get("vlan")).isEqualTo(100L);
        assertThat(back.get("name")).isEqualTo("uplink");
        assertThat(back.get("verdict")).isEqualTo("V_REDIRECT");
        assertThat(back.get("prio")).isEqualTo(9L);
        assertThat(back.get("flags")).isEqualTo(0xabcL);
        assertThat(back.get("delta")).isEqualTo(-1234L);
        assertThat(back.get("port")).isEqualTo(7L);
        assertThat(back.get("ifindex")).isEqualTo(7L); // the other view of the same union
        assertThat(back.get("balance")).isEqualTo(-5_000_000_000L);
        assertThat(back.get("counters")).isEqualTo(List.of(1L, 2L, new BigInteger("18446744073709551615")));
        assertThat(back.get("active")).isEqualTo(true);
        assertThat(back.get("blob")).isEqualTo("000102030405060708090a0b0c0d0e0f10111213");

        // the bytes are where C puts them: mac at 0, vlan at 6 (host order), name at 8
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
        assertThat(b.get(0)).isEqualTo((byte) 0x02);
        assertThat(b.get(5)).isEqualTo((byte) 0xff);
        assertThat(b.getShort(6)).isEqualTo((short) 100);
        assertThat(new String(bytes, 8, 6)).isEqualTo("uplink");
        assertThat(b.getInt(16)).isEqualTo(7); // V_REDIRECT
        // prio:4, flags:12 and delta:16 share the next 32 bits, in declaration order from bit 0
        int bits = b.getInt(20);
        assertThat(bits & 0xf).isEqualTo(9);
        assertThat((bits >>> 4) & 0xfff).isEqualTo(0xabc);
        assertThat((short) (bits >>> 16)).isEqualTo((short) -1234);
    }

    @Test
    void networkOrderTypesReadAsAddressesAndPorts() {
        CollectionSpec s = spec();
        ObjectMap flows = s.map("flows").orElseThrow();
        byte[] key = new byte[flows.spec().keySize()];
        // saddr 10.1.2.3, daddr 192.168.0.1, sport 80, dport 443 in network order, proto 6
        byte[] raw = {10, 1, 2, 3, (byte) 192, (byte) 168, 0, 1, 0, 80, 1, (byte) 0xbb, 6};
        System.arraycopy(raw, 0, key, 0, raw.length);
        Map<?, ?> k = (Map<?, ?>) BtfValues.decode(s.btf(), flows.btfKeyTypeId(), key);
        assertThat(k.get("saddr")).isEqualTo("10.1.2.3");
        assertThat(k.get("daddr")).isEqualTo("192.168.0.1");
        assertThat(k.get("sport")).isEqualTo(80L);
        assertThat(k.get("dport")).isEqualTo(443L);
        assertThat(k.get("proto")).isEqualTo(6L);
        assertThat(BtfValues.encode(s.btf(), flows.btfKeyTypeId(), k)).isEqualTo(key);
        // members left out are zero; numbers are accepted for addresses too
        assertThat(BtfValues.encode(s.btf(), flows.btfKeyTypeId(), Map.of("saddr", 0x0a010203L, "dport", "443")))
                .startsWith(10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 1, (byte) 0xbb, 0);
    }

    @Test
    void aUnionWritesFromAnyOneMemberOrFromMembersThatAgree() {
        CollectionSpec s = spec();
        ObjectMap tags = s.map("tags").orElseThrow();
        int v = tags.btfValueTypeId();
        Btf btf = s.btf();
        byte[] fromV4 = BtfValues.encode(btf, v, Map.of("tag", 7, "addr", Map.of("v4", "10.0.0.1")));
        byte[] fromBytes = BtfValues.encode(btf, v, Map.of("tag", 7, "addr", Map.of("bytes", "0a:00:00:01")));
        assertThat(fromBytes).isEqualTo(fromV4);
        Map<?, ?> back = (Map<?, ?>) BtfValues.decode(btf, v, fromV4);
        Map<?, ?> addr = (Map<?, ?>) back.get("addr");
        assertThat(addr.get("v4")).isEqualTo("10.0.0.1");
        assertThat(addr.get("bytes")).isEqualTo("0a:00:00:01");
        assertThat(addr.get("halves")).isEqualTo(List.of(0x000aL, 0x0100L));
        // every view at once, as decode shows it, writes back the same bytes
        assertThat(BtfValues.encode(btf, v, back)).isEqualTo(fromV4);
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("addr", Map.of("v4", "10.0.0.1", "bytes", "0a:00:00:02"))))
                .hasMessageContaining("addr: members").hasMessageContaining("disagree");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("addr", Map.of())))
                .hasMessageStartingWith("addr: give a member of union addr (members: v4, bytes, halves)");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("addr", Map.of("v6", "::1"))))
                .hasMessageStartingWith("addr.v6: no such member of union addr");
    }

    @Test
    void aCharArrayThatIsNotTextReadsAsItsBytes() {
        CollectionSpec s = spec();
        ObjectMap flows = s.map("flows").orElseThrow();
        byte[] v = new byte[flows.spec().valueSize()];
        v[8] = 'a';
        v[9] = (byte) 0xff; // not UTF-8
        Map<?, ?> d = (Map<?, ?>) BtfValues.decode(s.btf(), flows.btfValueTypeId(), v);
        assertThat(d.get("name")).isEqualTo(List.of(97L, -1L, 0L, 0L, 0L, 0L, 0L, 0L));
        v[9] = 0;
        v[12] = 'x'; // text, but a byte after the NUL would be lost
        d = (Map<?, ?>) BtfValues.decode(s.btf(), flows.btfValueTypeId(), v);
        assertThat(d.get("name")).isEqualTo(List.of(97L, 0L, 0L, 0L, 120L, 0L, 0L, 0L));
        assertThat(BtfValues.encode(s.btf(), flows.btfValueTypeId(), d)).isEqualTo(v);
    }

    @Test
    void whateverBytesAValueHoldsDecodeAndWriteBack() {
        CollectionSpec s = spec();
        ObjectMap flows = s.map("flows").orElseThrow(), tags = s.map("tags").orElseThrow();
        java.util.Random r = new java.util.Random(20261126);
        for (int i = 0; i < 2000; i++) {
            // the key has no padding: its bytes come back exactly
            byte[] k = new byte[flows.spec().keySize()];
            r.nextBytes(k);
            Object kd = BtfValues.decode(s.btf(), flows.btfKeyTypeId(), k);
            assertThat(BtfValues.encode(s.btf(), flows.btfKeyTypeId(), kd)).as("key %d", i).isEqualTo(k);
            // the value has padding, which decode does not show: its decoded form comes back exactly;
            // enum values that name no constant are numbers, and a bool is one byte of 0 or 1
            byte[] v = new byte[flows.spec().valueSize()];
            r.nextBytes(v);
            v[60] = (byte) (v[60] & 1); // active: a _Bool
            Object vd = BtfValues.decode(s.btf(), flows.btfValueTypeId(), v);
            byte[] again = BtfValues.encode(s.btf(), flows.btfValueTypeId(), vd);
            assertThat(BtfValues.decode(s.btf(), flows.btfValueTypeId(), again)).as("value %d", i).isEqualTo(vd);
            byte[] t = new byte[tags.spec().valueSize()];
            r.nextBytes(t);
            assertThat(BtfValues.encode(s.btf(), tags.btfValueTypeId(), BtfValues.decode(s.btf(), tags.btfValueTypeId(), t)))
                    .as("tagged %d", i).isEqualTo(t);
        }
    }

    @Test
    void badValuesAreRefusedNamingTheMemberAndTheReason() {
        CollectionSpec s = spec();
        ObjectMap flows = s.map("flows").orElseThrow();
        int v = flows.btfValueTypeId(), k = flows.btfKeyTypeId();
        Btf btf = s.btf();
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("colour", 1)))
                .isInstanceOf(BtfValues.BtfValueException.class)
                .hasMessageContaining("colour").hasMessageContaining("no such member of struct flow_value")
                .hasMessageContaining("mac, vlan");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("vlan", 70000)))
                .hasMessageStartingWith("vlan: 70000 is out of range 0..65535");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("mac", "02:00:0a:01:02")))
                .hasMessageStartingWith("mac: '02:00:0a:01:02' is 5 bytes; the field holds 6");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("mac", "zz:00:0a:01:02:03")))
                .hasMessageStartingWith("mac: 'zz:00:0a:01:02:03' is not hex bytes");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("name", "much-too-long")))
                .hasMessageStartingWith("name: 'much-too-long' is 13 bytes; the field holds 8");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("verdict", "V_MAYBE")))
                .hasMessageContaining("verdict: 'V_MAYBE' is not a constant of enum verdict");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("prio", 16)))
                .hasMessageStartingWith("prio: 16 is out of range 0..15");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("delta", 40000)))
                .hasMessageStartingWith("delta: 40000 is out of range -32768..32767");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("counters", List.of(1, 2, 3, 4))))
                .hasMessageStartingWith("counters: 4 elements; the array holds 3");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("counters", List.of(1, -1))))
                .hasMessageStartingWith("counters[1]: -1 is out of range");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, Map.of("active", "yes")))
                .hasMessageStartingWith("active: expected true or false, got 'yes'");
        assertThatThrownBy(() -> BtfValues.encode(btf, v, List.of(1)))
                .hasMessageStartingWith("expected an object with the members of struct flow_value, got a list");
        assertThatThrownBy(() -> BtfValues.encode(btf, k, Map.of("saddr", "10.1.2.300")))
                .hasMessageStartingWith("saddr: '10.1.2.300' is not an IPv4 address");
        assertThatThrownBy(() -> BtfValues.encode(btf, k, Map.of("saddr", "10.1.2")))
                .hasMessageStartingWith("saddr: '10.1.2' is not an IPv4 address");
        assertThatThrownBy(() -> BtfValues.encode(btf, k, Map.of("sport", "http")))
                .hasMessageStartingWith("sport: 'http' is not an integer");
        assertThatThrownBy(() -> BtfValues.decode(btf, v, new byte[4]))
                .hasMessageContaining("4 bytes, struct flow_value needs");
    }

    @Test
    @RequiresRoot
    void theKernelsCopyOfAMapsBtfDecodesWhatTheMapHolds() throws Exception {
        try (Collection c = Collection.load(spec())) {
            BpfMap flows = c.map("flows");
            MapInfo info = flows.info();
            Btf fromKernel = LoadedBtf.fetch(info.btfId());
            Map<String, Object> key = Map.of("saddr", "10.9.8.7", "daddr", "10.9.8.1", "sport", 5353, "dport", 53,
                    "proto", 17);
            byte[] k = BtfValues.encode(fromKernel, info.btfKeyTypeId(), key);
            byte[] v = BtfValues.encode(fromKernel, info.btfValueTypeId(), value());
            flows.update(k, v);
            var entry = flows.lookup(k).orElseThrow();
            Map<?, ?> read = (Map<?, ?>) BtfValues.decode(fromKernel, info.btfValueTypeId(), entry);
            assertThat(read.get("mac")).isEqualTo("02:00:0a:01:02:ff");
            assertThat(read.get("verdict")).isEqualTo("V_REDIRECT");
            assertThat(read.get("delta")).isEqualTo(-1234L);
            assertThat(((Map<?, ?>) BtfValues.decode(fromKernel, info.btfKeyTypeId(), k)).get("saddr"))
                    .isEqualTo("10.9.8.7");
            // the program reads the value the way C lays it out: active is set, so it drops
            assertThat(c.program("btf_values").testRun(io.jvisor.bpf.TestRun.of(new byte[64])).returnValue())
                    .isEqualTo(2); // XDP_PASS: the zero key has no entry
            flows.update(new byte[k.length], v);
            assertThat(c.program("btf_values").testRun(io.jvisor.bpf.TestRun.of(new byte[64])).returnValue())
                    .isEqualTo(1); // XDP_DROP
        }
    }

    @Test
    @RequiresRoot
    void fetchingAnIdWithNoBtfSaysSo() {
        assertThatThrownBy(() -> LoadedBtf.fetch(Integer.MAX_VALUE - 7))
                .isInstanceOf(BpfException.class).hasMessageContaining("no BTF has id");
    }
}

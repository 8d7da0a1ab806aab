package io.jvisor.modules.bridge;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.TestBed;
import io.jvisor.engine.Topology;
import io.jvisor.engine.TopologyException;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.jvisor.modules.bridge.BridgeTest.h;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The learned FDB's size ({@code fdb.max}): the kernel map is created with it, learning more MACs
 * than it holds evicts the oldest, a live change reloads the instance with an empty FDB of the new
 * size, and bad values are refused without any change.
 */
@RequiresRoot
class BridgeFdbSizeTest {
    /**
     * Sends one broadcast frame (ethertype 0x88b5, local experimental) per source MAC
     * 06:00:00:00:HH:LL for i in 0..count-1, in that order. The sender is pinned to CPU 0, so the
     * bridge learns every MAC on one CPU and the kernel's LRU lists see them in order.
     */
    private static final String SEND = """
            import socket, sys
            count = int(sys.argv[1])
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("eth0", 0))
            for i in range(count):
                src = bytes([6, 0, 0, 0, i >> 8, i & 0xff])
                s.send(b"\\xff" * 6 + src + b"\\x88\\xb5" + b"\\x00" * 46)
            """;

    static String learnedMac(int i) {
        return String.format("06:00:00:00:%02x:%02x", i >> 8, i & 0xff);
    }

    static void sendFromManyMacs(Host from, int count) throws Exception {
        Process p = from.exec(List.of("taskset", "-c", "0", "python3", "-c", SEND, Integer.toString(count)));
        try {
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("sender finished").isTrue();
            assertThat(p.exitValue()).as(new String(p.getErrorStream().readAllBytes())).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    static Set<String> learnedOnly(Engine e) {
        Set<String> out = new HashSet<>();
        for (Bridge.FdbEntry f : Bridge.fdb(e, "br")) {
            if (!f.isStatic() && f.mac().startsWith("06:")) {
                out.add(f.mac());
            }
        }
        return out;
    }

    @Test
    void aSmallFdbHoldsAtMostItsSizeAndEvictsTheOldest() throws Exception {
        int n = 32;
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = BridgeTest.bridge(bed, 2, Map.of(Bridge.FDB_MAX_KEY, Integer.toString(n)));
            assertThat(e.map("br", "fdb").maxEntries()).as("the kernel map's size").isEqualTo(n);

            int sent = 4 * n;
            sendFromManyMacs(h(bed, 1), sent);
            Set<String> held = learnedOnly(e);
            assertThat(Bridge.learnedEntries(e, "br")).as("learned entries").isLessThanOrEqualTo(n).isPositive();
            assertThat(held).as("the newest MAC is held").contains(learnedMac(sent - 1));
            List<String> oldest = new ArrayList<>();
            for (int i = 0; i < sent - n; i++) {
                oldest.add(learnedMac(i));
            }
            assertThat(held).as("every MAC older than the last %d learned was evicted", n)
                    .doesNotContainAnyElementsOf(oldest);
            for (Bridge.FdbEntry f : Bridge.fdb(e, "br")) {
                assertThat(f.port()).as("learned on h1's port").isZero();
            }

            // still a working bridge: the hosts' own MACs are learned over the evictions
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).allReplied()).isTrue();
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(1), 0).orElseThrow().port()).isEqualTo(0);
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(2), 0).orElseThrow().port()).isEqualTo(1);
            assertThat(Bridge.learnedEntries(e, "br")).isLessThanOrEqualTo(n);
        }
    }

    @Test
    void theDefaultSizeIsFdbSize() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = BridgeTest.bridge(bed, 2, Map.of());
            assertThat(e.map("br", "fdb").maxEntries()).isEqualTo(Bridge.FDB_SIZE);
        }
    }

    @Test
    void aLiveSizeChangeReloadsWithAnEmptyFdbAndKeepsStaticEntriesAndConfig() throws Exception {
        try (TestBed bed = TestBed.create(3, Hook.TC)) {
            Engine e = BridgeTest.bridge(bed, 3, Map.of(Bridge.FDB_MAX_KEY, "64", "agingSeconds", "100"));
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).allReplied()).isTrue();
            Bridge.addStatic(e, "br", BridgeTest.mac(2), 0, 2); // h2 pinned, wrongly, to h3's port
            int programBefore = e.programId("br");
            int staticBefore = e.map("br", "fdb_static").id();

            Topology resized = Topology.builder()
                    .instance("br", "bridge", Map.of(Bridge.FDB_MAX_KEY, "16", "agingSeconds", "100"))
                    .connect("br:0", bed.dev(1)).connect("br:1", bed.dev(2)).connect("br:2", bed.dev(3)).build();
            e.apply(resized);

            assertThat(e.map("br", "fdb").maxEntries()).as("the new size").isEqualTo(16);
            assertThat(e.programId("br")).as("the code was reloaded into the slot").isNotEqualTo(programBefore);
            assertThat(e.map("br", "fdb_static").id()).as("the static table is carried over").isEqualTo(staticBefore);
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(2), 0).orElseThrow().isStatic()).isTrue();
            assertThat(Bridge.learnedEntries(e, "br")).as("the new learned FDB starts empty").isZero();
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).received())
                    .as("the reloaded data plane still obeys the static entry").isZero();
            assertThat(Bridge.removeStatic(e, "br", BridgeTest.mac(2), 0)).isTrue();

            // the reloaded instance forwards, learns into the new map, and evicts at the new size
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).allReplied()).isTrue();
            assertThat(Bridge.lookup(e, "br", BridgeTest.mac(2), 0).orElseThrow().port()).isEqualTo(1);
            sendFromManyMacs(h(bed, 3), 64);
            assertThat(Bridge.learnedEntries(e, "br")).isLessThanOrEqualTo(16);
            assertThat(learnedOnly(e)).contains(learnedMac(63));
            assertThat(e.missedTailCalls("br")).isZero();

            // a survivor of a restart keeps its size: the adopted map is the pinned one
            e.close();
            Engine again = bed.start(io.jvisor.engine.ModuleCatalog.discover());
            assertThat(again.map("br", "fdb").maxEntries()).isEqualTo(16);
            assertThat(again.plan(resized).isEmpty()).as("nothing to do after adoption").isTrue();
        }
    }

    @Test
    void badSizesAreRefusedNamingTheKeyAndChangeNothing() {
        Bridge b = new Bridge();
        assertThat(b.validateConfig(Map.of(Bridge.FDB_MAX_KEY, "16"))).isNull();
        assertThat(b.validateConfig(Map.of(Bridge.FDB_MAX_KEY, "1048576"))).isNull();
        for (String bad : List.of("15", "0", "-1", "1048577", "lots", "", "9999999999999")) {
            assertThat(b.validateConfig(Map.of(Bridge.FDB_MAX_KEY, bad))).as("fdb.max=%s", bad).contains("fdb.max");
        }
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = BridgeTest.bridge(bed, 2, Map.of(Bridge.FDB_MAX_KEY, "64"));
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 1).allReplied()).isTrue();
            Topology before = e.topology();
            int program = e.programId("br");
            int fdb = e.map("br", "fdb").id();
            int learned = Bridge.learnedEntries(e, "br");
            for (String bad : List.of("8", "huge", "2000000")) {
                Topology t = Topology.builder().instance("br", "bridge", Map.of(Bridge.FDB_MAX_KEY, bad))
                        .connect("br:0", bed.dev(1)).connect("br:1", bed.dev(2)).build();
                assertThatThrownBy(() -> e.apply(t)).isInstanceOf(TopologyException.class)
                        .hasMessageContaining("instance 'br'").hasMessageContaining("fdb.max");
            }
            assertThat(e.topology()).isEqualTo(before);
            assertThat(e.programId("br")).isEqualTo(program);
            assertThat(e.map("br", "fdb").id()).isEqualTo(fdb);
            assertThat(e.map("br", "fdb").maxEntries()).isEqualTo(64);
            assertThat(Bridge.learnedEntries(e, "br")).isEqualTo(learned);
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 1).allReplied()).isTrue();
        }
    }
}

package io.jvisor.modules.bridge;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.TestBed;
import io.jvisor.engine.Topology;
import io.jvisor.net.MacAddress;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The bridge with real traffic: three hosts, each on one port (hK on port K-1). */
@RequiresRoot
class BridgeTest {
    static String mac(int k) {
        return "02:00:00:00:00:0" + k;
    }

    static Engine bridge(TestBed bed, int hosts, Map<String, String> config) {
        for (int k = 1; k <= hosts; k++) {
            bed.lab.host("h" + k).rtnl().setMac("eth0", MacAddress.parse(mac(k)));
        }
        Engine e = bed.start(ModuleCatalog.discover());
        Topology.Builder t = Topology.builder().instance("br", "bridge", config);
        for (int k = 1; k <= hosts; k++) {
            t.connect("br:" + (k - 1), bed.dev(k));
        }
        e.apply(t.build());
        return e;
    }

    static Host h(TestBed bed, int k) {
        return bed.lab.host("h" + k);
    }

    static long tx(Engine e, int port) {
        return e.stats("br", port).txPackets();
    }

    @Test
    void learnsForwardsAndStopsFloodingKnownUnicast() {
        try (TestBed bed = TestBed.create(3, Hook.TC)) {
            Engine e = bridge(bed, 3, Map.of());
            for (int a = 1; a <= 3; a++) {
                for (int b = 1; b <= 3; b++) {
                    if (a != b) {
                        assertThat(Ping.run(h(bed, a).netns(), h(bed, b).address(), 2).allReplied())
                                .as("h%d -> h%d", a, b).isTrue();
                    }
                }
            }
            for (int k = 1; k <= 3; k++) {
                var entry = Bridge.lookup(e, "br", mac(k), 0);
                assertThat(entry).as("h%d learned", k).isPresent();
                assertThat(entry.get().port()).isEqualTo(k - 1);
                assertThat(entry.get().isStatic()).isFalse();
            }
            long before = tx(e, 2);
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 5).allReplied()).isTrue();
            try (UdpStream udp = UdpStream.open(h(bed, 1).netns(), h(bed, 1).address(), h(bed, 2).netns(),
                    h(bed, 2).address())) {
                udp.send(5000, 20_000);
                UdpStream.Report r = udp.finish(Duration.ofSeconds(1));
                assertThat(r.lost()).isZero();
                assertThat(r.received()).isEqualTo(5000);
            }
            assertThat(tx(e, 2) - before).as("h1 <-> h2 unicast never reaches port 2 (h3) once learned").isZero();
            assertThat(e.stats("br", 0).txPackets()).isGreaterThan(0);
        }
    }

    @Test
    void aMacThatMovesIsRelearnedOnItsNewPort() {
        try (TestBed bed = TestBed.create(3, Hook.TC)) {
            Engine e = bridge(bed, 3, Map.of());
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).allReplied()).isTrue();
            Bridge.learn(e, "br", mac(2), 0, 2); // as if h2 had been seen on h3's port
            assertThat(Bridge.lookup(e, "br", mac(2), 0).orElseThrow().port()).isEqualTo(2);
            assertThat(Ping.run(h(bed, 2).netns(), h(bed, 1).address(), 2).allReplied()).isTrue();
            assertThat(Bridge.lookup(e, "br", mac(2), 0).orElseThrow().port()).as("moved back").isEqualTo(1);
        }
    }

    @Test
    void agedEntriesAreUnknownUntilSeenAgain() throws Exception {
        try (TestBed bed = TestBed.create(3, Hook.TC)) {
            Engine e = bridge(bed, 3, Map.of("agingSeconds", "1"));
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).allReplied()).isTrue();
            assertThat(Bridge.lookup(e, "br", mac(2), 0)).isPresent();
            Thread.sleep(2500);
            assertThat(Bridge.lookup(e, "br", mac(2), 0)).as("aged out").isEmpty();
            long before = tx(e, 2);
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 1).allReplied()).isTrue();
            long flooded = tx(e, 2) - before;
            assertThat(flooded).as("the request to the aged-out h2 is flooded").isGreaterThanOrEqualTo(1);
            assertThat(Bridge.lookup(e, "br", mac(2), 0).orElseThrow().port()).as("re-learned").isEqualTo(1);
            before = tx(e, 2);
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 1).allReplied()).isTrue();
            assertThat(tx(e, 2) - before).as("known again: not flooded").isZero();
        }
    }

    /**
     * The data plane stamps entries in kernel ticks (jiffies); the FDB reader turns them into ages on
     * the monotonic clock. Each bound below is measured around the event, with a tick of slack either
     * way (the stamp's precision).
     */
    @Test
    void fdbAgesFollowTheTimeSinceTheMacWasSeen() throws Exception {
        try (TestBed bed = TestBed.create(3, Hook.TC)) {
            Engine e = bridge(bed, 3, Map.of());
            long slack = 2 * KernelClock.calibration().tickNs();
            long sent = System.nanoTime();
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 1).allReplied()).isTrue();
            long l0 = System.nanoTime();
            Bridge.learn(e, "br", "02:00:00:00:00:09", 0, 2); // a MAC that never sends
            long l1 = System.nanoTime();
            Thread.sleep(700);
            long r0 = System.nanoTime();
            long seenByKernel = Bridge.lookup(e, "br", mac(2), 0).orElseThrow().age().toNanos();
            long learnedByApi = Bridge.lookup(e, "br", "02:00:00:00:00:09", 0).orElseThrow().age().toNanos();
            long r1 = System.nanoTime();
            // h2 may send again after the ping (ARP), which only makes its entry younger
            assertThat(seenByKernel).as("h2's age, stamped by the data plane").isBetween(0L, r1 - sent + slack);
            assertThat(learnedByApi).as("the age of an entry added through the API")
                    .isBetween(r0 - l1 - slack, r1 - l0 + slack);
            assertThat(KernelClock.hz()).as("the kernel's HZ").isBetween(24L, 10_000L);
        }
    }

    /**
     * An FDB carried over from a bridge.c that stamped nanoseconds of the monotonic clock (a live
     * upgrade, a pinned map) is converted to jiffies with each entry's age kept, so that such entries
     * still age out; entries already in jiffies are left as they are.
     */
    @Test
    void nanosecondStampsOfAnEarlierVersionAreConvertedKeepingTheirAge() throws Exception {
        try (TestBed bed = TestBed.create(3, Hook.TC)) {
            Engine e = bridge(bed, 3, Map.of("agingSeconds", "5"));
            long slack = 2 * KernelClock.calibration().tickNs();
            assertThat(Ping.run(h(bed, 2).netns(), h(bed, 1).address(), 1).allReplied()).isTrue(); // ARP cached
            Bridge.learn(e, "br", mac(3), 0, 2);
            var fdb = e.map("br", "fdb");
            long stamped = System.nanoTime() - 3_000_000_000L; // seen 3 s ago, in the old unit
            fdb.update(Bridge.key(mac(1), 0), java.nio.ByteBuffer.allocate(16)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(0).putLong(stamped).array());
            byte[] jiffiesEntry = fdb.lookup(Bridge.key(mac(3), 0)).orElseThrow();
            assertThat(Bridge.restamp(fdb)).as("entries converted").isEqualTo(1);
            assertThat(fdb.lookup(Bridge.key(mac(3), 0)).orElseThrow()).as("a jiffies entry is unchanged")
                    .isEqualTo(jiffiesEntry);
            long r0 = System.nanoTime();
            var entry = Bridge.lookup(e, "br", mac(1), 0);
            long r1 = System.nanoTime();
            assertThat(entry).as("3 s old, aging 5 s").isPresent();
            assertThat(entry.get().port()).isZero();
            assertThat(entry.get().age().toNanos()).isBetween(r0 - stamped - slack, r1 - stamped + slack);
            assertThat(Bridge.restamp(fdb)).as("converting twice changes nothing").isZero();
            Thread.sleep(3000); // now 6 s old: the data plane ages it out
            long before = tx(e, 2);
            assertThat(Ping.run(h(bed, 2).netns(), h(bed, 1).address(), 1).allReplied()).isTrue();
            assertThat(tx(e, 2) - before).as("the request to the aged-out h1 is flooded to h3's port")
                    .isGreaterThanOrEqualTo(1);
            assertThat(Bridge.lookup(e, "br", mac(1), 0).orElseThrow().age()).as("re-learned")
                    .isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void staticEntriesBeatLearning() {
        try (TestBed bed = TestBed.create(3, Hook.TC)) {
            Engine e = bridge(bed, 3, Map.of("agingSeconds", "1"));
            Bridge.addStatic(e, "br", mac(2), 0, 2); // h2 pinned, wrongly, to h3's port
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).received()).isZero();
            var entry = Bridge.lookup(e, "br", mac(2), 0).orElseThrow();
            assertThat(entry.isStatic()).isTrue();
            assertThat(entry.port()).as("h2's own frames do not override a static entry").isEqualTo(2);
            assertThat(Bridge.removeStatic(e, "br", mac(2), 0)).isTrue();
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 2).allReplied()).isTrue();
            assertThat(Bridge.lookup(e, "br", mac(2), 0).orElseThrow().isStatic()).isFalse();
        }
    }

    @Test
    void aFullFdbEvictsTheLeastRecentlyUsedAndKeepsLearning() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = bridge(bed, 2, Map.of());
            for (int i = 0; i < Bridge.FDB_SIZE; i++) {
                Bridge.learn(e, "br", String.format("06:00:00:00:%02x:%02x", i >> 8, i & 0xff), 0, 1);
            }
            assertThat(Bridge.learnedEntries(e, "br")).isLessThanOrEqualTo(Bridge.FDB_SIZE).isGreaterThan(1000);
            assertThat(Ping.run(h(bed, 1).netns(), h(bed, 2).address(), 3).allReplied()).isTrue();
            assertThat(Bridge.lookup(e, "br", mac(1), 0).orElseThrow().port()).isEqualTo(0);
            assertThat(Bridge.lookup(e, "br", mac(2), 0).orElseThrow().port()).isEqualTo(1);
            assertThat(Bridge.learnedEntries(e, "br")).isLessThanOrEqualTo(Bridge.FDB_SIZE);
        }
    }

    @Test
    void badConfigurationIsRefusedNamingTheKey() {
        Bridge b = new Bridge();
        assertThat(b.validateConfig(Map.of())).isNull();
        assertThat(b.validateConfig(Map.of("agingSeconds", "2"))).isNull();
        assertThat(b.validateConfig(Map.of("agingSeconds", "x"))).contains("agingSeconds");
        assertThat(b.validateConfig(Map.of("agingSeconds", "0"))).contains("agingSeconds");
        assertThat(b.validateConfig(Map.of("fdbsize", "2"))).contains("fdbsize");
        assertThat(b.validateConfig(Map.of("port.0.vlan", "10", "port.1.trunk", "10, 20", "port.1.native", "30")))
                .isNull();
        assertThat(b.validateConfig(Map.of("port.0.vlan", "4095"))).contains("port.0.vlan");
        assertThat(b.validateConfig(Map.of("port.32.vlan", "10"))).contains("port.32.vlan");
        assertThat(b.validateConfig(Map.of("port.1.native", "10"))).contains("port.1.native");
        assertThat(b.validateConfig(Map.of("port.1.trunk", "10,x"))).contains("port.1.trunk");
        assertThat(b.validateConfig(Map.of("port.1.vlan", "10", "port.1.trunk", "20"))).contains("port.1");
    }
}

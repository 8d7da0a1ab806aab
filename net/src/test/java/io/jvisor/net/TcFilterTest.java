package io.jvisor.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static io.jvisor.net.Counters.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * cls_bpf filters on clsact through rtnetlink, the attach path for kernels without tcx, over real
 * traffic between two namespaces: counting, listing (checked against {@code tc -j}), atomic
 * replace under load, deletion, and the refusals.
 */
@RequiresRoot
class TcFilterTest {
    private static final int N = 300;

    @Test
    void ingressFilterCountsIsListedAndStopsWhenDeleted() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap(); BpfProgram p = Counters.tc(map, 0)) {
            Rtnl rtnl = w.rtnlB;
            assertThat(rtnl.hasClsact(w.ifindexB)).isFalse();
            assertThat(rtnl.tcFilters(w.ifindexB, TcDirection.INGRESS)).as("no clsact: nothing to list").isEmpty();
            assertThat(rtnl.ensureClsact(w.ifindexB)).as("added").isTrue();
            assertThat(rtnl.ensureClsact(w.ifindexB)).as("already there").isFalse();
            assertThat(rtnl.hasClsact(w.ifindexB)).isTrue();

            TcFilter f = rtnl.attachTcFilter(TcFilterSpec.of(w.ifindexB, TcDirection.INGRESS, 7, 0x2a, p.fd().get(),
                    "count:ingress"));
            assertThat(f.ifindex()).isEqualTo(w.ifindexB);
            assertThat(f.direction()).isEqualTo(TcDirection.INGRESS);
            assertThat(f.priority()).isEqualTo(7);
            assertThat(f.handle()).isEqualTo(0x2a);
            assertThat(f.protocol()).as("ETH_P_ALL").isEqualTo(3);
            assertThat(f.kind()).isEqualTo("bpf");
            assertThat(f.programId()).isEqualTo(p.id());
            assertThat(f.name()).isEqualTo("count:ingress");
            assertThat(f.directAction()).isTrue();
            assertThat(f.tag()).hasSize(16).isEqualTo(p.info().tag());
            assertThat(rtnl.tcFilters(w.ifindexB, TcDirection.INGRESS)).containsExactly(f);
            assertThat(rtnl.tcFilters(w.ifindexB, TcDirection.EGRESS)).isEmpty();
            assertThat(rtnl.tcFilter(w.ifindexB, TcDirection.INGRESS, 7, 0x2a)).contains(f);
            assertThat(rtnl.tcFilter(w.ifindexB, TcDirection.INGRESS, 7, 0x2b)).isEmpty();

            JsonNode tc = tcShow(w.b, Wire.DEV_B, "ingress");
            JsonNode entry = null;
            for (JsonNode e : tc) {
                if (e.path("options").has("prog")) {
                    entry = e;
                }
            }
            assertThat(entry).as("tc -j filter show: %s", tc).isNotNull();
            assertThat(entry.path("kind").asText()).isEqualTo("bpf");
            assertThat(entry.path("pref").asInt()).isEqualTo(7);
            assertThat(entry.path("protocol").asText()).isEqualTo("all");
            assertThat(entry.path("options").path("handle").asText()).isEqualTo("0x2a");
            assertThat(entry.path("options").path("bpf_name").asText()).isEqualTo("count:ingress");
            assertThat(entry.path("options").path("direct-action").asBoolean()).isTrue();
            assertThat(entry.path("options").path("prog").path("id").asInt()).isEqualTo(p.id());

            w.send(N);
            assertThat(Counters.settled(Counters.slot(map, 0))).as("packets seen on ingress").isEqualTo(N);
            assertThat(w.awaitReceived(N)).as("and passed on (TC_ACT_OK)").isGreaterThanOrEqualTo(N);

            rtnl.deleteTcFilter(w.ifindexB, TcDirection.INGRESS, 7, 0x2a);
            assertThat(rtnl.tcFilters(w.ifindexB, TcDirection.INGRESS)).isEmpty();
            long before = w.received();
            w.send(N);
            assertThat(w.awaitReceived(before + N)).as("traffic still flows").isEqualTo(before + N);
            assertThat(read(map, 0)).as("no program runs any more").isEqualTo(N);
            assertThat(rtnl.hasClsact(w.ifindexB)).as("the qdisc stays").isTrue();

            rtnl.deleteClsact(w.ifindexB);
            assertThat(rtnl.hasClsact(w.ifindexB)).isFalse();
            assertThat(rtnl.ensureClsact(w.ifindexB)).as("added again after a delete").isTrue();
        }
    }

    @Test
    void egressFilterSeesWhatTheDeviceSends() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap(); BpfProgram p = Counters.tc(map, 1)) {
            w.rtnlA.ensureClsact(w.ifindexA);
            TcFilter f = w.rtnlA.attachTcFilter(TcFilterSpec.of(w.ifindexA, TcDirection.EGRESS, 1, 1, p));
            assertThat(f.direction()).isEqualTo(TcDirection.EGRESS);
            assertThat(f.name()).isEqualTo(p.name());
            assertThat(w.rtnlA.tcFilters(w.ifindexA, TcDirection.EGRESS)).extracting(TcFilter::programId)
                    .containsExactly(p.id());
            assertThat(w.rtnlA.tcFilters(w.ifindexA, TcDirection.INGRESS)).isEmpty();
            w.send(N);
            assertThat(Counters.settled(Counters.slot(map, 1))).isEqualTo(N);
        }
    }

    /**
     * The live swap of kernels without tcx: NLM_F_REPLACE on the same (prio, handle) while a stream
     * runs. Every packet is counted by exactly one of the two programs.
     */
    @Test
    void atomicReplaceUnderLoadLosesNothing() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap();
             BpfProgram oldProgram = Counters.tc(map, 0); BpfProgram newProgram = Counters.tc(map, 1)) {
            Rtnl rtnl = w.rtnlB;
            rtnl.ensureClsact(w.ifindexB);
            TcFilterSpec spec = TcFilterSpec.of(w.ifindexB, TcDirection.INGRESS, 1, 1, oldProgram);
            rtnl.attachTcFilter(spec);
            long sent;
            TcFilter swapped;
            try (Wire.Stream s = w.startStream()) {
                Counters.awaitAtLeast(Counters.slot(map, 0), 500);
                swapped = rtnl.replaceTcFilter(spec.withProgram(newProgram));
                Counters.awaitAtLeast(Counters.slot(map, 1), 500);
                sent = s.stop();
            }
            long total = Counters.awaitAtLeast(Counters.sum(map, 0, 1), sent);
            assertThat(swapped.programId()).isEqualTo(newProgram.id());
            assertThat(swapped.handle()).isEqualTo(1);
            assertThat(rtnl.tcFilters(w.ifindexB, TcDirection.INGRESS)).as("one filter, the new program")
                    .extracting(TcFilter::programId).containsExactly(newProgram.id());
            assertThat(read(map, 0)).as("old program").isGreaterThanOrEqualTo(500);
            assertThat(read(map, 1)).as("new program").isGreaterThanOrEqualTo(500);
            assertThat(Counters.settled(Counters.sum(map, 0, 1))).as("old + new of %d sent", sent).isEqualTo(sent)
                    .isEqualTo(total);

            // An adoption after a restart: create-or-replace onto the filter that is there.
            TcFilter adopted = rtnl.attachTcFilter(spec.withMode(TcFilterSpec.Mode.CREATE_OR_REPLACE));
            assertThat(adopted.programId()).isEqualTo(oldProgram.id());
            assertThat(rtnl.tcFilters(w.ifindexB, TcDirection.INGRESS)).hasSize(1);
        }
    }

    /**
     * A restarted engine holds no descriptor of the program a filter runs: the filter keeps it
     * alive, the listing finds it by (prio, handle) with its id, and a REPLACE takes over.
     */
    @Test
    void aFilterOutlivesItsLoaderAndIsAdoptedByReplace() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap()) {
            Rtnl rtnl = w.rtnlB;
            rtnl.ensureClsact(w.ifindexB);
            int oldId;
            try (BpfProgram old = Counters.tc(map, 0)) {
                rtnl.attachTcFilter(TcFilterSpec.of(w.ifindexB, TcDirection.INGRESS, 5, 5, old));
                oldId = old.id();
            }
            w.send(N);
            assertThat(Counters.settled(Counters.slot(map, 0))).as("the filter holds the program").isEqualTo(N);

            TcFilter found = rtnl.tcFilters(w.ifindexB, TcDirection.INGRESS).getFirst();
            assertThat(found.programId()).isEqualTo(oldId);
            try (BpfProgram next = Counters.tc(map, 1)) {
                TcFilter now = rtnl.replaceTcFilter(TcFilterSpec.of(w.ifindexB, found.direction(), found.priority(),
                        found.handle(), next));
                assertThat(now.programId()).isEqualTo(next.id());
            }
            w.send(N);
            assertThat(Counters.settled(Counters.slot(map, 1))).isEqualTo(N);
            assertThat(read(map, 0)).isEqualTo(N);
        }
    }

    @Test
    void refusalsNameTheDeviceAndCarryTheKernelsWords() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap(); BpfProgram p = Counters.tc(map, 0);
             BpfProgram xdp = Counters.xdp(map, 1)) {
            Rtnl rtnl = w.rtnlB;
            int ifindex = w.ifindexB;
            TcFilterSpec spec = TcFilterSpec.of(ifindex, TcDirection.INGRESS, 3, 9, p);

            assertThatThrownBy(() -> rtnl.attachTcFilter(spec))
                    .isInstanceOfSatisfying(NetlinkException.class, e -> {
                        assertThat(e.errno()).isEqualTo(22);
                        assertThat(e.device()).isEqualTo(Wire.DEV_B);
                        assertThat(e.kernelMessage()).isPresent();
                    })
                    .hasMessageContaining("attach tc filter (netns " + w.b.name() + ") '" + Wire.DEV_B + "'")
                    .hasMessageContaining("ingress prio 3 handle 0x9")
                    .hasMessageContaining("no clsact qdisc");

            rtnl.ensureClsact(ifindex);
            assertThatThrownBy(() -> rtnl.attachTcFilter(spec.withMode(TcFilterSpec.Mode.REPLACE)))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("replace tc filter")
                    .hasMessageContaining("ENOENT")
                    .hasMessageContaining("no such filter to replace");
            rtnl.attachTcFilter(spec);
            assertThatThrownBy(() -> rtnl.attachTcFilter(spec))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("EEXIST")
                    .hasMessageContaining("kernel says:")
                    .hasMessageContaining("Mode.REPLACE");
            assertThatThrownBy(() -> rtnl.attachTcFilter(spec.withProgram(xdp).withMode(TcFilterSpec.Mode.REPLACE)))
                    .as("an XDP program is no classifier")
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("EINVAL")
                    .hasMessageContaining("SCHED_CLS");
            assertThat(rtnl.tcFilters(ifindex, TcDirection.INGRESS)).extracting(TcFilter::programId)
                    .as("a refused replace leaves the filter alone").containsExactly(p.id());
            assertThatThrownBy(() -> rtnl.deleteTcFilter(ifindex, TcDirection.INGRESS, 3, 10))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("delete tc filter (netns " + w.b.name() + ") '" + Wire.DEV_B + "'")
                    .hasMessageContaining("ENOENT");
            assertThatThrownBy(() -> rtnl.attachTcFilter(TcFilterSpec.of(9999, TcDirection.INGRESS, 1, 1, p)))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("'#9999'")
                    .hasMessageContaining("ENODEV");

            // A plain ingress qdisc takes clsact's slot.
            rtnl.deleteClsact(ifindex);
            Ip.run(List.of("tc", "-n", w.b.name(), "qdisc", "add", "dev", Wire.DEV_B, "ingress"));
            assertThat(rtnl.hasClsact(ifindex)).isFalse();
            assertThatThrownBy(() -> rtnl.ensureClsact(ifindex))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("'ingress' qdisc")
                    .hasMessageContaining("EEXIST");
            assertThatThrownBy(() -> rtnl.deleteClsact(ifindex))
                    .as("deleteClsact never removes another kind").isInstanceOf(NetlinkException.class);
        }
    }

    static JsonNode tcShow(Netns ns, String dev, String hook) {
        String out = Ip.run(List.of("tc", "-n", ns.name(), "-j", "filter", "show", "dev", dev, hook)).trim();
        try {
            return new ObjectMapper().readTree(out.isEmpty() ? "[]" : out);
        } catch (IOException e) {
            throw new IllegalStateException("bad JSON from tc: " + out, e);
        }
    }
}

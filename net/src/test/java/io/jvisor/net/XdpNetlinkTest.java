package io.jvisor.net;

import com.fasterxml.jackson.databind.JsonNode;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static io.jvisor.net.Counters.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * XDP through rtnetlink (IFLA_XDP), the attach path for kernels without XDP links, over real
 * traffic between two namespaces, in generic and in driver mode (veth has native XDP): counting,
 * the reported program id (checked against {@code ip -j link}), the conditional atomic replace
 * under load, its refusal when the expected program is gone, adoption by a process that holds no
 * descriptor of the running program, and detach.
 */
@RequiresRoot
class XdpNetlinkTest {
    private static final int N = 300;

    @ParameterizedTest
    @EnumSource(XdpAttachMode.class)
    void attachCountsSwapsAtomicallyAndDetaches(XdpAttachMode mode) {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap();
             BpfProgram first = Counters.xdp(map, 0); BpfProgram second = Counters.xdp(map, 1)) {
            Rtnl rtnl = w.rtnlB;
            int ifindex = w.ifindexB;
            assertThat(rtnl.xdp(ifindex).isAttached()).isFalse();
            assertThat(rtnl.xdpProgramId(ifindex)).isEmpty();

            rtnl.attachXdp(ifindex, first.fd().get(), mode, -1);
            XdpStatus s = rtnl.xdp(ifindex);
            assertThat(s.mode()).contains(mode);
            assertThat(s.programId(mode)).hasValue(first.id());
            assertThat(rtnl.xdpProgramId(ifindex)).hasValue(first.id());
            JsonNode xdp = Ip.link(w.b.name(), Wire.DEV_B).path("xdp");
            assertThat(xdp.path("mode").asInt()).as("ip -j link: %s", xdp).isEqualTo(s.attached());
            assertThat(xdp.path("prog").path("id").asInt()).as("ip -j link: %s", xdp).isEqualTo(first.id());

            w.send(N);
            assertThat(Counters.settled(Counters.slot(map, 0))).as("frames seen in %s mode", mode).isEqualTo(N);

            // Live swap: replace only if `first` is still the program, while a stream runs.
            long sent;
            try (Wire.Stream stream = w.startStream()) {
                Counters.awaitAtLeast(Counters.slot(map, 0), N + 300);
                rtnl.attachXdp(ifindex, second.fd().get(), mode, first.fd().get());
                Counters.awaitAtLeast(Counters.slot(map, 1), 300);
                sent = stream.stop();
            }
            assertThat(rtnl.xdpProgramId(ifindex)).hasValue(second.id());
            Counters.awaitAtLeast(Counters.sum(map, 0, 1), N + sent);
            assertThat(Counters.settled(Counters.sum(map, 0, 1)) - N).as("first + second of %d streamed", sent)
                    .isEqualTo(sent);

            // `first` is no longer attached: a replace expecting it must fail and change nothing.
            assertThatThrownBy(() -> rtnl.attachXdp(ifindex, first.fd().get(), mode, first.fd().get()))
                    .isInstanceOfSatisfying(NetlinkException.class, e -> {
                        assertThat(e.errno()).isEqualTo(17);
                        assertThat(e.device()).isEqualTo(Wire.DEV_B);
                    })
                    .hasMessageContaining("replace XDP program (" + mode + ")")
                    .hasMessageContaining("is no longer the one attached")
                    .hasMessageContaining("attached now: program id " + second.id() + " in " + mode + " mode")
                    .hasMessageContaining("EEXIST");
            assertThatThrownBy(() -> rtnl.detachXdp(ifindex, mode, first.fd().get()))
                    .isInstanceOf(NetlinkException.class).hasMessageContaining("EEXIST");
            assertThatThrownBy(() -> rtnl.attachXdpIfNone(ifindex, first.fd().get(), mode))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("EBUSY")
                    .hasMessageContaining("program id " + second.id());
            assertThat(rtnl.xdpProgramId(ifindex)).as("refusals change nothing").hasValue(second.id());

            rtnl.detachXdp(ifindex, mode, second.fd().get());
            assertThat(rtnl.xdp(ifindex).isAttached()).isFalse();
            assertThat(Ip.link(w.b.name(), Wire.DEV_B).has("xdp")).isFalse();
            long counted = read(map, 0) + read(map, 1);
            long before = w.received();
            w.send(N);
            assertThat(w.awaitReceived(before + N)).as("traffic still flows").isEqualTo(before + N);
            assertThat(read(map, 0) + read(map, 1)).as("no program runs any more").isEqualTo(counted);
            rtnl.detachXdp(ifindex, mode); // nothing attached: fine
        }
    }

    /**
     * A restarted engine holds no descriptor of the program the device runs: it finds the id,
     * opens the program by id, and swaps conditionally on it.
     */
    @Test
    void aProgramOutlivesItsLoaderAndIsAdoptedById() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap()) {
            Rtnl rtnl = w.rtnlB;
            int ifindex = w.ifindexB;
            int oldId;
            try (BpfProgram old = Counters.xdp(map, 0)) {
                rtnl.attachXdpIfNone(ifindex, old.fd().get(), XdpAttachMode.GENERIC);
                oldId = old.id();
            }
            w.send(N);
            assertThat(Counters.settled(Counters.slot(map, 0))).as("the device holds the program").isEqualTo(N);

            int found = rtnl.xdpProgramId(ifindex).orElseThrow();
            assertThat(found).isEqualTo(oldId);
            try (BpfProgram running = BpfProgram.fromId(found); BpfProgram next = Counters.xdp(map, 1)) {
                rtnl.attachXdp(ifindex, next.fd().get(), rtnl.xdp(ifindex).mode().orElseThrow(), running.fd().get());
                assertThat(rtnl.xdpProgramId(ifindex)).hasValue(next.id());
            }
            w.send(N);
            assertThat(Counters.settled(Counters.slot(map, 1))).isEqualTo(N);
            assertThat(read(map, 0)).isEqualTo(N);
        }
    }

    @Test
    void genericAndDriverModesExcludeEachOther() {
        try (Wire w = Wire.create(); BpfMap map = Counters.newMap(); BpfProgram p = Counters.xdp(map, 0);
             BpfProgram tc = Counters.tc(map, 1)) {
            Rtnl rtnl = w.rtnlB;
            int ifindex = w.ifindexB;
            rtnl.attachXdp(ifindex, p.fd().get(), XdpAttachMode.GENERIC, -1);
            assertThatThrownBy(() -> rtnl.attachXdp(ifindex, p.fd().get(), XdpAttachMode.DRIVER, -1))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("attach XDP program (driver)")
                    .hasMessageContaining("other XDP mode")
                    .hasMessageContaining("program id " + p.id() + " in generic mode")
                    .hasMessageContaining("EEXIST")
                    .hasMessageContaining("kernel says:");
            rtnl.detachXdp(ifindex, XdpAttachMode.DRIVER); // nothing in driver mode: a no-op
            assertThat(rtnl.xdp(ifindex).programId(XdpAttachMode.GENERIC)).hasValue(p.id());
            assertThatThrownBy(() -> rtnl.attachXdp(ifindex, tc.fd().get(), XdpAttachMode.GENERIC, -1))
                    .as("a SCHED_CLS program is no XDP program")
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining(Wire.DEV_B)
                    .hasMessageContaining("EINVAL")
                    .hasMessageContaining("an XDP program?");
            assertThatThrownBy(() -> rtnl.attachXdp(9999, p.fd().get(), XdpAttachMode.GENERIC, -1))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageContaining("'#9999'")
                    .hasMessageContaining("ENODEV");
            rtnl.detachXdp(ifindex, XdpAttachMode.GENERIC);
            assertThat(rtnl.xdp(ifindex).isAttached()).isFalse();
        }
    }
}

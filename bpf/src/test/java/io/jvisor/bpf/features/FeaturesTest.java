package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FeaturesTest {
    @Test
    void kernelVersionParses() {
        KernelVersion v = KernelVersion.parse("6.18.44-fc-v595");
        assertThat(v.major()).isEqualTo(6);
        assertThat(v.minor()).isEqualTo(18);
        assertThat(v.patch()).isEqualTo(44);
        assertThat(v.atLeast(6, 6)).isTrue();
        assertThat(v.atLeast(6, 19)).isFalse();
        assertThat(KernelVersion.parse("5.10").patch()).isZero();
    }

    /**
     * The probes must report what this project relies on. These features are present on every
     * kernel CI runs on (6.6+), so a "no" here is a broken probe, not a missing feature.
     */
    @Test
    @RequiresRoot
    void probeFindsWhatJvisorNeeds() {
        Features f = Features.probe(true);
        assertThat(f.kernel().atLeast(6, 6)).as("tcx needs 6.6+; CI runs 6.18").isTrue();
        for (ProgramType t : new ProgramType[] {ProgramType.XDP, ProgramType.SCHED_CLS, ProgramType.SOCKET_FILTER,
                ProgramType.TRACEPOINT, ProgramType.SYSCALL}) {
            assertThat(f.programTypes().get(t).supported()).as(t.kernelName()).isTrue();
        }
        for (MapType t : new MapType[] {MapType.HASH, MapType.ARRAY, MapType.LRU_HASH, MapType.LPM_TRIE,
                MapType.PROG_ARRAY, MapType.DEVMAP, MapType.RINGBUF, MapType.ARRAY_OF_MAPS, MapType.QUEUE}) {
            assertThat(f.mapTypes().get(t).supported()).as(t.kernelName()).isTrue();
        }
        assertThat(f.attachTypes().get(AttachType.XDP).supported()).isTrue();
        assertThat(f.attachTypes().get(AttachType.TCX_INGRESS).supported()).isTrue();
        assertThat(f.attachTypes().get(AttachType.TCX_EGRESS).supported()).isTrue();
        // Helpers: tc may redirect and change tunnel keys, XDP may adjust its head, a socket filter may not.
        assertThat(f.helpers().get(ProgramType.SCHED_CLS).get(Helper.SKB_SET_TUNNEL_KEY).supported()).isTrue();
        assertThat(f.helpers().get(ProgramType.XDP).get(Helper.XDP_ADJUST_HEAD).supported()).isTrue();
        assertThat(f.helpers().get(ProgramType.XDP).get(Helper.SKB_STORE_BYTES).supported()).isFalse();
        assertThat(f.helpers().get(ProgramType.SOCKET_FILTER).get(Helper.REDIRECT).supported()).isFalse();
        // A type that needs a BTF attach target is reported as not probed rather than as missing.
        assertThat(f.programTypes().get(ProgramType.TRACING).probed()).isFalse();
        String table = f.render();
        assertThat(table).contains("PROGRAM TYPE").contains("xdp").contains("MAP TYPE").contains("lpm_trie")
                .contains("HELPER FOR XDP").contains("bpf_xdp_adjust_head");
    }
}

package io.jvisor.bpf.features;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.jvisor.bpf.features.Capability.CAP_BPF;
import static io.jvisor.bpf.features.Capability.CAP_NET_ADMIN;
import static io.jvisor.bpf.features.Capability.CAP_NET_RAW;
import static io.jvisor.bpf.features.Capability.CAP_PERFMON;
import static io.jvisor.bpf.features.Capability.CAP_SYS_ADMIN;
import static io.jvisor.bpf.features.Capability.CAP_SYS_RESOURCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading and judging capability sets: pure, no root. */
class CapabilitiesTest {
    @Test
    void bitsAreTheKernels() {
        assertThat(CAP_NET_ADMIN.bit()).isEqualTo(12);
        assertThat(CAP_NET_RAW.bit()).isEqualTo(13);
        assertThat(CAP_SYS_ADMIN.bit()).isEqualTo(21);
        assertThat(CAP_SYS_RESOURCE.bit()).isEqualTo(24);
        assertThat(CAP_PERFMON.bit()).isEqualTo(38);
        assertThat(CAP_BPF.bit()).isEqualTo(39);
        assertThat(Capability.values()).hasSize(41);
        assertThat(Capability.of("bpf")).isEqualTo(CAP_BPF);
        assertThat(Capability.of("cap_net_raw")).isEqualTo(CAP_NET_RAW);
        assertThatThrownBy(() -> Capability.of("warp")).hasMessageContaining("'warp'");
    }

    @Test
    void theEffectiveSetIsReadFromProcStatus() {
        // what setpriv --inh-caps=-all,+bpf,+net_admin,+perfmon,+net_raw --ambient-caps=... leaves
        Capabilities c = Capabilities.parse("Name:\tjava\nCapInh:\t000000c000003000\nCapPrm:\t000000c000003000\n"
                + "CapEff:\t000000c000003000\nCapBnd:\t000000c000003000\n");
        assertThat(c.set()).containsExactly(CAP_NET_ADMIN, CAP_NET_RAW, CAP_PERFMON, CAP_BPF);
        assertThat(c.describe()).isEqualTo("cap_net_admin,cap_net_raw,cap_perfmon,cap_bpf");
        assertThat(c.missing(List.of(CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW))).isEmpty();
        assertThat(c.missing(List.of(CAP_SYS_ADMIN, CAP_BPF))).containsExactly(CAP_SYS_ADMIN);
        assertThatThrownBy(() -> Capabilities.parse("Name:\tjava\n")).hasMessageContaining("CapEff");
        assertThatThrownBy(() -> Capabilities.parse("CapEff:\tzz\n")).hasMessageContaining("'zz'");
    }

    @Test
    void rootWithoutSysResourceIsAllButIt() {
        // the restricted machines of this project: root, CapEff 000001fffeffffff
        Capabilities c = Capabilities.parse("CapEff:\t000001fffeffffff\n");
        assertThat(c.describe()).isEqualTo("all but cap_sys_resource");
        assertThat(c.has(CAP_SYS_RESOURCE)).isFalse();
        assertThat(Capabilities.parse("CapEff:\t000001ffffffffff\n").full()).isTrue();
        assertThat(Capabilities.parse("CapEff:\t000001ffffffffff\n").describe()).isEqualTo("all");
        assertThat(new Capabilities(0).describe()).isEqualTo("none");
    }

    @Test
    void sysAdminPassesTheChecksOfBpfAndPerfmon() {
        // bpf_capable() and perfmon_capable() accept CAP_SYS_ADMIN; kernels before 5.8 know only it
        Capabilities old = Capabilities.of(List.of(CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW));
        assertThat(old.has(CAP_BPF)).isFalse();
        assertThat(old.allows(CAP_BPF)).isTrue();
        assertThat(old.allows(CAP_PERFMON)).isTrue();
        assertThat(old.missing(List.of(CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW))).isEmpty();
        assertThat(Capabilities.of(List.of(CAP_BPF)).allows(CAP_NET_ADMIN)).isFalse();
    }

    @Test
    void aMissingCapabilityIsNamedWithTheEffectiveSetAndTheHint() {
        Capabilities c = Capabilities.of(List.of(CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW));
        List<Capability> needed = List.of(CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW);
        MissingCapabilityException e = new MissingCapabilityException("jvisord", needed, c.missing(needed), c,
                "grant them");
        assertThat(e.missing()).containsExactly(CAP_BPF);
        assertThat(e.getMessage()).isEqualTo("jvisord needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW; "
                + "this process lacks CAP_BPF (effective: cap_net_admin,cap_net_raw,cap_perfmon). grant them");
    }

    @Test
    void thisProcessHasAnEffectiveSet() {
        Capabilities c = Capabilities.current();
        assertThat(c.toString()).matches("[0-9a-f]{16} \\(.+\\)");
    }
}

package io.jvisor.bpf.features;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parsing and rendering of capability sets: pure, no root. */
class CapabilitiesTest {
    /** A status as /proc/self/status gives it on a machine whose root lacks CAP_SYS_RESOURCE. */
    static final String STATUS = """
            Name:\tjava
            Uid:\t0\t0\t0\t0
            CapInh:\t0000000000000000
            CapPrm:\t000001fffeffffff
            CapEff:\t000001fffeffffff
            CapBnd:\t000001fffeffffff
            CapAmb:\t0000000000000000
            """;

    @Test
    void rootWithoutSysResourceIsReadFromTheStatus() {
        Capabilities c = Capabilities.parseStatus(STATUS, 40);
        assertThat(c.hex()).isEqualTo("000001fffeffffff");
        assertThat(c.full()).isFalse();
        assertThat(c.missing()).containsExactly("CAP_SYS_RESOURCE");
        assertThat(c.has(Capability.BPF)).isTrue();
        assertThat(c.has(Capability.SYS_RESOURCE)).isFalse();
        assertThat(c.present()).hasSize(40).doesNotContain(Capability.SYS_RESOURCE);
        assertThat(c.permissionHint()).contains("has CAP_BPF and CAP_NET_ADMIN").doesNotContain("run as root");
    }

    @Test
    void theFullSetMissesNothing() {
        Capabilities c = Capabilities.ofHex("1ffffffffff", 40);
        assertThat(c.full()).isTrue();
        assertThat(c.missing()).isEmpty();
        assertThat(c.render()).contains("(41 of 41)").contains("missing: none (the full set)");
    }

    @Test
    void capabilitiesBeyondThoseThisEnumKnowsAreNamedByNumber() {
        Capabilities c = Capabilities.ofHex("1ffffffffff", 41);
        assertThat(c.missing()).containsExactly("CAP_41");
    }

    @Test
    void capSysAdminStandsInForTheBpfCapabilities() {
        Capabilities sysAdminOnly = Capabilities.ofHex(Long.toHexString(1L << Capability.SYS_ADMIN.number()), 40);
        assertThat(sysAdminOnly.has(Capability.BPF)).isFalse();
        assertThat(sysAdminOnly.bpfAllows(Capability.BPF)).isTrue();
        assertThat(sysAdminOnly.bpfAllows(Capability.NET_ADMIN)).isTrue();
        assertThat(sysAdminOnly.bpfAllows(Capability.NET_RAW)).isFalse();
        Capabilities none = Capabilities.ofHex("0", 40);
        assertThat(none.lacking(Capabilities.BPF_RELATED)).containsExactly("CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON",
                "CAP_SYS_ADMIN");
        assertThat(none.permissionHint()).contains("grant CAP_BPF").contains("lacks CAP_BPF and CAP_NET_ADMIN");
    }

    @Test
    void renderNamesTheMissingAndTheBpfCapabilities() {
        String text = Capabilities.parseStatus(STATUS, 40).render();
        assertThat(text).contains("Capabilities: 000001fffeffffff (40 of 41)").contains("missing: CAP_SYS_RESOURCE")
                .contains("CAP_BPF yes").contains("CAP_NET_ADMIN yes").contains("CAP_PERFMON yes")
                .contains("CAP_SYS_ADMIN yes");
        String noBpf = Capabilities.ofHex(Long.toHexString(0x1fffeffffffL & ~(1L << 39) & ~(1L << 21)), 40).render();
        assertThat(noBpf).contains("CAP_BPF no").contains("CAP_SYS_ADMIN no")
                .contains("missing: CAP_SYS_ADMIN CAP_SYS_RESOURCE CAP_BPF");
    }

    @Test
    void malformedStatusIsRefused() {
        assertThatThrownBy(() -> Capabilities.parseStatus("Name:\tx\n", 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CapEff");
        assertThatThrownBy(() -> Capabilities.parseStatus("CapEff:\tzz\n", 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zz");
        assertThatThrownBy(() -> Capabilities.ofHex("1", 64)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void capabilityNamesRoundTrip() {
        assertThat(Capability.BPF.number()).isEqualTo(39);
        assertThat(Capability.SYS_RESOURCE.number()).isEqualTo(24);
        assertThat(Capability.CHECKPOINT_RESTORE.number()).isEqualTo(40);
        assertThat(Capability.parse("cap_net_admin")).isEqualTo(Capability.NET_ADMIN);
        assertThat(Capability.parse("BPF").capName()).isEqualTo("CAP_BPF");
        assertThat(Capability.of(41)).isNull();
    }

    @Test
    void bitsAreTheKernels() {
        assertThat(Capability.NET_ADMIN.number()).isEqualTo(12);
        assertThat(Capability.NET_RAW.number()).isEqualTo(13);
        assertThat(Capability.SYS_ADMIN.number()).isEqualTo(21);
        assertThat(Capability.SYS_RESOURCE.number()).isEqualTo(24);
        assertThat(Capability.PERFMON.number()).isEqualTo(38);
        assertThat(Capability.BPF.number()).isEqualTo(39);
        assertThat(Capability.values()).hasSize(41);
        assertThat(Capability.parse("bpf")).isEqualTo(Capability.BPF);
        assertThat(Capability.parse("cap_net_raw")).isEqualTo(Capability.NET_RAW);
        assertThatThrownBy(() -> Capability.parse("warp")).hasMessageContaining("'warp'");
    }

    @Test
    void aReducedSetIsReadAndDescribed() {
        // what setpriv --inh-caps=-all,+bpf,+net_admin,+perfmon,+net_raw --ambient-caps=... leaves
        Capabilities c = Capabilities.parseStatus("Name:\tjava\nCapInh:\t000000c000003000\nCapPrm:\t000000c000003000\n"
                + "CapEff:\t000000c000003000\nCapBnd:\t000000c000003000\n", 40);
        assertThat(c.set()).containsExactly(Capability.NET_ADMIN, Capability.NET_RAW, Capability.PERFMON,
                Capability.BPF);
        assertThat(c.describe()).isEqualTo("cap_net_admin,cap_net_raw,cap_perfmon,cap_bpf");
        assertThat(c.missing(List.of(Capability.BPF, Capability.NET_ADMIN, Capability.PERFMON, Capability.NET_RAW)))
                .isEmpty();
        assertThat(c.missing(List.of(Capability.SYS_ADMIN, Capability.BPF))).containsExactly(Capability.SYS_ADMIN);
        assertThatThrownBy(() -> Capabilities.parseStatus("Name:\tjava\n", 40)).hasMessageContaining("CapEff");
        assertThatThrownBy(() -> Capabilities.parseStatus("CapEff:\tzz\n", 40)).hasMessageContaining("'zz'");
        assertThat(Capabilities.parseStatus("CapEff:\t000001fffeffffff\n", 40).describe())
                .isEqualTo("all but cap_sys_resource");
        assertThat(Capabilities.parseStatus("CapEff:\t000001ffffffffff\n", 40).describe()).isEqualTo("all");
        assertThat(new Capabilities(0, 40).describe()).isEqualTo("none");
    }

    @Test
    void sysAdminPassesTheChecksOfBpfAndPerfmonButNotOfNetlink() {
        // bpf_capable() and perfmon_capable() accept CAP_SYS_ADMIN; kernels before 5.8 know only it
        Capabilities old = Capabilities.of(List.of(Capability.SYS_ADMIN, Capability.NET_RAW));
        assertThat(old.has(Capability.BPF)).isFalse();
        assertThat(old.allows(Capability.BPF)).isTrue();
        assertThat(old.allows(Capability.PERFMON)).isTrue();
        assertThat(old.allows(Capability.NET_ADMIN)).as("rtnetlink checks CAP_NET_ADMIN itself").isFalse();
        assertThat(old.bpfAllows(Capability.NET_ADMIN)).as("inside bpf() CAP_SYS_ADMIN stands in").isTrue();
        assertThat(Capabilities.of(List.of(Capability.BPF)).allows(Capability.NET_ADMIN)).isFalse();
    }

    @Test
    void aMissingCapabilityIsNamedWithTheEffectiveSetAndTheHint() {
        Capabilities c = new Capabilities(Capabilities.of(
                List.of(Capability.NET_ADMIN, Capability.PERFMON, Capability.NET_RAW)).effective(), 40);
        List<Capability> needed = List.of(Capability.BPF, Capability.NET_ADMIN, Capability.PERFMON, Capability.NET_RAW);
        MissingCapabilityException e = new MissingCapabilityException("jvisord", needed, c.missing(needed), c,
                "grant them");
        assertThat(e.missing()).containsExactly(Capability.BPF);
        assertThat(e.getMessage()).isEqualTo("jvisord needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW; "
                + "this process lacks CAP_BPF (effective: cap_net_admin,cap_net_raw,cap_perfmon). grant them");
    }
}

package io.jvisor.bpf.features;

import org.junit.jupiter.api.Test;

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
        assertThat(sysAdminOnly.allows(Capability.BPF)).isTrue();
        assertThat(sysAdminOnly.allows(Capability.NET_ADMIN)).isTrue();
        assertThat(sysAdminOnly.allows(Capability.NET_RAW)).isFalse();
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
}

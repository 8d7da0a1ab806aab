package io.jvisor.server;

import io.jvisor.bpf.features.Capabilities;
import io.jvisor.bpf.features.Capability;
import io.jvisor.bpf.features.MissingCapabilityException;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestProblem;
import io.jvisor.server.manifest.ManifestReader;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.jvisor.bpf.features.Capability.BPF;
import static io.jvisor.bpf.features.Capability.DAC_OVERRIDE;
import static io.jvisor.bpf.features.Capability.SYS_ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Which capability set runs what: pure, no root (LeastPrivilegeTest runs the daemon with them). */
class DaemonCapabilitiesTest {
    private static final Manifest LAB_AND_NETNS = ManifestReader.read("""
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: caps}
            spec:
              hosts:
                - {name: a, interfaces: [{name: eth0, addresses: [10.0.0.1/24]}]}
              instances:
                - {name: br, type: bridge}
              attachments:
                - {port: br:0, host: a:eth0}
                - {port: br:1, device: eth1}
                - {port: br:2, device: veth0, netns: ns1}
            """);

    private static Capabilities engine() {
        return Capabilities.of(DaemonCapabilities.ENGINE);
    }

    private static Capabilities engineAnd(Capability... more) {
        List<Capability> caps = new ArrayList<>(DaemonCapabilities.ENGINE);
        caps.addAll(List.of(more));
        return Capabilities.of(caps);
    }

    @Test
    void theEngineSetStartsTheDaemonAndOneLessDoesNot() {
        assertThatCode(() -> DaemonCapabilities.requireEngine(engine())).doesNotThrowAnyException();
        assertThatCode(() -> DaemonCapabilities.requireEngine(new Capabilities(-1L, Capabilities.kernelLastCap()))).doesNotThrowAnyException();
        List<Capability> noBpf = new ArrayList<>(DaemonCapabilities.ENGINE);
        noBpf.remove(BPF);
        MissingCapabilityException e = catchThrowableOfType(MissingCapabilityException.class,
                () -> DaemonCapabilities.requireEngine(Capabilities.of(noBpf)));
        assertThat(e.missing()).containsExactly(BPF);
        assertThat(e.getMessage()).startsWith("jvisord needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW; "
                + "this process lacks CAP_BPF (effective: cap_net_admin,cap_net_raw,cap_perfmon)")
                .contains("AmbientCapabilities=CAP_BPF CAP_NET_ADMIN CAP_PERFMON CAP_NET_RAW");
    }

    @Test
    void withoutSysAdminLabHostsAndNamespacedDevicesAreRefusedByField() {
        List<ManifestProblem> p = DaemonCapabilities.namespaceProblems(LAB_AND_NETNS, engine(), 0, true);
        assertThat(p).extracting(ManifestProblem::field).containsExactly("spec.hosts", "spec.attachments[2].netns");
        assertThat(p.get(0).reason()).contains("needs CAP_SYS_ADMIN,").doesNotContain("CAP_DAC_OVERRIDE")
                .contains("effective: cap_net_admin,cap_net_raw,cap_perfmon,cap_bpf");
        assertThat(p.get(1).value()).isEqualTo("ns1");
        assertThat(p.get(1).reason()).contains("CAP_SYS_ADMIN");
        // a lab that exists already (the same hosts re-applied) is not created again
        assertThat(DaemonCapabilities.namespaceProblems(LAB_AND_NETNS, engine(), 0, false))
                .extracting(ManifestProblem::field).containsExactly("spec.attachments[2].netns");
    }

    @Test
    void asAnotherUserALabAlsoNeedsDacOverrideForRunNetns() {
        List<ManifestProblem> p = DaemonCapabilities.namespaceProblems(LAB_AND_NETNS, engineAnd(SYS_ADMIN), 999,
                true);
        assertThat(p).hasSize(1);
        assertThat(p.get(0).field()).isEqualTo("spec.hosts");
        assertThat(p.get(0).reason()).contains("needs CAP_DAC_OVERRIDE,").contains("uid 999");
        assertThat(DaemonCapabilities.namespaceProblems(LAB_AND_NETNS, engineAnd(SYS_ADMIN, DAC_OVERRIDE),
                999, true)).isEmpty();
        assertThat(DaemonCapabilities.namespaceProblems(LAB_AND_NETNS, engineAnd(SYS_ADMIN), 0, true)).isEmpty();
    }
}

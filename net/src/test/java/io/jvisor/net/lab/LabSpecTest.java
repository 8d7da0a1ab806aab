package io.jvisor.net.lab;

import io.jvisor.net.IpPrefix;
import io.jvisor.net.MacAddress;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The lab description: YAML in and out, and errors that name the field. No kernel involved. */
class LabSpecTest {
    private static final String YAML = """
            bridges: [br0]
            hosts:
              - name: h1
                interfaces:
                  - name: eth0
                    mac: 12:34:56:00:00:01
                    addresses: [10.9.8.1/24, "fd00:9::1/64"]
                    mtu: 1400
                gateway: 10.9.8.254
                gateway6: fd00:9::fe
                sysctls: {net.ipv4.ip_forward: 1}
              - name: h2
                interfaces: [{name: eth0, addresses: [10.9.8.2/24]}, {name: eth1, addresses: [10.9.9.2/24]}]
              - name: h3
                interfaces: [{name: eth1, addresses: [10.9.9.3/24]}]
            wires:
              - {a: h1:eth0, b: p1, bridge: br0}
              - {a: h2:eth0, b: p2, bridge: br0}
              - a: h2:eth1
                b: h3:eth1
            """;

    @Test
    void readsYaml() {
        LabSpec spec = LabSpec.fromYaml(YAML);
        assertThat(spec.bridges()).containsExactly("br0");
        HostSpec h1 = spec.host("h1");
        InterfaceSpec eth0 = h1.iface("eth0");
        assertThat(eth0.mac()).isEqualTo(MacAddress.parse("12:34:56:00:00:01"));
        assertThat(eth0.addresses()).containsExactly(IpPrefix.parse("10.9.8.1/24"), IpPrefix.parse("fd00:9::1/64"));
        assertThat(eth0.mtu()).isEqualTo(1400);
        assertThat(h1.gateway()).isEqualTo(IpPrefix.literal("10.9.8.254"));
        assertThat(h1.gateway6()).isEqualTo(IpPrefix.literal("fd00:9::fe"));
        assertThat(h1.sysctls()).containsEntry("net.ipv4.ip_forward", "1");
        assertThat(spec.wires()).hasSize(3);
        assertThat(spec.wires().get(0).b().isRoot()).isTrue();
        assertThat(spec.wires().get(0).bridge()).isEqualTo("br0");
        assertThat(spec.wires().get(2).b().host()).isEqualTo("h3");
    }

    @Test
    void yamlRoundTrip() {
        LabSpec spec = LabSpec.fromYaml(YAML);
        assertThat(LabSpec.fromYaml(spec.toYaml())).isEqualTo(spec);
    }

    @Test
    void javaAndYamlDescribeTheSameLab() {
        LabSpec java = LabSpec.empty().withBridge("br0")
                .withHost(HostSpec.named("a").withInterface("eth0", "10.1.1.1/24").withGateway("10.1.1.254"))
                .withHost(HostSpec.named("b").withInterface("eth0", "10.1.1.2/24"))
                .withWire(WireSpec.toRoot("a:eth0", "pa", "br0"))
                .withWire(WireSpec.toRoot("b:eth0", "pb", "br0"));
        LabSpec yaml = LabSpec.fromYaml("""
                bridges: [br0]
                hosts:
                  - {name: a, interfaces: [{name: eth0, addresses: [10.1.1.1/24]}], gateway: 10.1.1.254}
                  - {name: b, interfaces: [{name: eth0, addresses: [10.1.1.2/24]}]}
                wires:
                  - {a: "a:eth0", b: pa, bridge: br0}
                  - {a: "b:eth0", b: pb, bridge: br0}
                """);
        assertThat(yaml).isEqualTo(java.validate());
    }

    @Test
    void errorsNameTheField() {
        assertField(YAML.replace("10.9.8.1/24", "10.9.8/24"), "hosts[0].interfaces[0].addresses[0]");
        assertField(YAML.replace("mac: 12:34:56:00:00:01", "mac: nope"), "hosts[0].interfaces[0].mac");
        assertField(YAML.replace("b: h3:eth1", "b: h4:eth1"), "wires[2].b");
        assertField(YAML.replace("bridge: br0}", "bridge: br9}"), "wires[0].bridge");
        assertField(YAML.replace("gateway: 10.9.8.254", "gatway: 10.9.8.254"), "hosts[0].gatway");
        assertField(YAML.replace("b: p1", "b: averylongname"), "wires[0].b");
        assertField(YAML.replace("- name: h3", "- name: h2"), "hosts[2].name");
        assertField(YAML.replace("  - a: h2:eth1\n    b: h3:eth1\n", ""), "hosts[1].interfaces[1]");
        assertField("hosts: [", "(document)");
    }

    private static void assertField(String yaml, String field) {
        LabSpecException e = catchThrowableOfType(LabSpecException.class, () -> LabSpec.fromYaml(yaml));
        assertThat(e).as("an error for %s", field).isNotNull();
        assertThat(e.field()).isEqualTo(field);
        assertThat(e.getMessage()).startsWith(field + ": ");
    }
}

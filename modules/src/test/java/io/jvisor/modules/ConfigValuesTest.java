package io.jvisor.modules;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shared parsers of configuration values: what they accept, and errors that name the key. */
class ConfigValuesTest {
    @Test
    void addressesPrefixesAndEndpoints() {
        assertThat(ConfigValues.ip("k", "10.1.2.3")).isEqualTo(0x0a010203);
        assertThat(ConfigValues.ipString(0xc0000201)).isEqualTo("192.0.2.1");
        assertThat(ConfigValues.prefix("k", "10.1.2.3/8")).containsExactly(0x0a010203, 8);
        assertThat(ConfigValues.mask(0)).isZero();
        assertThat(ConfigValues.mask(24)).isEqualTo(0xffffff00);
        assertThat(ConfigValues.endpoint("k", "10.0.0.1:80", -1)).containsExactly(0x0a000001, 80);
        assertThat(ConfigValues.endpoint("k", "10.0.0.1", 53)).containsExactly(0x0a000001, 53);
        assertThat(ConfigValues.unicastMac("k", "02:00:0a:0B:c:0", "x"))
                .containsExactly(2, 0, 10, 11, 12, 0);
    }

    @Test
    void badValuesNameTheKeyTheValueAndTheReason() {
        assertThatThrownBy(() -> ConfigValues.ip("port.0", "10.0.0.256"))
                .hasMessage("key 'port.0': '10.0.0.256': not an IPv4 address");
        assertThatThrownBy(() -> ConfigValues.ip("a", "10.0.0")).hasMessageContaining("not an IPv4 address");
        assertThatThrownBy(() -> ConfigValues.prefix("route.1", "10.0.0.0/33"))
                .hasMessage("key 'route.1': '10.0.0.0/33': prefix length must be 0..32");
        assertThatThrownBy(() -> ConfigValues.prefix("r", "10.0.0.0")).hasMessageContaining("expected A.B.C.D/LEN");
        assertThatThrownBy(() -> ConfigValues.endpoint("e", "10.0.0.1:0", -1)).hasMessageContaining("1..65535");
        assertThatThrownBy(() -> ConfigValues.endpoint("e", "10.0.0.1", -1)).hasMessageContaining("A.B.C.D:PORT");
        assertThatThrownBy(() -> ConfigValues.unicastMac("m", "01:00:5e:00:00:01", "must be unicast"))
                .hasMessage("key 'm': '01:00:5e:00:00:01': must be unicast");
        // each byte is one or two hex digits: no silent truncation of 0xfff or sign games
        assertThatThrownBy(() -> ConfigValues.unicastMac("m", "02:00:00:00:00:fff", "u"))
                .hasMessageContaining("not a MAC address");
        assertThatThrownBy(() -> ConfigValues.unicastMac("m", "02:00:00:00:00:-1", "u"))
                .hasMessageContaining("not a MAC address");
    }
}

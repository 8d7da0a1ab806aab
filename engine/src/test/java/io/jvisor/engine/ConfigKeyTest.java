package io.jvisor.engine;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigKeyTest {

    @Test
    void indexPlaceholdersMatchNonNegativeIntegersOnly() {
        ConfigKey k = ConfigKey.optional("port.N.vlan", "1..4094", null, "access VLAN");
        assertThat(k.indexed()).isTrue();
        assertThat(k.matches("port.0.vlan")).isTrue();
        assertThat(k.matches("port.31.vlan")).isTrue();
        assertThat(k.matches("port.-1.vlan")).isFalse();
        assertThat(k.matches("port.x.vlan")).isFalse();
        assertThat(k.matches("port..vlan")).isFalse();
        assertThat(k.matches("port.1.vlan.x")).isFalse();
        assertThat(k.matches("port.1")).isFalse();
        assertThat(k.matches("Port.1.vlan")).isFalse();
        assertThat(k.matches(null)).isFalse();
        assertThat(ConfigKey.optional("route.N", "PREFIX via NEXTHOP", null, "a route").matches("route.10"))
                .isTrue();
    }

    @Test
    void namePlaceholdersMatchNames() {
        ConfigKey k = ConfigKey.optional("backend.NAME.ID", "A.B.C.D", null, "a backend");
        assertThat(k.matches("backend.web.b_1-x")).isTrue();
        assertThat(k.matches("backend.web")).isFalse();
        assertThat(k.matches("backend.we b.1")).isFalse();
        assertThat(k.matches("backends.web.1")).isFalse();
    }

    @Test
    void plainKeysMatchThemselves() {
        ConfigKey k = ConfigKey.optional("fdb.max", "16..1048576", "4096", "FDB capacity");
        assertThat(k.indexed()).isFalse();
        assertThat(k.matches("fdb.max")).isTrue();
        assertThat(k.matches("fdb.maxx")).isFalse();
        assertThat(k.matches("fdb")).isFalse();
        assertThat(ConfigKey.required("mac", "XX:XX:XX:XX:XX:XX", "the MAC").required()).isTrue();
    }

    @Test
    void badDeclarationsAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> ConfigKey.optional("port..vlan", "1..4094", null, "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port..vlan");
        assertThatThrownBy(() -> ConfigKey.optional("a b", "1..4094", null, "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a b");
        assertThatThrownBy(() -> ConfigKey.optional("k", " ", null, "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'k' needs a syntax");
        assertThatThrownBy(() -> ConfigKey.optional("k", "1..2", null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'k' needs a description");
    }

    @Test
    void typesDeclareNoKeysByDefaultAndKeepTheirValidation() {
        ModuleType t = ModuleType.fromSource("plain", "int x;");
        assertThat(t.configKeys()).isEmpty();
        assertThat(t.validateConfig(Map.of())).isNull();
        assertThat(t.validateConfig(Map.of("k", "v"))).contains("takes no configuration");
    }
}

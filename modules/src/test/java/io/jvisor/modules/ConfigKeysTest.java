package io.jvisor.modules;

import io.jvisor.engine.ConfigKey;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleType;
import io.jvisor.modules.bridge.Bridge;
import io.jvisor.modules.capture.CaptureConfig;
import io.jvisor.modules.capture.CaptureModule;
import io.jvisor.modules.ddos.DdosConfig;
import io.jvisor.modules.ddos.DdosModule;
import io.jvisor.modules.firewall.FirewallConfig;
import io.jvisor.modules.firewall.FirewallModule;
import io.jvisor.modules.lb.LbConfig;
import io.jvisor.modules.lb.LbModule;
import io.jvisor.modules.nat.NatConfig;
import io.jvisor.modules.nat.NatModule;
import io.jvisor.modules.router.RouterConfig;
import io.jvisor.modules.router.RouterModule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration keys each standard module declares ({@link ModuleType#configKeys()}) are exactly
 * the keys its {@code validateConfig} accepts: a valid example of every declared key is accepted,
 * every key of every example is declared, each declared default parses to the same configuration as
 * the key's absence, and keys outside the declaration are refused.
 */
class ConfigKeysTest {

    /**
     * A module, how its configuration parses (to compare defaults with absence), and for each declared
     * pattern a valid configuration using it (with the other keys it needs).
     */
    record Case(ModuleType type, Function<Map<String, String>, Object> parse, Map<String, Map<String, String>> examples) {
        @Override
        public String toString() {
            return type.name();
        }
    }

    static Stream<Case> modules() {
        return Stream.of(
                new Case(new Bridge(), ConfigKeysTest::bridgeParse, examples(
                        "agingSeconds", "60",
                        "fdb.max", "1024",
                        "port.N.vlan", Map.of("port.3.vlan", "10"),
                        "port.N.trunk", Map.of("port.4.trunk", "10,20"),
                        "port.N.native", Map.of("port.4.trunk", "10,20", "port.4.native", "10"))),
                new Case(new RouterModule(), c -> RouterConfig.parse(c), examples(
                        "port.N", Map.of("port.0", "10.0.1.1/24 mac 02:00:00:00:00:01"),
                        "route.N", Map.of("port.0", "10.0.1.1/24", "route.7", "10.9.0.0/16 via 10.0.1.254 metric 5"),
                        "neighbour.timeout", "60")),
                new Case(new FirewallModule(), c -> FirewallConfig.parse(c), examples(
                        "egress.N", Map.of("egress.10", "accept proto tcp dst 10.0.0.5/32 dport 22 flags syn,!ack"),
                        "ingress.N", Map.of("ingress.20", "drop log proto udp sport 0-1023"),
                        "egress.policy", "drop",
                        "ingress.policy", "drop log",
                        "timeout.tcp.syn", "30",
                        "timeout.tcp.established", "3600",
                        "timeout.tcp.fin", "60",
                        "timeout.tcp.close", "5",
                        "timeout.udp", "20",
                        "timeout.icmp", "20")),
                new Case(new NatModule(), c -> NatConfig.parse(c), examples(
                        "snat.N", Map.of("snat.0", "10.0.0.0/8 to 192.0.2.1"),
                        "dnat.N", Map.of("dnat.1", "tcp 192.0.2.1:8080 to 10.0.0.5:80"),
                        "ports", "20000-30000",
                        "timeout.tcp", "600",
                        "timeout.tcp.closed", "5",
                        "timeout.udp", "60",
                        "timeout.icmp", "10")),
                new Case(new LbModule(), c -> LbConfig.parse(c), examples(
                        "service.NAME", Map.of("service.web", "tcp 10.0.0.100:80"),
                        "backend.NAME.ID", Map.of("service.web", "tcp 10.0.0.100:80",
                                "backend.web.b-1", "10.0.1.1:8080 weight 2 draining"),
                        "table.size", "251",
                        "dsr.source", Map.of("dsr.source", "10.0.0.1", "service.d", "udp 10.0.0.101:53 mode dsr"),
                        "mac", "02:00:00:00:00:aa")),
                new Case(new DdosModule(), c -> DdosConfig.parse(c), examples(
                        "block.src", "192.0.2.0/24, 198.51.100.7",
                        "block.dst", "10.0.0.1/32",
                        "rate.pps", "1000",
                        "rate.burst", Map.of("rate.pps", "1000", "rate.burst", "50"),
                        "ports", "0,1",
                        "blocklist.max", "1024",
                        "sources.max", "4096")),
                new Case(new CaptureModule(), c -> CaptureConfig.parse(c), examples(
                        "snaplen", "128",
                        "ports", "1",
                        "filter.proto", "udp",
                        "filter.src", "10.0.0.0/24",
                        "filter.dst", "10.0.0.7",
                        "filter.sport", Map.of("filter.proto", "tcp", "filter.sport", "1234"),
                        "filter.dport", Map.of("filter.proto", "tcp", "filter.dport", "80"),
                        "filter.both-ways", "true",
                        "ring.size", "1048576")));
    }

    /**
     * Pattern, example pairs. An example is a configuration, or a value: the configuration of the
     * pattern itself (a plain key) with that value.
     */
    private static Map<String, Map<String, String>> examples(Object... kv) {
        Map<String, Map<String, String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            String pattern = (String) kv[i];
            if (kv[i + 1] instanceof String value) {
                m.put(pattern, Map.of(pattern, value));
            } else {
                @SuppressWarnings("unchecked")
                Map<String, String> v = (Map<String, String>) kv[i + 1];
                m.put(pattern, v);
            }
        }
        return m;
    }

    private static Object bridgeParse(Map<String, String> c) {
        try {
            Method m = Bridge.class.getDeclaredMethod("parse", Map.class);
            m.setAccessible(true);
            return List.of(m.invoke(null, c), Bridge.fdbSize(c));
        } catch (InvocationTargetException e) {
            throw (RuntimeException) e.getCause();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void everyDeclaredKeyHasAnAcceptedExample(Case c) {
        List<ConfigKey> keys = c.type().configKeys();
        assertThat(keys).as("declared keys").isNotEmpty();
        assertThat(keys.stream().map(ConfigKey::pattern).toList())
                .as("the declared patterns are those the test has examples for")
                .containsExactlyInAnyOrderElementsOf(c.examples().keySet());
        for (ConfigKey k : keys) {
            Map<String, String> example = c.examples().get(k.pattern());
            assertThat(example.keySet()).as(k.pattern() + "'s example uses it").anyMatch(k::matches);
            assertThat(c.type().validateConfig(example)).as("validateConfig(" + example + ")").isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void everyKeyOfAnExampleIsDeclaredOnce(Case c) {
        for (Map<String, String> example : c.examples().values()) {
            for (String key : example.keySet()) {
                assertThat(c.type().configKeys().stream().filter(k -> k.matches(key)).toList())
                        .as("declared patterns matching " + key).hasSize(1);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void declaredDefaultsAreTheDefaults(Case c) {
        Object none = c.parse().apply(Map.of());
        for (ConfigKey k : c.type().configKeys()) {
            if (k.defaultValue() == null) {
                continue;
            }
            assertThat(k.indexed()).as(k.pattern() + " has a default, so it is a single key").isFalse();
            Map<String, String> withDefault = Map.of(k.pattern(), k.defaultValue());
            assertThat(c.type().validateConfig(withDefault)).as("validateConfig(" + withDefault + ")").isNull();
            assertThat(c.parse().apply(withDefault)).as(k.pattern() + "=" + k.defaultValue() + " is the default")
                    .isEqualTo(none);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void undeclaredKeysAreRefused(Case c) {
        for (String key : List.of("no.such.key", "x", "timeouts")) {
            assertThat(c.type().configKeys()).noneMatch(k -> k.matches(key));
            assertThat(c.type().validateConfig(Map.of(key, "1"))).as(key).isNotNull().contains(key);
        }
        for (ConfigKey k : c.type().configKeys()) {
            if (!k.indexed()) {
                continue;
            }
            // an indexed key whose index is not a number, or whose name has a character names cannot
            // have, is neither declared nor accepted
            Map<String, String> example = new HashMap<>(c.examples().get(k.pattern()));
            String key = example.keySet().stream().filter(k::matches).findFirst().orElseThrow();
            String[] p = k.pattern().split("\\.");
            String[] w = key.split("\\.");
            for (int i = 0; i < p.length; i++) {
                if (p[i].equals("N")) {
                    w[i] = "x";
                } else if (p[i].matches("[A-Z]+")) {
                    w[i] = w[i] + "+";
                }
            }
            String bad = String.join(".", w);
            example.put(bad, example.remove(key));
            assertThat(c.type().configKeys()).noneMatch(d -> d.matches(bad));
            assertThat(c.type().validateConfig(example)).as(bad).isNotNull().contains(bad);
        }
    }

    @Test
    void theStandardTypesAllDeclareKeys() {
        Map<String, ModuleType> all = ModuleCatalog.discover().all();
        for (String name : List.of("bridge", "router", "firewall", "nat", "lb", "ddos", "capture")) {
            assertThat(all.get(name)).as(name).isNotNull();
            assertThat(all.get(name).configKeys()).as(name).isNotEmpty();
        }
    }

    @Test
    void patternsMatchTheirInstances() {
        ConfigKey vlan = ConfigKey.optional("port.N.vlan", "1..4094", null, "access VLAN");
        assertThat(vlan.matches("port.3.vlan")).isTrue();
        assertThat(vlan.matches("port.x.vlan")).isFalse();
        assertThat(vlan.matches("port.3")).isFalse();
        assertThat(vlan.matches("port.3.vlan.x")).isFalse();
        ConfigKey backend = ConfigKey.optional("backend.NAME.ID", "A.B.C.D", null, "a backend");
        assertThat(backend.matches("backend.web.b-1")).isTrue();
        assertThat(backend.matches("backend.web")).isFalse();
        assertThat(backend.indexed()).isTrue();
        assertThat(ConfigKey.optional("fdb.max", "16..", "4096", "size").indexed()).isFalse();
    }
}

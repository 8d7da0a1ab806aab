package io.jvisor.cli;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.BadManifests;
import io.jvisor.server.Daemon;
import io.jvisor.server.ServerTestBed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad topology files and bad arguments through the real entry point, with a daemon running (the CLI
 * finds it in the state directory): each ends with a non-zero exit and a message naming the problem;
 * the daemon's state and pins are unchanged and it stays up.
 */
@RequiresRoot
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    ServerTestBed bed;
    Daemon daemon;
    List<String> engine;
    Path dir;

    @BeforeAll
    void start() throws Exception {
        bed = new ServerTestBed("jvb");
        daemon = Daemon.start(bed.daemonOptions());
        engine = List.of("--engine", bed.options.name(), "--state-dir", bed.options.stateDir().toString());
        dir = Files.createTempDirectory("jvisor-bad-input");
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, """
                apiVersion: jvisor.io/v1
                kind: Topology
                metadata: {name: good}
                spec:
                  instances:
                    - {name: b1, type: bridge}
                    - {name: r1, type: router, config: {port.0: 10.79.1.1/24}}
                  connections: [{a: b1:0, b: r1:0}]
                """);
        CliRun r = CliRun.run(engine, "apply", "-f", good.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).contains("daemon at unix:" + bed.socketPath());
    }

    @AfterAll
    void stop() throws Exception {
        try {
            daemon.controller().destroy();
            daemon.close();
        } finally {
            bed.close();
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyBadFileExitsNonZeroNamingTheProblem() {
        return BadManifests.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Path f = dir.resolve(c.name());
            Files.writeString(f, c.text());
            Map<String, String> before = bed.snapshot();
            CliRun r = CliRun.run(engine, "apply", "-f", f.toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(65);
            assertThat(c.matches(r.err())).as("%s names %s | %s:%n%s", c.name(), c.field(), c.fragment(), r).isTrue();
            assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(bed.snapshot()).isEqualTo(before);
            assertThat(CliRun.run(engine, "get", "instances").exit()).isZero();
        }));
    }

    @Test
    void conventionalExitCodes() {
        assertThat(CliRun.run(engine, "apply", "-f", dir.resolve("missing.yaml").toString()).exit()).isEqualTo(66);
        assertThat(CliRun.run("apply").exit()).as("no -f").isEqualTo(2);
        assertThat(CliRun.run(engine, "get", "teapots").exit()).isEqualTo(2);
        CliRun r = CliRun.run(engine, "add", "router", "r9", "port.0=10.0.0.1/33");
        assertThat(r.exit()).isEqualTo(65);
        assertThat(r.err()).contains("spec.instances[2].config.port.0: \"10.0.0.1/33\": prefix length must be 0..32");
        CliRun c = CliRun.run(engine, "connect", "b1:1", "ghost:0");
        assertThat(c.exit()).isEqualTo(65);
        assertThat(c.err()).contains("no instance named 'ghost'");
        CliRun t = CliRun.run(engine, "table", "b1", "../../etc/passwd", "list");
        assertThat(t.exit()).isNotZero();
        assertThat(t.err()).contains("table");
        CliRun k = CliRun.run(engine, "table", "b1", "fdb_static", "set", "zz", "00");
        assertThat(k.exit()).isEqualTo(65);
        assertThat(k.err()).contains("key").contains("not hex bytes");
        CliRun v = CliRun.run(engine, "table", "b1", "fdb_static", "set", "0200000000090100", "{\"port\": -1}");
        assertThat(v.exit()).isEqualTo(65);
        assertThat(v.err()).contains("value.port").contains("-1 is out of range 0..4294967295");
        CliRun j = CliRun.run(engine, "table", "b1", "fdb_static", "set", "0200000000090100", "{\"port\": ");
        assertThat(j.exit()).isEqualTo(2);
        assertThat(j.err()).contains("VALUE is not JSON");
        CliRun x = CliRun.run("lab", "exec", engine.get(0), engine.get(1), engine.get(2), engine.get(3), "nohost", "--",
                "true");
        assertThat(x.exit()).isEqualTo(1);
        assertThat(x.err()).contains("no lab host 'nohost'");
        CliRun d = CliRun.run(engine, "down", "other-name");
        assertThat(d.exit()).isEqualTo(1);
        assertThat(d.err()).contains("topology 'other-name' is not applied");
    }

    @Test
    void aDaemonThatDoesNotAnswerIsReportedNotBypassed() throws Exception {
        Path state = dir.resolve("silent-state");
        Files.createDirectories(state);
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again at once: nothing listens there
        }
        Files.writeString(state.resolve(Daemon.ENDPOINT_FILE), "{\"url\": \"http://127.0.0.1:" + port + "\", \"pid\": "
                + ProcessHandle.current().pid() + ", \"engine\": \"silent\", \"token\": false}");
        CliRun r = CliRun.run("get", "instances", "--engine", io.jvisor.bpf.testing.Names.unique("jvs"), "--state-dir",
                state.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(69);
        assertThat(r.err()).contains("does not answer at http://127.0.0.1:" + port);
        assertThat(Files.list(state).map(p -> p.getFileName().toString()).toList()).containsExactly(Daemon.ENDPOINT_FILE);
    }

    @Test
    void helpHasExamplesAndCompletionIsGenerated() {
        CliRun help = CliRun.run("apply", "--help");
        assertThat(help.out()).contains("Examples:").contains("--dry-run").contains("--output");
        CliRun completion = CliRun.run("completion");
        assertThat(completion.exit()).isZero();
        assertThat(completion.out()).contains("complete -F").contains("jvisor").contains("apply");
        CliRun types = CliRun.run(engine, "get", "types");
        assertThat(types.out()).contains("bridge").contains("router");
    }

    @Test
    void typesShowTheirConfigKeys() throws Exception {
        CliRun table = CliRun.run(engine, "get", "types");
        assertThat(table.exit()).as(table.toString()).isZero();
        assertThat(table.out()).contains("CONFIG").doesNotContain("free-form");
        assertThat(table.out().lines().filter(l -> l.startsWith("router")).findFirst().orElseThrow())
                .contains("3 keys: port.N, route.N, neighbour.timeout");
        assertThat(table.out().lines().filter(l -> l.startsWith("firewall")).findFirst().orElseThrow())
                .contains("10 keys: egress.N, ingress.N, egress.policy, ingress.policy, ...");
        CliRun describe = CliRun.run(engine, "describe", "type", "router");
        assertThat(describe.exit()).as(describe.toString()).isZero();
        var yaml = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        var keys = yaml.readTree(describe.out()).path("configSchema").path("keys");
        assertThat(keys.findValuesAsText("pattern")).containsExactly("port.N", "route.N", "neighbour.timeout");
        assertThat(keys.get(1).path("syntax").asText()).isEqualTo("A.B.C.D/LEN via A.B.C.D [metric M]");
        assertThat(keys.get(1).path("description").asText()).contains("next hop");
        assertThat(keys.get(2).path("default").asText()).isEqualTo("300");
        CliRun json = CliRun.run(engine, "get", "type", "bridge", "-o", "json");
        assertThat(DaemonClient.JSON.readTree(json.out()).path("configSchema").path("keys")
                .findValuesAsText("pattern")).contains("port.N.vlan", "port.N.trunk", "port.N.native", "fdb.max");
    }
}

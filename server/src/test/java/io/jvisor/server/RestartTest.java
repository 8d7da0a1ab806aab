package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.Netns;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemon is killed with SIGKILL while a UDP stream crosses bridge, router and bridge; a new
 * daemon restores the topology by adopting the pinned kernel objects, and the stream loses nothing.
 */
@RequiresRoot
class RestartTest {
    static final String TOPOLOGY = """
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: restart}
            spec:
              hosts:
                - name: a
                  interfaces: [{name: eth0, addresses: [10.78.1.10/24]}]
                  gateway: 10.78.1.1
                  sysctls: {net.ipv6.conf.all.disable_ipv6: 1}
                - name: b
                  interfaces: [{name: eth0, addresses: [10.78.2.10/24]}]
                  gateway: 10.78.2.1
                  sysctls: {net.ipv6.conf.all.disable_ipv6: 1}
              instances:
                - {name: br1, type: bridge}
                - {name: br2, type: bridge}
                - {name: r1, type: router, config: {port.0: 10.78.1.1/24, port.1: 10.78.2.1/24}}
              connections:
                - {a: br1:1, b: r1:0}
                - {a: br2:1, b: r1:1}
              attachments:
                - {port: br1:0, host: a:eth0}
                - {port: br2:0, host: b:eth0}
            """;

    /** A daemon process; {@code where} is what it printed after LISTENING ({@code unix:PATH}). */
    record Child(Process process, String where, StringBuilder log) {}

    static Child startDaemon(ServerTestBed bed) throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                DaemonMain.class.getName(), bed.options.name(), bed.options.stateDir().toString(),
                bed.socketPath().toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder log = new StringBuilder();
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("LISTENING ")) {
            log.append(line).append('\n');
        }
        assertThat(line).as("the daemon came up:\n" + log).isNotNull();
        // keep draining its output so that it never blocks on a full pipe
        Thread.ofPlatform().daemon().start(() -> {
            try {
                for (String l; (l = out.readLine()) != null; ) {
                    synchronized (log) {
                        log.append(l).append('\n');
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        return new Child(p, line.substring("LISTENING ".length()), log);
    }

    @Test
    void killedDaemonRestartsAndTrafficNeverStops() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvrs")) {
            Child first = startDaemon(bed);
            Child second = null;
            try {
                Http http = Http.socket(bed.socketPath());
                Http.Response r = http.yaml("PUT", "/v1/topology", TOPOLOGY);
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                JsonNode status = http.get("/v1/status").json();
                bed.lab(status.path("labPrefix").asText());
                String nsA = status.path("hostNamespaces").path("a").asText();
                String nsB = status.path("hostNamespaces").path("b").asText();
                InetAddress addrA = IpPrefix.parse("10.78.1.10/24").address();
                InetAddress addrB = IpPrefix.parse("10.78.2.10/24").address();
                try (Netns a = Netns.open(nsA); Netns b = Netns.open(nsB)) {
                    Ping.run(a, addrB, 2); // the router resolves its neighbours (ARP in its control plane)
                    assertThat(Ping.run(a, addrB, 2).allReplied()).isTrue();
                    try (UdpStream udp = UdpStream.open(a, addrA, b, addrB)) {
                        udp.start(2000);
                        Thread.sleep(1000);
                        first.process().destroyForcibly(); // SIGKILL: no shutdown hook, no clean-up
                        assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
                        long sentWhileDown = udp.sent();
                        second = startDaemon(bed);
                        // the killed daemon left its socket behind; the new one replaced it
                        assertThat(second.where()).isEqualTo("unix:" + bed.socketPath());
                        Http again = Http.socket(bed.socketPath());
                        JsonNode restored = again.get("/v1/status").json();
                        assertThat(restored.path("topology").asText()).isEqualTo("restart");
                        assertThat(restored.path("labPrefix").asText()).isEqualTo(status.path("labPrefix").asText());
                        assertThat(again.get("/v1/instances").json().findValuesAsText("name"))
                                .containsExactly("br1", "br2", "r1");
                        Thread.sleep(1000);
                        udp.stop();
                        UdpStream.Report rep = udp.finish(Duration.ofSeconds(1));
                        assertThat(rep.sent()).isGreaterThan(sentWhileDown);
                        assertThat(rep.lost()).as("UDP across the restart: %s%n%s", rep, second.log()).isZero();
                    }
                    assertThat(Ping.run(a, addrB, 2).allReplied()).as("forwarding after the restart").isTrue();
                }
                // the restored daemon still applies changes
                Http.Response add = Http.socket(bed.socketPath()).json("PUT", "/v1/instances/br3", "{\"type\": \"bridge\"}");
                assertThat(add.status()).as(add.body()).isEqualTo(200);
                Http.Response down = Http.socket(bed.socketPath()).json("DELETE", "/v1/topology", null);
                assertThat(down.status()).as(down.body()).isEqualTo(200);
                assertThat(ServerTestBed.labLeftovers(status.path("labPrefix").asText())).isEmpty();
            } finally {
                first.process().destroyForcibly();
                first.process().waitFor(30, TimeUnit.SECONDS);
                if (second != null) {
                    second.process().destroy(); // SIGTERM: the daemon closes its side
                    if (!second.process().waitFor(30, TimeUnit.SECONDS)) {
                        second.process().destroyForcibly();
                        second.process().waitFor(30, TimeUnit.SECONDS);
                    }
                }
            }
        }
    }
}

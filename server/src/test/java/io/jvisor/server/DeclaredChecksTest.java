package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestReader;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Declared {@code spec.checks} on the real kernel: each passes exactly when the traffic does what
 * it says, so a wrong expectation fails.
 */
@RequiresRoot
class DeclaredChecksTest {
    private static final String TOPOLOGY = """
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: checks}
            spec:
              hosts:
                - {name: a, interfaces: [{name: eth0, addresses: [10.77.0.1/24]}]}
                - {name: b, interfaces: [{name: eth0, addresses: [10.77.0.2/24]}]}
              instances:
                - {name: sw, type: bridge}
              attachments:
                - {port: sw:0, host: a:eth0}
                - {port: sw:1, host: b:eth0}
              checks:
                - {from: a, ping: 10.77.0.2}                                          # passes
                - {from: a, ping: 10.77.0.2, expect: blocked}                         # fails: it is reachable
                - {from: a, ping: 10.77.0.9, expect: blocked}                         # passes: nobody there
                - {from: a, tcp: 10.77.0.2:7100, servers: [b], count: 3, clientSeenAs: 10.77.0.1}   # passes
                - {from: a, udp: 10.77.0.2:7101, servers: [b], count: 3, clientSeenAs: 10.77.0.1}   # passes
                - {from: a, tcp: 10.77.0.2:7102, servers: [b], clientSeenAs: 10.77.0.3}  # fails: seen as .1
                - {from: a, tcp: 10.77.0.2:7103}                                       # fails: nobody listens
                - {from: b, udp: 10.77.0.1:7104, servers: ["a:7105"], expect: blocked} # passes: wrong port
            """;

    @Test
    void eachCheckPassesExactlyWhenTheTrafficDoesWhatItSays() {
        Manifest m = ManifestReader.read(TOPOLOGY);
        try (ServerTestBed bed = new ServerTestBed("jvk"); Controller c = Controller.open(bed.options)) {
            c.apply(m, false);
            bed.lab(c.labPrefix());
            List<TrafficCheck.Result> r = TrafficCheck.run(c, 100);
            r.forEach(x -> System.out.println((x.passed() ? "PASS " : "FAIL ") + x.what() + ": " + x.detail()));
            assertThat(r).extracting(TrafficCheck.Result::passed)
                    .containsExactly(true, false, true, true, true, false, false, true);
            assertThat(r.get(3).detail()).contains("3/3 answered", "b 3", "client seen as 10.77.0.1");
            assertThat(r.get(5).detail()).contains("expected the client seen as 10.77.0.3");
            assertThat(r.get(6).detail()).contains("0/1 answered");
            c.destroy();
        }
    }
}

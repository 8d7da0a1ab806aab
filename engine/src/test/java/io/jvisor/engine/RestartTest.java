package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** kill -9 of the engine never stops forwarding; a new engine adopts what runs and can change it. */
@RequiresRoot
class RestartTest {
    @Test
    void killedEngineKeepsForwardingAndANewOneAdoptsIt() throws Exception {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    "-D" + TestBed.FALLBACKS_PROPERTY + "=" + TestBed.fallbacksForced(),
                    EngineProcessMain.class.getName(), bed.options.name(), bed.stateDir.toString(),
                    "fwd1/forwarder", "cnt/counter", "fwd2/forwarder",
                    "fwd1:0=" + bed.dev(1), "fwd1:1=cnt:0", "cnt:1=fwd2:0", "fwd2:1=" + bed.dev(2)));
            Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                String line;
                StringBuilder log = new StringBuilder();
                while ((line = out.readLine()) != null && !line.equals("READY")) {
                    log.append(line).append('\n');
                }
                assertThat(line).as("the engine process came up:\n" + log).isEqualTo("READY");
                Host h1 = bed.lab.host("h1");
                Host h2 = bed.lab.host("h2");
                UdpStream.Report report;
                try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                    udp.start(50_000);
                    Thread.sleep(500);
                    long sentAtKill = udp.sent();
                    child.destroyForcibly(); // SIGKILL: no shutdown hook, no clean-up
                    assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
                    Thread.sleep(500);
                    udp.stop();
                    report = udp.finish(Duration.ofSeconds(1));
                    assertThat(report.sent()).isGreaterThan(sentAtKill);
                }
                System.out.println("across kill -9: " + report);
                assertThat(report.lost()).isZero();
                assertThat(report.received()).isEqualTo(report.sent());

                Engine e = bed.start(); // adopts
                assertThat(e.topology()).isEqualTo(ChainTest.chain(bed));
                assertThat(e.plan(ChainTest.chain(bed)).isEmpty()).as("nothing to redo after adoption").isTrue();
                assertThat(ChainTest.udpCount(e, 0)).as("the adopted counter kept counting").isEqualTo(report.sent());
                // a configuration change on the adopted objects
                String v1 = TestModules.source("counter.c");
                e.swap("cnt", new ModuleCode("counter.c", v1 + "\n/* after restart */\n"));
                e.apply(Topology.builder().instance("fwd1", "forwarder").instance("cnt", "counter")
                        .instance("fwd2", "forwarder").instance("extra", "forwarder")
                        .connect("fwd1:0", bed.dev(1)).connect("fwd1:1", "cnt:0").connect("cnt:1", "extra:0")
                        .connect("extra:1", "fwd2:0").connect("fwd2:1", bed.dev(2)).build());
                assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
                try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                    udp.send(2000, 20_000);
                    assertThat(udp.finish(Duration.ofSeconds(1)).lost()).isZero();
                }
                assertThat(e.stats("extra", 0).rxPackets()).isGreaterThanOrEqualTo(2000);
            } finally {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}

package io.jvisor.modules;

import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.HostSpec;
import io.jvisor.net.lab.InterfaceSpec;
import io.jvisor.net.lab.Iperf3;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import io.jvisor.net.lab.WireSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The topology: h1 and h2 on bridge br1, h3 and h4 on bridge br2, router r1 between the two
 * bridges. The router's ARP answers and requests cross a bridge instance (engine transmit into an
 * instance port), and routed packets are tail-called from bridge to router to bridge.
 */
@RequiresRoot
class BridgeRouterTopologyTest {
    @Test
    void everyPairPingsAndUdpAndTcpPass() throws Exception {
        String net = "10." + ThreadLocalRandom.current().nextInt(100, 250) + ".";
        LabSpec spec = LabSpec.empty();
        for (int i = 1; i <= 4; i++) {
            int subnet = i <= 2 ? 1 : 2;
            spec = spec.withHost(HostSpec.named("h" + i)
                            .withInterface(InterfaceSpec.of("eth0", net + subnet + "." + (10 + i) + "/24"))
                            .withGateway(net + subnet + ".1")
                            .withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                            .withSysctl("net.ipv6.conf.default.disable_ipv6", "1"))
                    .withWire(WireSpec.toRoot("h" + i + ":eth0", "p" + i, null));
        }
        Path state = Files.createTempDirectory("jvisor-topology-test");
        EngineOptions options = EngineOptions.named(Names.unique("jvn")).withStateDir(state);
        Engine engine = null;
        try (Lab lab = Lab.up(spec)) {
            engine = Engine.start(options, ModuleCatalog.discover());
            engine.apply(Topology.builder()
                    .instance("br1", "bridge").instance("br2", "bridge")
                    .instance("r1", "router", Map.of("port.0", net + "1.1/24", "port.1", net + "2.1/24"))
                    .connect("br1:0", "dev:" + lab.rootDevice("p1")).connect("br1:1", "dev:" + lab.rootDevice("p2"))
                    .connect("br1:2", "r1:0")
                    .connect("br2:0", "dev:" + lab.rootDevice("p3")).connect("br2:1", "dev:" + lab.rootDevice("p4"))
                    .connect("br2:2", "r1:1")
                    .build());
            // The router drops the first packet to an unresolved neighbour (and asks with ARP): warm up.
            for (int a = 1; a <= 4; a++) {
                for (int b = 1; b <= 4; b++) {
                    if (a != b) {
                        Ping.run(lab.host("h" + a).netns(), lab.host("h" + b).address(), 2);
                    }
                }
            }
            for (int a = 1; a <= 4; a++) {
                for (int b = 1; b <= 4; b++) {
                    if (a != b) {
                        assertThat(Ping.run(lab.host("h" + a).netns(), lab.host("h" + b).address(), 2).allReplied())
                                .as("h%d pings h%d", a, b).isTrue();
                    }
                }
            }
            Host h1 = lab.host("h1");
            Host h4 = lab.host("h4");
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h4.netns(), h4.address())) {
                udp.send(5000, 20_000);
                UdpStream.Report r = udp.finish(Duration.ofSeconds(1));
                assertThat(r.lost()).as("UDP h1 -> h4 across both bridges and the router").isZero();
            }
            Iperf3.Result tcp = Iperf3.tcp(h4.netns(), h4.address(), h1.netns(), Duration.ofSeconds(2));
            assertThat(tcp.bytes()).isPositive();
            System.out.printf("bridge-router-bridge: TCP %.2f Gbit/s%n", tcp.gbps());
            assertThat(engine.missedTailCalls("r1")).isZero();
        } finally {
            if (engine != null) {
                try {
                    engine.destroy();
                } catch (RuntimeException e) {
                    engine.close();
                }
            }
            Engine.purge(options); // removes the state directory too, when it holds nothing else
            if (Files.exists(state)) {
                try (var w = Files.walk(state)) {
                    w.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }
}

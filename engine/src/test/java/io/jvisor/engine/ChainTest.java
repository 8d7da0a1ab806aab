package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Iperf3;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** host A -> forwarder -> counter -> forwarder -> host B, in the kernel. */
@RequiresRoot
class ChainTest {
    static Topology chain(TestBed bed) {
        return Topology.builder()
                .instance("fwd1", "forwarder").instance("cnt", "counter").instance("fwd2", "forwarder")
                .connect("fwd1:0", bed.dev(1))
                .connect("fwd1:1", "cnt:0")
                .connect("cnt:1", "fwd2:0")
                .connect("fwd2:1", bed.dev(2))
                .build();
    }

    static long udpCount(Engine e, int direction) {
        long total = 0;
        for (byte[] v : e.map("cnt", "udp_packets").lookupPerCpu(ByteBuffer.allocate(4)
                .order(ByteOrder.LITTLE_ENDIAN).putInt(direction).array()).orElseThrow()) {
            total += ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return total;
    }

    @Test
    void chainCarriesPingUdpAndTcpAndCountsExactly() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = bed.start();
            Plan plan = e.apply(chain(bed));
            assertThat(plan.toString()).contains("+ instance fwd1").contains("+ instance cnt")
                    .contains("+ " + bed.dev(1).replace("dev:", "dev:"));
            assertThat(e.plan(chain(bed)).isEmpty()).as("applying twice changes nothing").isTrue();

            Host h1 = bed.lab.host("h1");
            Host h2 = bed.lab.host("h2");
            assertThat(Ping.run(h1.netns(), h2.address(), 3).allReplied()).isTrue();

            long before = udpCount(e, 0);
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                udp.send(5000, 20_000);
                UdpStream.Report r = udp.finish(Duration.ofSeconds(1));
                assertThat(r.lost()).isZero();
                assertThat(r.received()).isEqualTo(5000);
            }
            assertThat(udpCount(e, 0) - before).as("UDP packets counted h1 -> h2").isEqualTo(5000);
            assertThat(e.stats("cnt", 0).rxPackets()).isGreaterThanOrEqualTo(5000);
            assertThat(e.stats("fwd2", 1).txPackets()).isGreaterThanOrEqualTo(5000);

            Iperf3.Result tcp = Iperf3.tcp(h2.netns(), h2.address(), h1.netns(), Duration.ofSeconds(2));
            assertThat(tcp.bytes()).isPositive();
            System.out.printf("chain of 3: TCP %.2f Gbit/s%n", tcp.gbps());
            for (String i : List.of("fwd1", "cnt", "fwd2")) {
                assertThat(e.missedTailCalls(i)).as("missed tail calls into " + i).isZero();
            }
        }
    }
}

package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The middle of a 3-instance chain changes code 100 times under a full-rate UDP stream. */
@RequiresRoot
class LiveSwapTest {
    @Test
    void hundredSwapsUnderTrafficLoseNothing() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = bed.start();
            e.apply(ChainTest.chain(bed));
            Host h1 = bed.lab.host("h1");
            Host h2 = bed.lab.host("h2");
            assertThat(Ping.run(h1.netns(), h2.address(), 1).allReplied()).isTrue();
            String v1 = TestModules.source("counter.c");
            List<ModuleCode> versions = List.of(new ModuleCode("counter.c", v1 + "\n/* version 2 */\n"),
                    new ModuleCode("counter.c", v1));
            int firstProgram = e.programId("cnt");
            UdpStream.Report report;
            long overflows;
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address())) {
                // as fast as the sender goes: the pacing limit is far above what one core sends
                udp.start(10_000_000);
                for (int i = 0; i < 100; i++) {
                    Plan p = e.swap("cnt", versions.get(i % 2));
                    assertThat(p.changes()).singleElement().isInstanceOf(Plan.SwapInstance.class);
                }
                udp.stop();
                report = udp.finish(Duration.ofSeconds(1));
                overflows = udp.receiverOverflows();
            }
            System.out.println("100 swaps under traffic: " + report + ", receiving socket overflowed " + overflows);
            assertThat(report.sent()).isGreaterThan(10_000);
            // A receiver short of CPU drops datagrams from its full socket buffer, after the path
            // delivered them; the kernel counts those. Every other datagram must have arrived.
            assertThat(report.lost()).as("datagrams lost on the way (not at the receiving socket)")
                    .isEqualTo(overflows);
            assertThat(report.duplicated()).isZero();
            for (String i : List.of("fwd1", "cnt", "fwd2")) {
                assertThat(e.missedTailCalls(i)).as("missed tail calls into " + i).isZero();
                assertThat(e.drops(i)).as("drops in " + i).allSatisfy((reason, n) -> assertThat(n).isZero());
            }
            assertThat(e.programId("cnt")).isNotEqualTo(firstProgram);
            // the counter's map survived every swap: it counted every datagram (plus none lost on the way)
            assertThat(ChainTest.udpCount(e, 0)).isEqualTo(report.sent());
        }
    }
}

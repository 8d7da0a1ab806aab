package io.jvisor.modules.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.TestBed;
import io.jvisor.modules.BumpInTheWire;
import io.jvisor.engine.Topology;
import io.jvisor.engine.TopologyException;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A capture instance between h1 (port 0) and h2 (port 1): what {@code tcpdump -r} reads back is
 * exactly what the test sent, headers and payload, and nothing the filter excludes.
 */
@RequiresRoot
class CaptureTest {
    static final int SNAPLEN = 256;

    /** One datagram the test sends: its ports and payload. */
    record Sent(int sport, int dport, byte[] payload) {}

    /** One packet as tcpdump printed it: its summary line and its bytes (from -xx). */
    record Dumped(String line, byte[] bytes) {}

    static TestBed bed(Hook hook) {
        return BumpInTheWire.start(hook, ModuleCatalog.discover());
    }

    static void apply(TestBed bed, CaptureConfig config) {
        BumpInTheWire.apply(bed, "cap", "capture", config.toConfig());
    }

    @ParameterizedTest
    @EnumSource(Hook.class)
    void tcpdumpReadsExactlyTheFilteredPacketsWithHeadersIntact(Hook hook) throws Exception {
        Path file = Files.createTempFile("jvisor-capture", ".pcap");
        try (TestBed bed = bed(hook)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            int wanted = 40000 + (int) (ProcessHandle.current().pid() % 10000), other = wanted + 1;
            apply(bed, CaptureConfig.DEFAULT.withSnaplen(SNAPLEN).withFilter(CaptureFilter.ANY.withProtocol(17)
                    .withDestination(io.jvisor.net.IpPrefix.parse(h2.address().getHostAddress()))
                    .withDestinationPort(wanted)));
            assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue(); // ARP resolved before
            List<Sent> sent = new ArrayList<>();
            long before = System.currentTimeMillis();
            CaptureSummary summary;
            try (DatagramSocket rx = h2.netns().run(() -> new DatagramSocket(new InetSocketAddress(h2.address(), wanted)));
                 DatagramSocket rx2 = h2.netns().run(() -> new DatagramSocket(new InetSocketAddress(h2.address(), other)));
                 DatagramSocket tx = h1.netns().run(() -> new DatagramSocket(new InetSocketAddress(h1.address(), 0)));
                 PcapWriter pcap = PcapWriter.create(file, SNAPLEN);
                 CaptureSession session = CaptureSession.start(bed.engine, "cap", pcap)) {
                for (int i = 0; i < 30; i++) {
                    // sizes from 1 byte to well past the snap length: the long ones come back cut
                    byte[] payload = new byte[1 + i * 29];
                    for (int j = 0; j < payload.length; j++) {
                        payload[j] = (byte) (i * 7 + j);
                    }
                    boolean match = i % 3 != 2;
                    tx.send(new DatagramPacket(payload, payload.length, h2.address(), match ? wanted : other));
                    if (match) {
                        sent.add(new Sent(tx.getLocalPort(), wanted, payload));
                    }
                }
                // ICMP and the other UDP port go through too, but are not captured
                assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
                assertThat(session.awaitWritten(sent.size(), Duration.ofSeconds(10))).isTrue();
                summary = session.stop();
            }
            long after = System.currentTimeMillis();
            assertThat(summary.written()).isEqualTo(sent.size());
            assertThat(summary.lost()).isZero();
            assertThat(summary.kernel().matched()).isEqualTo(sent.size());
            assertThat(summary.kernel().seen()).isGreaterThan(sent.size()); // the excluded ones were seen
            assertThat(summary.toString()).contains(sent.size() + " packets captured", "0 packets dropped by kernel");

            List<Dumped> dumped = tcpdump(file, "-nn", "-e", "-xx", "-tt", "-v");
            assertThat(dumped).hasSize(sent.size());
            byte[] mac1 = h1.rtnl().link("eth0").mac().orElseThrow().bytes();
            byte[] mac2 = h2.rtnl().link("eth0").mac().orElseThrow().bytes();
            for (int i = 0; i < sent.size(); i++) {
                Sent s = sent.get(i);
                Dumped d = dumped.get(i);
                int wire = 14 + 20 + 8 + s.payload.length;
                // tcpdump's own decoding
                assertThat(d.line).contains(h1.address().getHostAddress() + "." + s.sport + " > "
                        + h2.address().getHostAddress() + "." + s.dport + ": UDP, length " + s.payload.length);
                assertThat(d.line).contains("length " + wire).doesNotContain("bad cksum");
                double ts = Double.parseDouble(d.line.substring(0, d.line.indexOf(' ')));
                assertThat(ts * 1000).isBetween(before - 1000.0, after + 1000.0);
                // the bytes: exactly min(wire, snaplen) of them, as sent
                byte[] b = d.bytes;
                assertThat(b).hasSize(Math.min(wire, SNAPLEN));
                ByteBuffer f = ByteBuffer.wrap(b);
                assertThat(java.util.Arrays.copyOfRange(b, 0, 6)).isEqualTo(mac2);
                assertThat(java.util.Arrays.copyOfRange(b, 6, 12)).isEqualTo(mac1);
                assertThat(f.getShort(12)).isEqualTo((short) 0x0800);
                assertThat(f.get(14)).isEqualTo((byte) 0x45);
                assertThat(f.getShort(16) & 0xffff).isEqualTo(wire - 14);
                assertThat(f.get(23)).isEqualTo((byte) 17);
                assertThat(java.util.Arrays.copyOfRange(b, 26, 30)).isEqualTo(h1.address().getAddress());
                assertThat(java.util.Arrays.copyOfRange(b, 30, 34)).isEqualTo(h2.address().getAddress());
                assertThat(f.getShort(34) & 0xffff).isEqualTo(s.sport);
                assertThat(f.getShort(36) & 0xffff).isEqualTo(s.dport);
                assertThat(f.getShort(38) & 0xffff).isEqualTo(8 + s.payload.length);
                assertThat(java.util.Arrays.copyOfRange(b, 42, b.length))
                        .isEqualTo(java.util.Arrays.copyOf(s.payload, b.length - 42));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void streamsLiveIntoTcpdumpReadingStandardInput() throws Exception {
        try (TestBed bed = bed(Hook.TC)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            apply(bed, CaptureConfig.DEFAULT.withFilter(CaptureFilter.ANY.withProtocol(1)).withPorts(java.util.Set.of(0)));
            Process tcpdump = new ProcessBuilder("tcpdump", "-r", "-", "-nn", "-l").redirectErrorStream(false).start();
            try {
                ByteArrayOutputStream text = new ByteArrayOutputStream();
                CountDownLatch firstLine = new CountDownLatch(1);
                Thread out = Thread.ofPlatform().daemon().start(() -> copy(tcpdump.getInputStream(), text, firstLine));
                CaptureSummary summary;
                try (PcapWriter pcap = new PcapWriter(tcpdump.getOutputStream(), 65535);
                     CaptureSession session = CaptureSession.start(bed.engine, "cap", pcap)) {
                    assertThat(Ping.run(h1.netns(), h2.address(), 1).allReplied()).isTrue();
                    // live: tcpdump prints the first request while the session (and its pipe) is still open
                    assertThat(firstLine.await(10, TimeUnit.SECONDS)).isTrue();
                    assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
                    assertThat(session.awaitWritten(3, Duration.ofSeconds(10))).isTrue();
                    summary = session.stop();
                }
                assertThat(tcpdump.waitFor(10, TimeUnit.SECONDS)).isTrue();
                out.join(5000);
                // port 0 only: the three echo requests, not the replies
                List<String> lines = text.toString(StandardCharsets.UTF_8).lines().toList();
                assertThat(lines).hasSize(3).allMatch(l -> l.contains(h1.address().getHostAddress() + " > "
                        + h2.address().getHostAddress() + ": ICMP echo request"));
                assertThat(summary.written()).isEqualTo(3);
            } finally {
                tcpdump.destroy();
                tcpdump.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aReaderThatFallsBehindLosesPacketsAndTheLossIsCountedNotSilent() throws Exception {
        try (TestBed bed = bed(Hook.TC)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            apply(bed, CaptureConfig.DEFAULT.withFilter(CaptureFilter.ANY.withProtocol(17)
                    .withSource(io.jvisor.net.IpPrefix.parse(h1.address().getHostAddress()))));
            // an output that blocks until released: the ring fills up behind it
            StalledOutput stalled = new StalledOutput();
            int count = 10_000;
            UdpStream.Report report;
            CaptureSummary summary;
            try (PcapWriter pcap = new PcapWriter(stalled, CaptureConfig.MAX_SNAPLEN);
                 CaptureSession session = CaptureSession.start(bed.engine, "cap", pcap);
                 UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address(), 1400)) {
                udp.send(count, 50_000);
                report = udp.finish(Duration.ofSeconds(1));
                stalled.release();
                summary = session.stop();
            }
            // capture losses never touch forwarding: every datagram left by port 1 (the receiving socket's
            // own buffer is not what is tested here, so the instance's counter is the witness)
            assertThat(report.sent()).isEqualTo(count);
            assertThat(bed.engine.stats("cap", 1).txPackets()).isGreaterThanOrEqualTo(count);
            assertThat(bed.engine.drops("cap")).isEmpty();
            assertThat(summary.kernel().matched()).isEqualTo(count);
            assertThat(summary.lost()).isPositive();
            assertThat(summary.written() + summary.lost()).isEqualTo(count);
            assertThat(summary.kernel().lostBytes()).isEqualTo(summary.lost() * (14 + 20 + 8 + 1400));
            assertThat(summary.toString()).contains(summary.lost() + " packets dropped by kernel");
            assertThat(CaptureModule.stats(bed.engine, "cap").lost()).isEqualTo(summary.lost());
        }
    }

    @Test
    void aLiveFilterChangeAppliesToTheRunningSession() throws Exception {
        try (TestBed bed = bed(Hook.TC)) {
            Host h1 = bed.lab.host("h1"), h2 = bed.lab.host("h2");
            int a = 30000 + (int) (ProcessHandle.current().pid() % 10000), b = a + 1;
            CaptureConfig toA = CaptureConfig.DEFAULT.withFilter(CaptureFilter.ANY.withProtocol(17).withDestinationPort(a));
            apply(bed, toA);
            assertThat(Ping.run(h1.netns(), h2.address(), 1).allReplied()).isTrue();
            CaptureSummary summary;
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DatagramSocket rxA = h2.netns().run(() -> new DatagramSocket(new InetSocketAddress(h2.address(), a)));
                 DatagramSocket rxB = h2.netns().run(() -> new DatagramSocket(new InetSocketAddress(h2.address(), b)));
                 DatagramSocket tx = h1.netns().run(() -> new DatagramSocket(new InetSocketAddress(h1.address(), 0)));
                 PcapWriter pcap = new PcapWriter(bytes, 2048);
                 CaptureSession session = CaptureSession.start(bed.engine, "cap", pcap)) {
                byte[] p = new byte[10];
                for (int i = 0; i < 5; i++) {
                    tx.send(new DatagramPacket(p, p.length, h2.address(), a));
                    tx.send(new DatagramPacket(p, p.length, h2.address(), b));
                }
                assertThat(session.awaitWritten(5, Duration.ofSeconds(10))).isTrue();
                // the engine's transactional apply reconfigures the instance while the session runs
                apply(bed, toA.withFilter(toA.filter().withDestinationPort(b)));
                for (int i = 0; i < 7; i++) {
                    tx.send(new DatagramPacket(p, p.length, h2.address(), a));
                    tx.send(new DatagramPacket(p, p.length, h2.address(), b));
                }
                assertThat(session.awaitWritten(12, Duration.ofSeconds(10))).isTrue();
                summary = session.stop();
            }
            assertThat(summary.written()).isEqualTo(12);
            assertThat(summary.kernel().matched()).isEqualTo(12);
            // 5 to port a, then 7 to port b, in order: the UDP destination port of each record
            ByteBuffer f = ByteBuffer.wrap(bytes.toByteArray());
            List<Integer> ports = new ArrayList<>();
            for (int pos = 24; pos < f.limit(); ) {
                int len = Integer.reverseBytes(f.getInt(pos + 8));
                ports.add(f.getShort(pos + 16 + 36) & 0xffff);
                pos += 16 + len;
            }
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                expected.add(i < 5 ? a : b);
            }
            assertThat(ports).isEqualTo(expected);
        }
    }

    @Test
    void badConfigurationIsRefusedNamingTheKeyAndOneSessionAtATime() throws Exception {
        try (TestBed bed = bed(Hook.TC)) {
            for (var bad : List.of(Map.of("snaplen", "0"), Map.of("filter.proto", "tcpp"), Map.of("filter.src", "10.1/8"),
                    Map.of("ports", "2"), Map.of("filter.dport", "70000"), Map.of("filter", "x"))) {
                String key = bad.keySet().iterator().next();
                assertThatThrownBy(() -> bed.engine.apply(Topology.builder().instance("cap", "capture", bad)
                        .connect("cap:0", bed.dev(1)).connect("cap:1", bed.dev(2)).build()))
                        .isInstanceOf(TopologyException.class).hasMessageContaining("'" + key + "'");
            }
            assertThat(bed.engine.topology().instances()).isEmpty();
            apply(bed, CaptureConfig.DEFAULT);
            try (PcapWriter pcap = new PcapWriter(OutputStream.nullOutputStream(), 100);
                 CaptureSession s = CaptureSession.start(bed.engine, "cap", pcap)) {
                assertThatThrownBy(() -> CaptureSession.start(bed.engine, "cap", pcap))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already has a session");
            }
            // after the first one stopped, a new one starts
            try (PcapWriter pcap = new PcapWriter(OutputStream.nullOutputStream(), 100)) {
                CaptureSession.start(bed.engine, "cap", pcap).stop();
            }
            assertThatThrownBy(() -> CaptureSession.start(bed.engine, "nope", null))
                    .hasMessageContaining("no instance 'nope'");
        }
    }

    static void copy(InputStream in, ByteArrayOutputStream out, CountDownLatch firstLine) {
        try {
            int b;
            while ((b = in.read()) >= 0) {
                synchronized (out) {
                    out.write(b);
                }
                if (b == '\n') {
                    firstLine.countDown();
                }
            }
        } catch (IOException e) {
            // the process went away
        }
    }

    /** Runs tcpdump -r on the file and splits its output into packets. */
    static List<Dumped> tcpdump(Path file, String... flags) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("tcpdump", "-r", file.toString()));
        cmd.addAll(List.of(flags));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("tcpdump failed: " + err).isZero();
        List<Dumped> packets = new ArrayList<>();
        StringBuilder line = null;
        ByteArrayOutputStream bytes = null;
        for (String l : out.lines().toList()) {
            if (l.startsWith("\t0x")) {
                String hex = l.substring(l.indexOf(':') + 1).trim();
                int gap = hex.indexOf("  ");
                if (gap >= 0) {
                    hex = hex.substring(0, gap); // -xx prints no ASCII column, but be safe
                }
                bytes.writeBytes(HexFormat.of().parseHex(hex.replace(" ", "")));
            } else if (l.startsWith(" ") || l.startsWith("\t")) {
                line.append(' ').append(l.trim()); // -v continuation lines
            } else {
                if (line != null) {
                    packets.add(new Dumped(line.toString(), bytes.toByteArray()));
                }
                line = new StringBuilder(l);
                bytes = new ByteArrayOutputStream();
            }
        }
        if (line != null) {
            packets.add(new Dumped(line.toString(), bytes.toByteArray()));
        }
        return packets;
    }
}

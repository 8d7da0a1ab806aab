package io.jvisor.modules.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pcap format as tcpdump reads it, and the capture configuration's keys. */
class PcapWriterTest {

    static byte[] frame(int payload) {
        ByteBuffer b = ByteBuffer.allocate(42 + payload);
        b.put(new byte[] {0x02, 0, 0, 0, 0, 2}).put(new byte[] {0x02, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (28 + payload)).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(new byte[] {10, 0, 0, 1})
                .put(new byte[] {10, 0, 0, 2});
        b.putShort((short) 1234).putShort((short) 5678).putShort((short) (8 + payload)).putShort((short) 0);
        return b.array();
    }

    @Test
    void headerAndRecordsAreClassicLittleEndianPcap() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long t = 1_700_000_000_123_456_789L;
        try (PcapWriter w = new PcapWriter(out, 100)) {
            assertThat(out.size()).as("the file header is written at once").isEqualTo(24);
            byte[] f = frame(200);
            w.write(t, f.length, f, 0, 100);
            assertThat(w.packets()).isEqualTo(1);
        }
        ByteBuffer b = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(0xa1b23c4d);
        assertThat(b.getShort(4)).isEqualTo((short) 2);
        assertThat(b.getShort(6)).isEqualTo((short) 4);
        assertThat(b.getInt(16)).isEqualTo(100);
        assertThat(b.getInt(20)).isEqualTo(PcapWriter.LINKTYPE_ETHERNET);
        assertThat(b.getInt(24)).isEqualTo(1_700_000_000);
        assertThat(b.getInt(28)).isEqualTo(123_456_789);
        assertThat(b.getInt(32)).isEqualTo(100);
        assertThat(b.getInt(36)).isEqualTo(242);
        assertThat(out.size()).isEqualTo(24 + 16 + 100);
        assertThatThrownBy(() -> new PcapWriter(new ByteArrayOutputStream(), 10).write(0, 5, new byte[20], 0, 20))
                .hasMessageContaining("captured length 20");
    }

    @Test
    void tcpdumpReadsMicroAndNanosecondFilesWrittenFromBytesAndNativeMemory() throws Exception {
        for (PcapWriter.Precision p : PcapWriter.Precision.values()) {
            Path file = Files.createTempFile("jvisor-pcap", ".pcap");
            try {
                long t = Instant.parse("2026-01-02T03:04:05.123456789Z").getEpochSecond() * 1_000_000_000L + 123_456_789;
                try (PcapWriter w = new PcapWriter(Files.newOutputStream(file), 65535, p);
                     Arena arena = Arena.ofConfined()) {
                    byte[] f = frame(10);
                    w.write(t, f.length, f, 0, f.length);
                    MemorySegment seg = arena.allocate(f.length + 8);
                    MemorySegment.copy(f, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 8, f.length);
                    w.write(t + 1000, f.length, seg, 8, f.length);
                    // bigger than the writer's own buffer: goes straight through
                    byte[] big = frame(60_000);
                    w.write(t + 2000, big.length, big, 0, big.length);
                }
                Process proc = new ProcessBuilder("tcpdump", "-r", file.toString(), "-nn", "-tt",
                        "--time-stamp-precision=" + (p == PcapWriter.Precision.NANOSECONDS ? "nano" : "micro")).start();
                String text = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(proc.waitFor()).isZero();
                List<String> lines = text.lines().toList();
                assertThat(lines).hasSize(3);
                String stamp = p == PcapWriter.Precision.NANOSECONDS ? "1767323045.123456789" : "1767323045.123456";
                assertThat(lines.get(0)).startsWith(stamp + " IP 10.0.0.1.1234 > 10.0.0.2.5678: UDP, length 10");
                assertThat(lines.get(1)).startsWith(p == PcapWriter.Precision.NANOSECONDS ? "1767323045.123457789"
                        : "1767323045.123457").contains("UDP, length 10");
                assertThat(lines.get(2)).contains("UDP, length 60000");
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    @Test
    void configurationKeysRoundTripAndBadValuesNameTheKey() {
        CaptureConfig c = CaptureConfig.parse(Map.of("snaplen", "96", "ports", "1", "filter.proto", "tcp",
                "filter.src", "10.1.2.3/16", "filter.dport", "443", "filter.both-ways", "true"));
        assertThat(c.snaplen()).isEqualTo(96);
        assertThat(c.ports()).isEqualTo(Set.of(1));
        assertThat(c.filter().protocol()).isEqualTo(6);
        assertThat(c.filter().source().toString()).isEqualTo("10.1.0.0/16");
        assertThat(c.filter().destinationPort()).isEqualTo(443);
        assertThat(c.filter().bothWays()).isTrue();
        assertThat(CaptureConfig.parse(c.toConfig())).isEqualTo(c);
        assertThat(CaptureConfig.parse(Map.of())).isEqualTo(CaptureConfig.DEFAULT);
        assertThat(CaptureConfig.DEFAULT.toConfig()).isEmpty();
        assertThatThrownBy(() -> CaptureConfig.parse(Map.of("filter.src", "fe80::/64")))
                .hasMessageContaining("'filter.src'").hasMessageContaining("not IPv4");
        assertThatThrownBy(() -> CaptureConfig.parse(Map.of("snaplen", "40000")))
                .hasMessageContaining("'snaplen'").hasMessageContaining("1..32704");
        // the encoding the data plane reads: flags, snaplen, ports, proto, masked addresses, ports in network order
        ByteBuffer v = ByteBuffer.wrap(CaptureModule.encode(c)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(v.getInt(0)).isEqualTo(CaptureModule.F_PROTO | CaptureModule.F_SRC | CaptureModule.F_DPORT
                | CaptureModule.F_BOTH_WAYS);
        assertThat(v.getInt(4)).isEqualTo(96);
        assertThat(v.getInt(8)).isEqualTo(2);
        assertThat(v.get(12)).isEqualTo((byte) 6);
        assertThat(v.order(ByteOrder.BIG_ENDIAN).getInt(16)).isEqualTo(0x0a010000);
        assertThat(v.getInt(20)).isEqualTo(0xffff0000);
        assertThat(v.getShort(34)).isEqualTo((short) 443);
    }
}

package io.jvisor.modules.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * TTL handling seen from the hosts, with raw sockets in their namespaces: a UDP datagram sent with
 * TTL 1 through the router comes back to the sender as ICMP time exceeded from the router's port
 * address, quoting the datagram's header as sent; one sent with TTL 2 reaches the receiver with TTL 1
 * and a correct header checksum, every other header field unchanged.
 */
@RequiresRoot
class RouterTtlTest {
    /**
     * Runs in the sender: sends one UDP datagram with the given TTL to dst:port, prints the IP
     * packet as it left eth0 (an AF_PACKET capture of the outgoing frame), then every ICMP packet
     * that arrives within the wait (a raw ICMP socket, IP header included), one hex line each, then
     * "end".
     */
    private static final String SEND = """
            import socket, sys, time, select
            dst, port, ttl, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
            # ETH_P_ALL: outgoing packets are handed only to packet sockets of all protocols
            cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
            cap.bind(("eth0", 3))
            cap.settimeout(5)
            icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
            u.bind(("0.0.0.0", 0))
            u.sendto(b"jvisor ttl test payload", (dst, port))
            dst_b = socket.inet_aton(dst)
            deadline = time.time() + 5
            while True:
                assert time.time() < deadline, "own datagram not captured"
                pkt, addr = cap.recvfrom(65535)
                if addr[1] == 0x0800 and addr[2] == socket.PACKET_OUTGOING and pkt[9] == 17 and pkt[16:20] == dst_b:
                    print("sent " + pkt.hex(), flush=True)
                    break
            deadline = time.time() + wait
            while True:
                left = deadline - time.time()
                if left <= 0 or not select.select([icmp], [], [], left)[0]:
                    break
                print("icmp " + icmp.recv(65535).hex(), flush=True)
            print("end", flush=True)
            """;

    /** Runs in the receiver: prints "ready", then the first UDP packet to the port as it arrived on eth0. */
    private static final String RECEIVE = """
            import socket, sys
            port = int(sys.argv[1])
            cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
            cap.bind(("eth0", 0x0800))
            cap.settimeout(10)
            print("ready", flush=True)
            while True:
                pkt, addr = cap.recvfrom(65535)
                ihl = (pkt[0] & 15) * 4
                if addr[2] != socket.PACKET_OUTGOING and pkt[9] == 17 and int.from_bytes(pkt[ihl + 2:ihl + 4], "big") == port:
                    print("got " + pkt.hex(), flush=True)
                    break
            """;

    record Sent(byte[] packet, List<byte[]> icmp) {}

    static Sent send(Host h, InetAddress dst, int port, int ttl, double waitSeconds) throws Exception {
        Process p = h.exec(List.of("python3", "-c", SEND, dst.getHostAddress(), Integer.toString(port),
                Integer.toString(ttl), Double.toString(waitSeconds)));
        try {
            p.getOutputStream().close();
            byte[] sent = null;
            List<byte[]> icmp = new java.util.ArrayList<>();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = out.readLine()) != null && !line.equals("end"); ) {
                if (line.startsWith("sent ")) {
                    sent = HexFormat.of().parseHex(line.substring(5));
                } else if (line.startsWith("icmp ")) {
                    icmp.add(HexFormat.of().parseHex(line.substring(5)));
                }
            }
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
            assertThat(sent).as("the datagram as sent").isNotNull();
            return new Sent(sent, icmp);
        } finally {
            p.destroyForcibly();
        }
    }

    /** The ones' complement sum over a header that includes its checksum: 0 when the checksum is right. */
    static int checksumOver(byte[] b, int off, int len) {
        return RouterHandler.checksum(b, off, len);
    }

    static InetAddress src(byte[] ip) throws Exception {
        return InetAddress.getByAddress(Arrays.copyOfRange(ip, 12, 16));
    }

    static InetAddress dst(byte[] ip) throws Exception {
        return InetAddress.getByAddress(Arrays.copyOfRange(ip, 16, 20));
    }

    static int ihl(byte[] ip) {
        return (ip[0] & 0xf) * 4;
    }

    @Test
    void ttlOneComesBackAsTimeExceededFromTheRouterQuotingTheDatagram() throws Exception {
        try (RouterTest.Bed bed = new RouterTest.Bed()) {
            bed.apply(bed.config());
            Host h1 = bed.h(1);
            Ping.run(h1.netns(), bed.ip("2.2"), 1); // the router resolves h2 (the first packet may be dropped)
            assertThat(Ping.run(h1.netns(), bed.ip("2.2"), 2).allReplied()).isTrue();

            Sent s = send(h1, bed.ip("2.2"), 33434, 1, 3);
            assertThat(s.packet()[8] & 0xff).as("sent with TTL 1").isEqualTo(1);
            List<byte[]> exceeded = s.icmp().stream()
                    .filter(p -> p.length >= ihl(p) + 8 && p[ihl(p)] == 11).toList();
            assertThat(exceeded).as("ICMP time exceeded messages seen by the sender").hasSize(1);
            byte[] ip = exceeded.getFirst();
            int hl = ihl(ip);
            assertThat(src(ip)).as("from the router's port address on the sender's side").isEqualTo(bed.ip("1.1"));
            assertThat(dst(ip)).as("to the sender").isEqualTo(bed.ip("1.2"));
            assertThat(ip[9]).as("protocol ICMP").isEqualTo((byte) 1);
            assertThat(checksumOver(ip, 0, hl)).as("IP header checksum").isZero();
            int total = ByteBuffer.wrap(ip).getShort(2) & 0xffff;
            assertThat(total).as("IP total length").isEqualTo(ip.length);
            assertThat(ip[hl] & 0xff).as("type: time exceeded").isEqualTo(11);
            assertThat(ip[hl + 1] & 0xff).as("code 0: TTL exceeded in transit").isZero();
            assertThat(checksumOver(ip, hl, ip.length - hl)).as("ICMP checksum").isZero();
            assertThat(Arrays.copyOfRange(ip, hl + 4, hl + 8)).as("unused word").containsOnly(0);
            byte[] quoted = Arrays.copyOfRange(ip, hl + 8, ip.length);
            int sentHl = ihl(s.packet());
            assertThat(quoted).as("the quote: the datagram's IP header and first 8 bytes, as sent")
                    .isEqualTo(Arrays.copyOf(s.packet(), sentHl + 8));

            // a TTL 2 datagram draws no time exceeded
            assertThat(send(h1, bed.ip("2.2"), 33435, 2, 1).icmp()).noneMatch(p -> p[ihl(p)] == 11);
        }
    }

    @Test
    void ttlTwoArrivesWithTtlOneAndACorrectChecksum() throws Exception {
        try (RouterTest.Bed bed = new RouterTest.Bed()) {
            bed.apply(bed.config());
            Host h1 = bed.h(1), h2 = bed.h(2);
            Ping.run(h1.netns(), bed.ip("2.2"), 1);
            assertThat(Ping.run(h1.netns(), bed.ip("2.2"), 2).allReplied()).isTrue();

            Process rx = h2.exec(List.of("python3", "-c", RECEIVE, "33436"));
            try {
                rx.getOutputStream().close();
                BufferedReader out = new BufferedReader(new InputStreamReader(rx.getInputStream(), StandardCharsets.UTF_8));
                assertThat(out.readLine()).isEqualTo("ready");
                Sent s = send(h1, bed.ip("2.2"), 33436, 2, 0.2);
                String line = out.readLine();
                assertThat(line).as(new String(rx.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
                        .startsWith("got ");
                byte[] got = HexFormat.of().parseHex(line.substring(4));
                byte[] sent = s.packet();
                int hl = ihl(got);
                assertThat(sent[8] & 0xff).as("sent with TTL 2").isEqualTo(2);
                assertThat(got[8] & 0xff).as("TTL decremented by exactly 1").isEqualTo(1);
                assertThat(checksumOver(got, 0, hl)).as("the receiver's IPv4 header checksum is correct").isZero();
                byte[] a = got.clone(), b = sent.clone();
                for (byte[] x : List.of(a, b)) {
                    x[8] = 0; // TTL
                    x[10] = 0; // header checksum
                    x[11] = 0;
                }
                assertThat(Arrays.copyOf(a, hl)).as("every other header field unchanged").isEqualTo(Arrays.copyOf(b, hl));
                assertThat(Arrays.copyOfRange(got, hl, got.length)).as("the UDP header and payload unchanged")
                        .isEqualTo(Arrays.copyOfRange(sent, hl, sent.length));
                assertThat(rx.waitFor(10, TimeUnit.SECONDS)).isTrue();
            } finally {
                rx.destroyForcibly();
            }
        }
    }
}

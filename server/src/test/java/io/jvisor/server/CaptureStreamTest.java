package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A streaming capture ({@code GET /v1/instances/{name}/capture}) whose client dies while no frame
 * passes the instance: the daemon notices the dead connection by itself, ends the session and frees
 * the instance for a new one, without waiting for traffic that would make a write fail. The
 * instance has no ports wired, so nothing at all flows through it. The client is on the control
 * socket, or on TCP (with the token), where its connection ends with a FIN or a reset.
 */
@RequiresRoot
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CaptureStreamTest {
    static final String TOPOLOGY = """
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: capstream}
            spec:
              instances:
                - {name: cap, type: capture}
            """;

    ServerTestBed bed;
    Daemon daemon;
    Http http;
    String token;

    @BeforeAll
    void start() {
        bed = new ServerTestBed("jvc");
        daemon = bed.daemon(TOPOLOGY, o -> o.withTcp(new DaemonOptions.Tcp("127.0.0.1", 0)));
        http = Http.socket(bed.socketPath());
        token = Http.token(bed.daemonOptions());
    }

    /** How the killed client was connected, and how its connection ends. */
    enum Client { SOCKET, TCP_FIN, TCP_RESET }

    @AfterAll
    void stop() {
        bed.close();
    }

    /**
     * {@code TCP_RESET}: the client's socket is reset (what the kernel does when a process killed with
     * -9 leaves unread bytes behind); {@code TCP_FIN}: it is closed with a FIN (nothing left unread);
     * {@code SOCKET}: a unix-domain connection is closed (it has no reset).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Client.class)
    void aKilledClientFreesTheInstanceWithoutTraffic(Client kind) throws Exception {
        URI base = URI.create(daemon.url().orElseThrow());
        String id;
        try (Connection client = kind == Client.SOCKET ? Connection.unix(bed.socketPath())
                : Connection.tcp(base.getHost(), base.getPort())) {
            client.out().write(("GET /v1/instances/cap/capture HTTP/1.1\r\nHost: " + base.getHost()
                    + (kind == Client.SOCKET ? "" : "\r\nAuthorization: Bearer " + token) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.in();
            String head = readHead(in);
            assertThat(head).as(head).startsWith("HTTP/1.1 200").contains(Daemon.CAPTURE_TYPE);
            id = head.lines().filter(l -> l.regionMatches(true, 0, Daemon.CAPTURE_SESSION_HEADER + ":", 0,
                    Daemon.CAPTURE_SESSION_HEADER.length() + 1)).findFirst().orElseThrow().split(":", 2)[1].trim();
            // the chunk with the pcap file header: the session runs
            byte[] chunk = readChunk(in);
            assertThat(chunk).hasSize(24);
            assertThat(java.nio.ByteBuffer.wrap(chunk).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0))
                    .as("pcap magic (nanosecond)").isEqualTo(0xa1b23c4d);

            // while the client lives, the instance is busy
            Http.Response busy = http.get("/v1/instances/cap/capture?seconds=1");
            assertThat(busy.status()).as(busy.body()).isEqualTo(409);
            assertThat(busy.body()).contains("already has a session");

            if (kind == Client.TCP_RESET) {
                client.tcp().setSoLinger(true, 0); // close() now sends a reset
            }
        } // closed (FIN), or reset

        // no frame flows: the daemon must notice on its own; poll until a new session is accepted
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Http.Response again;
        int refused = 0;
        while (true) {
            again = http.get("/v1/instances/cap/capture?seconds=1");
            if (again.status() != 409 || System.nanoTime() > deadline) {
                break;
            }
            refused++;
            Thread.sleep(100);
        }
        assertThat(again.status()).as("a new session after the client died (" + refused + " refused first): "
                + again.body()).isEqualTo(200);
        assertThat(again.contentType()).startsWith(Daemon.CAPTURE_TYPE);

        // the dead client's session ended and kept its summary
        Http.Response summary = http.send("DELETE", "/v1/instances/cap/capture/" + id, null, null, null);
        assertThat(summary.status()).as(summary.body()).isEqualTo(200);
        assertThat(summary.json().path("id").asText()).isEqualTo(id);
        assertThat(summary.json().path("written").asLong()).isZero();
        assertThat(summary.json().path("seen").asLong()).isZero();
    }

    /** A client connection over TCP or the control socket, read with a timeout either way. */
    record Connection(Socket tcp, java.nio.channels.SocketChannel unix, InputStream in, java.io.OutputStream out)
            implements AutoCloseable {
        static Connection tcp(String host, int port) throws IOException {
            Socket s = new Socket(host, port);
            s.setSoTimeout(60_000); // a broken daemon fails the test instead of hanging it
            return new Connection(s, null, s.getInputStream(), s.getOutputStream());
        }

        static Connection unix(java.nio.file.Path socket) throws IOException {
            java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                    java.net.UnixDomainSocketAddress.of(socket));
            // a blocking channel's streams have no read timeout: a watchdog closes it after 60 s instead
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(60_000);
                    ch.close();
                } catch (InterruptedException | IOException ignored) {
                    // closed already
                }
            });
            return new Connection(null, ch, java.nio.channels.Channels.newInputStream(ch),
                    java.nio.channels.Channels.newOutputStream(ch));
        }

        @Override
        public void close() throws IOException {
            if (tcp != null) {
                tcp.close();
            } else {
                unix.close();
            }
        }
    }

    /** The status line and headers, up to the blank line. */
    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (!b.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the connection closed in the response head: " + b.toString(StandardCharsets.US_ASCII));
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    /** The data of one chunk of a chunked body (not the CRLF after it). */
    static byte[] readChunk(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (!line.toString(StandardCharsets.US_ASCII).endsWith("\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the connection closed in a chunk size");
            }
            line.write(c);
        }
        int size = Integer.parseInt(line.toString(StandardCharsets.US_ASCII).trim().split(";")[0], 16);
        return in.readNBytes(size); // Jetty sends the CRLF that ends a chunk with the next one
    }
}

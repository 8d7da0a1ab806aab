package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link CaptureStreamTest} over HTTPS: the client's TCP connection is reset under its TLS session,
 * with no TLS close_notify (as when the client is killed), while no frame flows; the daemon notices
 * and frees the instance.
 */
@RequiresRoot
class CaptureStreamTlsTest {
    @Test
    void aKilledTlsClientFreesTheInstanceWithoutTraffic() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvct")) {
            DaemonOptions.Tls tls = bed.selfSignedTls("s3cret-for-capture");
            DaemonOptions o = bed.daemonOptions().withTcp(new DaemonOptions.Tcp("127.0.0.1", 0).withTls(tls))
                    .withSocket(null);
            try (Daemon d = Daemon.start(o)) {
                try {
                    String bearer = "Bearer " + Http.token(o);
                    KeyStore trust = KeyStore.getInstance("PKCS12");
                    try (InputStream in = Files.newInputStream(tls.keyStore())) {
                        trust.load(in, "s3cret-for-capture".toCharArray());
                    }
                    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                    tmf.init(trust);
                    SSLContext ssl = SSLContext.getInstance("TLS");
                    ssl.init(null, tmf.getTrustManagers(), null);
                    HttpClient https = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
                    HttpResponse<String> put = https.send(HttpRequest.newBuilder(URI.create(d.url().orElseThrow() + "/v1/topology"))
                            .header("Authorization", bearer).header("Content-Type", "application/yaml")
                            .PUT(HttpRequest.BodyPublishers.ofString(CaptureStreamTest.TOPOLOGY)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
                    bed.lab(d.controller().labPrefix());

                    URI base = URI.create(d.url().orElseThrow());
                    try (Socket tcp = new Socket(base.getHost(), base.getPort())) {
                        tcp.setSoTimeout(60_000);
                        // TLS over a socket of our own, so that the socket can be reset without a close_notify
                        SSLSocket client = (SSLSocket) ssl.getSocketFactory().createSocket(tcp, base.getHost(),
                                base.getPort(), false);
                        client.getOutputStream().write(("GET /v1/instances/cap/capture HTTP/1.1\r\nHost: "
                                + base.getHost() + "\r\nAuthorization: " + bearer + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        client.getOutputStream().flush();
                        InputStream in = client.getInputStream();
                        String head = CaptureStreamTest.readHead(in);
                        assertThat(head).as(head).startsWith("HTTP/1.1 200");
                        assertThat(CaptureStreamTest.readChunk(in)).hasSize(24);
                        HttpResponse<String> busy = https.send(HttpRequest.newBuilder(URI.create(d.url().orElseThrow()
                                + "/v1/instances/cap/capture?seconds=1")).header("Authorization", bearer).build(), HttpResponse.BodyHandlers.ofString());
                        assertThat(busy.statusCode()).as(busy.body()).isEqualTo(409);
                        tcp.setSoLinger(true, 0);
                    } // the TCP socket is reset; the TLS session never closed

                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    HttpResponse<String> again;
                    while (true) {
                        again = https.send(HttpRequest.newBuilder(URI.create(d.url().orElseThrow()
                                + "/v1/instances/cap/capture?seconds=1")).header("Authorization", bearer).build(), HttpResponse.BodyHandlers.ofString());
                        if (again.statusCode() != 409 || System.nanoTime() > deadline) {
                            break;
                        }
                        Thread.sleep(100);
                    }
                    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
                } finally {
                    d.controller().destroy();
                }
            }
        }
    }
}

package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.KeyStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** With a key store, the daemon speaks HTTPS only; a client that trusts its certificate gets answers. */
@RequiresRoot
class TlsTest {
    @Test
    void theDaemonServesHttpsWithTheGivenKeyStore() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvtls")) {
            DaemonOptions.Tls tls = bed.selfSignedTls("s3cret-for-test");
            try (Daemon d = Daemon.start(new DaemonOptions(bed.options, "127.0.0.1", 0, 0, false, tls))) {
                assertThat(d.url()).startsWith("https://127.0.0.1:");
                KeyStore trust = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(tls.keyStore())) {
                    trust.load(in, "s3cret-for-test".toCharArray());
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, tmf.getTrustManagers(), null);
                HttpClient https = HttpClient.newBuilder().sslContext(ctx).build();
                HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create(d.url() + "/v1/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("\"status\" : \"ok\"");
                // plain HTTP on the TLS port gets no answer a client could take for the API's
                String plain = d.url().replace("https://", "http://");
                Throwable t = catchThrowable(() -> {
                    HttpResponse<String> p = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create(plain + "/v1/health")).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(p.statusCode()).isEqualTo(400);
                });
                assertThat(t == null || t instanceof java.io.IOException).as(String.valueOf(t)).isTrue();
                d.controller().destroy();
            }
        }
    }
}

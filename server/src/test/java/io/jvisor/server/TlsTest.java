package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * With a key store, the daemon's TCP listener speaks HTTPS only; a client that trusts its certificate
 * and sends the token gets answers. With a client CA as well (mutual TLS), a client certificate the CA
 * signed stands in for the token, and a client without one does not get through the handshake.
 */
@RequiresRoot
class TlsTest {
    @Test
    void theDaemonServesHttpsWithTheGivenKeyStore() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvtls")) {
            DaemonOptions.Tls tls = bed.selfSignedTls("s3cret-for-test");
            DaemonOptions o = bed.daemonOptions().withTcp(new DaemonOptions.Tcp("127.0.0.1", 0).withTls(tls))
                    .withSocket(null);
            try (Daemon d = Daemon.start(o)) {
                String url = d.url().orElseThrow();
                assertThat(url).startsWith("https://127.0.0.1:");
                HttpClient https = HttpClient.newBuilder().sslContext(context(tls.keyStore(), "s3cret-for-test", null, null))
                        .build();
                HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create(url + "/v1/health"))
                        .header("Authorization", "Bearer " + Http.token(o)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("\"status\" : \"ok\"");
                HttpResponse<String> anonymous = https.send(HttpRequest.newBuilder(URI.create(url + "/v1/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(anonymous.statusCode()).as("HTTPS without the token").isEqualTo(401);
                // plain HTTP on the TLS port gets no answer a client could take for the API's
                String plain = url.replace("https://", "http://");
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

    @Test
    void aClientCertificateTheCaSignedStandsInForTheToken() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvmtls")) {
            DaemonOptions.Tls tls = bed.selfSignedTls("s3cret-for-test");
            ServerTestBed.ClientCert client = bed.clientCert("client-pass");
            DaemonOptions o = bed.daemonOptions().withTcp(new DaemonOptions.Tcp("127.0.0.1", 0)
                    .withTls(tls.withClientCa(client.caPem()))).withSocket(null);
            try (Daemon d = Daemon.start(o)) {
                String url = d.url().orElseThrow();
                assertThat(Files.exists(o.engine().stateDir().resolve(Daemon.TOKEN_FILE))).as("no token file").isFalse();
                HttpClient mutual = HttpClient.newBuilder().sslContext(context(tls.keyStore(), "s3cret-for-test",
                        client.clientKeyStore(), client.password())).build();
                HttpResponse<String> r = mutual.send(HttpRequest.newBuilder(URI.create(url + "/v1/status")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                // the same server certificate trusted, but no client certificate: the handshake fails
                HttpClient anonymous = HttpClient.newBuilder().sslContext(context(tls.keyStore(), "s3cret-for-test",
                        null, null)).build();
                Throwable refused = catchThrowable(() -> anonymous.send(HttpRequest.newBuilder(URI.create(url
                        + "/v1/status")).build(), HttpResponse.BodyHandlers.ofString()));
                assertThat(refused).as("without a client certificate").isInstanceOf(java.io.IOException.class);
                d.controller().destroy();
            }
        }
    }

    /** Trusts the daemon's certificate in {@code serverStore}; presents the key in {@code clientStore} when given. */
    static SSLContext context(Path serverStore, String serverPassword, Path clientStore, String clientPassword)
            throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(serverStore)) {
            trust.load(in, serverPassword.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (clientStore != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(clientStore)) {
                keys.load(in, clientPassword.toCharArray());
            }
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, clientPassword.toCharArray());
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}

package io.jvisor.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Who may use the daemon, decided without root and without a server. */
class AuthenticationTest {
    static final String TOKEN = "a".repeat(64);
    static final DaemonOptions.Tcp LOOPBACK = new DaemonOptions.Tcp("127.0.0.1", 8472);

    @Test
    void theControlSocketNeedsNothingMore() {
        new Authentication(null, null).check(true, null, null);
        new Authentication(LOOPBACK, TOKEN).check(true, "evil.example", null);
    }

    @Test
    void tcpOnADaemonWithoutATcpListenerIsForbidden() {
        assertThat(status(() -> new Authentication(null, null).check(false, "localhost", null))).isEqualTo(403);
    }

    @Test
    void tcpNeedsTheExactBearerToken() {
        Authentication a = new Authentication(LOOPBACK, TOKEN);
        a.check(false, "127.0.0.1:8472", "Bearer " + TOKEN);
        assertThat(status(() -> a.check(false, "127.0.0.1:8472", null))).isEqualTo(401);
        assertThat(status(() -> a.check(false, "127.0.0.1:8472", "Bearer " + TOKEN.substring(1)))).isEqualTo(401);
        assertThat(status(() -> a.check(false, "127.0.0.1:8472", "Bearer " + TOKEN + "a"))).isEqualTo(401);
        assertThat(status(() -> a.check(false, "127.0.0.1:8472", "bearer " + TOKEN))).isEqualTo(401);
        assertThat(status(() -> a.check(false, "127.0.0.1:8472", TOKEN))).isEqualTo(401);
    }

    @Test
    void aListenerThatVerifiesClientCertificatesTakesNoToken() {
        // the TLS handshake already refused clients without a certificate the CA signed
        new Authentication(LOOPBACK, null).check(false, "localhost", null);
    }

    @Test
    void theHostMustNameTheListenerBeforeTheTokenCounts() {
        Authentication a = new Authentication(LOOPBACK.withExtraHosts(List.of("jvisor.lan")), TOKEN);
        a.check(false, "localhost:8472", "Bearer " + TOKEN);
        a.check(false, "127.0.0.2", "Bearer " + TOKEN);
        a.check(false, "JVISOR.lan:8472", "Bearer " + TOKEN);
        ApiException e = catchThrowableOfType(ApiException.class,
                () -> a.check(false, "rebound.example:8472", "Bearer " + TOKEN));
        assertThat(e.status()).isEqualTo(421);
        assertThat(e.problems().getFirst().field()).isEqualTo("Host");
        assertThat(e.problems().getFirst().value()).isEqualTo("rebound.example:8472");
        assertThat(e.problems().getFirst().reason()).contains("127.0.0.1, localhost, loopback addresses, jvisor.lan")
                .contains("--allow-host");
        // a wrong Host is refused even without a token: the 421 says nothing about the token
        assertThat(status(() -> a.check(false, "rebound.example", null))).isEqualTo(421);
    }

    @Test
    void aWildcardListenerAcceptsAnyAddress() {
        DaemonOptions.Tcp any = new DaemonOptions.Tcp("0.0.0.0", 8472);
        new Authentication(any, TOKEN).check(false, "192.0.2.7:8472", "Bearer " + TOKEN);
        assertThat(Authentication.acceptedHosts(any)).isEqualTo("0.0.0.0, localhost, any IP address");
        assertThat(status(() -> new Authentication(any, TOKEN).check(false, "rebound.example", "Bearer " + TOKEN)))
                .isEqualTo(421);
    }

    @Test
    void theTokenNeverShowsInItsToString() {
        assertThat(new Authentication(LOOPBACK, TOKEN).toString()).doesNotContain(TOKEN).contains("token=set");
    }

    @Test
    void theTokenFileIsMadeOnceOwnerOnlyAndThenKept(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state").resolve(Daemon.TOKEN_FILE);
        String first = Authentication.token(file);
        assertThat(first).matches("[0-9a-f]{64}");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Authentication.token(file)).isEqualTo(first);
        assertThat(Authentication.token(dir.resolve("other"))).isNotEqualTo(first);
    }

    @Test
    void aShortTokenInTheFileIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve(Daemon.TOKEN_FILE);
        Files.writeString(file, "short\n");
        assertThatThrownBy(() -> Authentication.token(file)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("shorter than 32");
    }

    @Test
    void aClientCaFileWithoutACertificateIsRefused(@TempDir Path dir) throws Exception {
        Path pem = dir.resolve("ca.pem");
        Files.writeString(pem, "not a certificate\n");
        assertThatThrownBy(() -> Authentication.clientAuthorities(pem)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(pem.toString());
        assertThatThrownBy(() -> Authentication.clientAuthorities(dir.resolve("missing.pem")))
                .hasMessageContaining("cannot read the client CA file");
    }

    private static int status(Runnable r) {
        return catchThrowableOfType(ApiException.class, r::run).status();
    }
}

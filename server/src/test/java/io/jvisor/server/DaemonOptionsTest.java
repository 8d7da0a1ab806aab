package io.jvisor.server;

import io.jvisor.engine.EngineOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where the daemon listens, parsed and checked without root. */
class DaemonOptionsTest {
    static final EngineOptions ENGINE = EngineOptions.named("optstest").withStateDir(Path.of("/nonexistent/state"));

    @Test
    void theDefaultIsTheControlSocketAndNoTcp() {
        DaemonOptions o = DaemonOptions.of(ENGINE);
        assertThat(o.socket()).isEqualTo(Path.of("/run/jvisor/jvisord.sock"));
        assertThat(o.socketGroup()).isEqualTo("jvisor");
        assertThat(o.tcp()).isNull();
        assertThat(o.maxBodyBytes()).isEqualTo(DaemonOptions.DEFAULT_MAX_BODY);
    }

    @Test
    void theDaemonListensSomewhereOnASocketPathTheKernelTakes() {
        assertThatThrownBy(() -> DaemonOptions.of(ENGINE).withSocket(null))
                .hasMessageContaining("needs a control socket or a TCP listener");
        assertThatThrownBy(() -> DaemonOptions.of(ENGINE).withSocket(Path.of("/run/" + "x".repeat(120))))
                .hasMessageContaining("at most 107");
        DaemonOptions tcpOnly = DaemonOptions.of(ENGINE).withTcp(new DaemonOptions.Tcp("127.0.0.1", 0)).withSocket(null);
        assertThat(tcpOnly.socket()).isNull();
        assertThat(tcpOnly.tcp().port()).isZero();
    }

    @Test
    void listenTakesAnAddressAndAnOptionalPort() {
        assertThat(DaemonOptions.Tcp.parse("127.0.0.1")).isEqualTo(new DaemonOptions.Tcp("127.0.0.1", 8472));
        assertThat(DaemonOptions.Tcp.parse("127.0.0.1:9000")).isEqualTo(new DaemonOptions.Tcp("127.0.0.1", 9000));
        assertThat(DaemonOptions.Tcp.parse("[::1]:9000")).isEqualTo(new DaemonOptions.Tcp("::1", 9000));
        assertThat(DaemonOptions.Tcp.parse("[::1]")).isEqualTo(new DaemonOptions.Tcp("::1", 8472));
        assertThat(DaemonOptions.Tcp.parse("::1")).isEqualTo(new DaemonOptions.Tcp("::1", 8472));
        assertThat(DaemonOptions.Tcp.parse("0.0.0.0:0").wildcard()).isTrue();
        assertThat(DaemonOptions.Tcp.parse("node1.example:80").host()).isEqualTo("node1.example");
        assertThatThrownBy(() -> DaemonOptions.Tcp.parse("127.0.0.1:http")).hasMessageContaining("not a port");
        assertThatThrownBy(() -> DaemonOptions.Tcp.parse("127.0.0.1:70000")).hasMessageContaining("0..65535");
        assertThatThrownBy(() -> DaemonOptions.Tcp.parse("[::1")).hasMessageContaining("no ']'");
    }

    @Test
    void theTokenIsRequiredUnlessTlsVerifiesClientCertificates() {
        DaemonOptions.Tcp plain = new DaemonOptions.Tcp("127.0.0.1", 0);
        DaemonOptions.Tls tls = new DaemonOptions.Tls(Path.of("k.p12"), Path.of("pw"));
        assertThat(plain.tokenRequired()).as("loopback too").isTrue();
        assertThat(plain.withTls(tls).tokenRequired()).isTrue();
        assertThat(plain.withTls(tls.withClientCa(Path.of("ca.pem"))).tokenRequired()).isFalse();
    }

    @Test
    void hostHeadersMustNameTheListener() {
        DaemonOptions.Tcp loopback = new DaemonOptions.Tcp("127.0.0.1", 8472);
        assertThat(List.of("127.0.0.1", "127.0.0.1:8472", "localhost", "LOCALHOST:1", "[::1]:8472", "127.0.0.2"))
                .allMatch(loopback::acceptsHost);
        assertThat(List.of("evil.example", "evil.example:8472", "127.0.0.1.evil.example", "10.0.0.1", "", "[::1"))
                .noneMatch(loopback::acceptsHost);
        assertThat(loopback.acceptsHost(null)).as("HTTP/1.0 without Host").isTrue();

        DaemonOptions.Tcp any = DaemonOptions.Tcp.parse("0.0.0.0").withExtraHosts(List.of("Node1.Example"));
        assertThat(List.of("192.0.2.7:8472", "[2001:db8::1]:8472", "localhost", "node1.example", "NODE1.example:8472",
                "0.0.0.0")).allMatch(any::acceptsHost);
        assertThat(List.of("node2.example", "rebind.example")).noneMatch(any::acceptsHost);

        DaemonOptions.Tcp one = new DaemonOptions.Tcp("192.0.2.7", 8472);
        assertThat(one.acceptsHost("192.0.2.7:8472")).isTrue();
        assertThat(one.acceptsHost("192.0.2.8:8472")).isFalse();
        assertThat(one.acceptsHost("127.0.0.1")).as("not bound there").isFalse();

        DaemonOptions.Tcp named = new DaemonOptions.Tcp("node1.example", 8472);
        assertThat(named.acceptsHost("node1.example:8472")).isTrue();
        assertThat(named.acceptsHost("192.0.2.7")).as("a literal of a name it was not given").isFalse();
    }
}

package io.jvisor.cli;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.Daemon;
import io.jvisor.server.DaemonOptions;
import io.jvisor.server.ServerTestBed;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI finds a daemon that listens on TCP only, serving HTTPS: it trusts the daemon's certificate
 * through the daemon's key store and sends the bearer token, both found through {@code daemon.json}.
 */
@RequiresRoot
class TlsClientTest {
    @Test
    void theCliTalksToAnHttpsDaemon() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvct")) {
            try (Daemon d = Daemon.start(bed.daemonOptions().withTcp(
                    new DaemonOptions.Tcp("127.0.0.1", 0).withTls(bed.selfSignedTls("another-test-secret")))
                    .withSocket(null))) {
                List<String> e = List.of("--engine", bed.options.name(), "--state-dir", bed.options.stateDir().toString());
                CliRun add = CliRun.run(e, "add", "bridge", "b1");
                assertThat(add.exit()).as(add.toString()).isZero();
                CliRun get = CliRun.run(e, "get", "instances");
                assertThat(get.out()).contains("b1");
                CliRun apply = CliRun.run(e, "apply", "-f", ServerTestBed.examples().resolve("l2-bridge.yaml").toString(),
                        "--dry-run");
                assertThat(apply.err()).contains("daemon at https://127.0.0.1:");
                d.controller().destroy();
            }
        }
    }
}

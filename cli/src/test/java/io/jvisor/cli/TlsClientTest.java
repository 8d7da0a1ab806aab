package io.jvisor.cli;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.Daemon;
import io.jvisor.server.DaemonOptions;
import io.jvisor.server.ServerTestBed;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI finds a daemon that serves HTTPS and trusts its certificate through the daemon's key store. */
@RequiresRoot
class TlsClientTest {
    @Test
    void theCliTalksToAnHttpsDaemon() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvct")) {
            Path dir = bed.options.stateDir().getParent();
            Path ks = dir.resolve("jvisord.p12");
            Path pw = dir.resolve("tls-password");
            Files.writeString(pw, "another-test-secret\n");
            Process keytool = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool")
                    .toString(), "-genkeypair", "-alias", "jvisord", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                    "-keystore", ks.toString(), "-storepass", "another-test-secret", "-keypass", "another-test-secret"))
                    .redirectErrorStream(true).start();
            String out = new String(keytool.getInputStream().readAllBytes());
            assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(keytool.exitValue()).as(out).isZero();
            try (Daemon d = Daemon.start(new DaemonOptions(bed.options, "127.0.0.1", 0, 0, false,
                    new DaemonOptions.Tls(ks, pw)))) {
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

package io.jvisor.cli;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.ServerTestBed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code jvisor daemon} as a process of its own, on a control socket of the test's own: it listens on
 * the socket only (no TCP unless asked), the CLI reaches it through {@code daemon.json} or through
 * {@code --socket} alone, a second daemon on the same socket is refused, and SIGTERM removes the
 * socket. Options that need a TCP listener are usage errors without one.
 */
@RequiresRoot
class DaemonCommandTest {
    @Test
    void theDaemonServesTheCliOnItsSocketAndRemovesItOnStop(@TempDir Path tmp) throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvdc")) {
            Path sock = bed.socketPath();
            List<String> e = List.of("--engine", bed.options.name(), "--state-dir", bed.options.stateDir().toString());
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "daemon", "--socket", sock.toString(), "--socket-group", "root"));
            cmd.addAll(e);
            Path out = tmp.resolve("out.txt");
            Path err = tmp.resolve("err.txt");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!Files.readString(out).contains("listening on") && p.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(Files.readString(out)).as(Files.readString(err)).contains("jvisord: listening on unix:" + sock
                        + " (0660, group root) (engine '" + bed.options.name() + "')").doesNotContain("http");
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-rw----");

                // through daemon.json
                CliRun add = CliRun.run(e, "add", "bridge", "b1");
                assertThat(add.exit()).as(add.toString()).isZero();
                CliRun plan = CliRun.run(e, "apply", "-f", ServerTestBed.examples().resolve("l2-bridge.yaml").toString(),
                        "--dry-run");
                assertThat(plan.err()).as(plan.toString()).contains("daemon at unix:" + sock);
                // through --socket alone: a state directory of nobody's, so no daemon.json to read
                Path elsewhere = tmp.resolve("no-state");
                CliRun get = CliRun.run("get", "instances", "--socket", sock.toString(), "--state-dir", elsewhere.toString());
                assertThat(get.exit()).as(get.toString()).isZero();
                assertThat(get.out()).contains("b1");
                assertThat(elsewhere).doesNotExist();
                // a wrong --socket is reported, not replaced by an engine in this process
                CliRun none = CliRun.run("get", "instances", "--socket", tmp.resolve("none.sock").toString(),
                        "--state-dir", elsewhere.toString());
                assertThat(none.exit()).as(none.toString()).isEqualTo(69);
                assertThat(none.err()).contains("no daemon answers on " + tmp.resolve("none.sock"));

                // a second daemon, of another engine, on the same socket
                CliRun second = CliRun.run("daemon", "--socket", sock.toString(), "--engine",
                        io.jvisor.bpf.testing.Names.unique("jvdd"), "--state-dir", tmp.resolve("other").toString());
                assertThat(second.exit()).as(second.toString()).isEqualTo(1);
                assertThat(second.err()).contains("a daemon already listens on " + sock);

                CliRun down = CliRun.run(e, "down");
                assertThat(down.exit()).as(down.toString()).isZero();
                p.destroy(); // SIGTERM
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("stopped").isTrue();
                assertThat(sock).as("the socket is removed on stop").doesNotExist();
            } finally {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void tcpOptionsWithoutATcpListenerAreUsageErrors() {
        for (List<String> args : List.of(List.of("--tls-keystore", "k.p12", "--tls-password-file", "pw"),
                List.of("--allow-host", "node1.example"), List.of("--no-socket"),
                List.of("--listen", "127.0.0.1:http"), List.of("--listen", "127.0.0.1", "--tls-client-ca", "ca.pem"))) {
            List<String> all = new ArrayList<>(List.of("daemon"));
            all.addAll(args);
            CliRun r = CliRun.run(all.toArray(String[]::new));
            assertThat(r.exit()).as(args + ": " + r).isEqualTo(2);
        }
    }
}

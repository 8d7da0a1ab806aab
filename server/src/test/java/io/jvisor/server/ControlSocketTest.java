package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Who may reach the daemon. The client runs as {@code nobody} (setpriv) with curl, as a local user
 * with no business changing the network would: the control socket refuses it (permission denied)
 * unless it is in the socket's group, and TCP, opened only when asked, refuses it without the
 * bearer token even on loopback. TCP also refuses a Host header that is not one of its names (DNS
 * rebinding). A live socket is never taken over; a stale one is replaced.
 */
@RequiresRoot
class ControlSocketTest {
    static final String TOPOLOGY = """
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: access}
            spec:
              instances:
                - {name: b1, type: bridge}
            """;
    /** A group that does not exist: the socket is then root-only. */
    static final String NO_SUCH_GROUP = "jvisor-test-no-such-group";

    @Test
    void nobodyIsRefusedOnTheRootOnlySocketWhileRootIsServed() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvso")) {
            openForEveryone(bed); // so that only the socket's own mode stands in nobody's way
            Daemon d = bed.daemon(TOPOLOGY, o -> o.withSocketGroup(NO_SUCH_GROUP));
            Path sock = d.socket().orElseThrow();
            assertThat(sock).isEqualTo(bed.socketPath());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-------");
            assertThat(Files.getOwner(sock).getName()).isEqualTo("root");
            assertThat(d.url()).as("no TCP unless asked").isEmpty();

            Run delete = asNobody("nogroup", "curl", "-v", "-sS", "--unix-socket", sock.toString(), "-X", "DELETE",
                    "http://localhost/v1/topology");
            assertThat(delete.exit()).as(delete.toString()).isEqualTo(7); // curl: could not connect
            assertThat(delete.err()).as(delete.toString()).contains("Permission denied");
            assertThat(Http.socket(sock).get("/v1/topology").status()).as("still applied").isEqualTo(200);

            // root: curl over the socket, as the README shows
            Run health = run("curl", "-sS", "--unix-socket", sock.toString(), "http://localhost/v1/health");
            assertThat(health.exit()).as(health.toString()).isZero();
            assertThat(health.out()).contains("\"status\" : \"ok\"");
        }
    }

    @Test
    void membersOfTheSocketGroupAreServedAndOthersAreNot() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvsg")) {
            openForEveryone(bed);
            // a directory the daemon makes itself: 0750 and the group
            Path sock = bed.socketPath().resolveSibling("run").resolve("jvisord.sock");
            Daemon d = bed.daemon(TOPOLOGY, o -> o.withSocket(sock).withSocketGroup("nogroup"));
            assertThat(d.socket()).contains(sock);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-rw----");
            assertThat(group(sock)).isEqualTo("nogroup");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock.getParent())))
                    .isEqualTo("rwxr-x---");
            assertThat(group(sock.getParent())).isEqualTo("nogroup");
            assertThat(Files.list(sock.getParent()).map(p -> p.getFileName().toString()).toList())
                    .as("the private bind directory is gone").containsExactly("jvisord.sock");

            Run member = asNobody("nogroup", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket",
                    sock.toString(), "http://localhost/v1/status");
            assertThat(member.out()).as(member.toString()).isEqualTo("200");
            Run other = asNobody("daemon", "curl", "-v", "-sS", "--unix-socket", sock.toString(), "-X", "DELETE",
                    "http://localhost/v1/topology");
            assertThat(other.exit()).as(other.toString()).isNotZero();
            assertThat(other.err()).as(other.toString()).contains("Permission denied");
            assertThat(Http.socket(sock).get("/v1/topology").status()).as("still applied").isEqualTo(200);
        }
    }

    @Test
    void tcpNeedsTheTokenOnLoopbackAndAHostOfItsOwn() throws Exception {
        try (ServerTestBed bed = new ServerTestBed("jvst")) {
            Daemon d = bed.daemon(TOPOLOGY, o -> o.withTcp(new DaemonOptions.Tcp("127.0.0.1", 0)));
            String url = d.url().orElseThrow();
            int port = d.port().orElseThrow();
            String token = Http.token(bed.daemonOptions());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(bed.options.stateDir()
                    .resolve(Daemon.TOKEN_FILE)))).isEqualTo("rw-------");

            // the example: nobody deletes the topology over loopback TCP
            Run delete = asNobody("nogroup", "curl", "-sS", "-w", "\n%{http_code}", "-X", "DELETE", url + "/v1/topology");
            assertThat(delete.out()).as(delete.toString()).endsWith("\n401").contains("bearer token is required");
            assertThat(Http.socket(bed.socketPath()).get("/v1/topology").status()).as("still applied").isEqualTo(200);
            assertThat(new Http(url, "0".repeat(64)).get("/v1/status").status()).as("a wrong token").isEqualTo(401);

            Http authorized = new Http(url, token);
            assertThat(authorized.get("/v1/status").status()).isEqualTo(200);
            // DNS rebinding: a name that is not the listener's is refused, token or not
            for (String host : List.of("rebind.example:" + port, "127.0.0.1.nip.example", "evil")) {
                Run r = run("curl", "-sS", "-w", "\n%{http_code}", "-H", "Host: " + host, "-H", "Authorization: Bearer "
                        + token, url + "/v1/status");
                assertThat(r.out()).as(host + ": " + r).endsWith("\n421").contains("\"field\" : \"Host\"")
                        .contains("DNS rebinding");
            }
            for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "localhost", "127.0.0.2", "[::1]:" + port)) {
                Run r = run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: " + host, "-H",
                        "Authorization: Bearer " + token, url + "/v1/status");
                assertThat(r.out()).as(host + ": " + r).isEqualTo("200");
            }
            // the socket takes any Host: no browser reaches it
            Run sock = run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: rebind.example",
                    "--unix-socket", bed.socketPath().toString(), "http://rebind.example/v1/status");
            assertThat(sock.out()).as(sock.toString()).isEqualTo("200");
        }
    }

    @Test
    void aLiveSocketIsNotTakenOverAStaleOneIsReplacedAndCloseRemovesIt() throws Exception {
        try (ServerTestBed first = new ServerTestBed("jvsl"); ServerTestBed second = new ServerTestBed("jvsm")) {
            Daemon d = first.daemon(TOPOLOGY);
            Throwable taken = catchThrowable(() -> Daemon.start(second.daemonOptions().withSocket(first.socketPath())));
            assertThat(taken).isInstanceOf(IllegalStateException.class).hasMessageContaining("already listens on "
                    + first.socketPath());
            assertThat(Http.socket(first.socketPath()).get("/v1/health").status()).isEqualTo(200);

            // a socket file nobody listens on, as a daemon killed with SIGKILL leaves it
            Path stale = second.socketPath();
            try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.bind(UnixDomainSocketAddress.of(stale));
            }
            assertThat(Files.exists(stale)).isTrue();
            try (Daemon again = Daemon.start(second.daemonOptions())) {
                Http.Response h = Http.socket(stale).get("/v1/health");
                assertThat(h.status()).as(h.toString()).isEqualTo(200);
                assertThat(h.json().path("engine").asText()).isEqualTo(second.options.name());
                again.controller().destroy();
            }
            assertThat(Files.exists(stale)).as("close removes the socket").isFalse();

            Path notASocket = second.socketPath().resolveSibling("plain");
            Files.writeString(notASocket, "x");
            assertThat(catchThrowable(() -> Daemon.start(second.daemonOptions().withSocket(notASocket))))
                    .hasMessageContaining("is not a socket");
            Path open = second.socketPath().resolveSibling("open");
            Files.createDirectory(open);
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
            assertThat(catchThrowable(() -> Daemon.start(second.daemonOptions().withSocket(open.resolve("s.sock")))))
                    .hasMessageContaining("writable by every user");
            assertThat(d.socket()).contains(first.socketPath());
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The bed's directory (0700 from createTempDirectory) opened to every user, down to the socket. */
    static void openForEveryone(ServerTestBed bed) throws IOException {
        Files.setPosixFilePermissions(bed.socketPath().getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static String group(Path p) throws IOException {
        return Files.getFileAttributeView(p, PosixFileAttributeView.class).readAttributes().group().getName();
    }

    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- out:\n" + out + "\n--- err:\n" + err;
        }
    }

    /** Runs {@code cmd} as user nobody with group {@code group} and no supplementary groups. */
    static Run asNobody(String group, String... cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=" + group, "--clear-groups"));
        all.addAll(List.of(cmd));
        return run(all.toArray(String[]::new));
    }

    static Run run(String... cmd) throws Exception {
        Path err = Files.createTempFile("jvisor-socket-test", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish within 60 s");
            }
            return new Run(p.exitValue(), out, Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }
}

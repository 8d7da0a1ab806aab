package io.jvisor.cli;

import io.jvisor.server.Daemon;
import io.jvisor.server.DaemonOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code jvisor daemon}: runs jvisord in the foreground. */
@Command(name = "daemon", description = {
        "Run jvisord: the REST server that owns the engine. It restores the saved topology on start",
        "(adopting the pinned kernel objects: traffic never stops) and listens on its control socket",
        "(" + DaemonOptions.DEFAULT_SOCKET + ", mode 0660, group " + DaemonOptions.DEFAULT_GROUP
                + " when that group exists, else root-only 0600).",
        "TCP only with --listen; every TCP request then needs the bearer token (STATE_DIR/token, created",
        "0600), on loopback too, or a client certificate (--tls-client-ca), and a Host header that names",
        "the listener (--allow-host adds names).",
        "It needs root, or a user holding CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON and CAP_NET_RAW (docs/server.md)."},
        footer = {"", "Examples:", "  sudo jvisor daemon", "  sudo jvisor daemon --log-format json",
                "  sudo jvisor daemon --socket /run/jvisor/lab.sock --engine lab",
                "  sudo jvisor daemon --listen 127.0.0.1:8472",
                "  sudo jvisor daemon --listen 0.0.0.0:8472 --tls-keystore /etc/jvisor/jvisord.p12 \\",
                "       --tls-password-file /etc/jvisor/tls-password --allow-host node1.example.org",
                "  # on TCP, clients send 'Authorization: Bearer TOKEN' (STATE_DIR/token)",
                "", "API: curl --unix-socket " + DaemonOptions.DEFAULT_SOCKET + " http://localhost/openapi.json"})
public final class DaemonCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    EngineMixin engine;

    @CommandLine.Option(names = "--socket-group", defaultValue = DaemonOptions.DEFAULT_GROUP, paramLabel = "GROUP",
            description = "The group whose members may use the control socket (default: ${DEFAULT-VALUE}); "
                    + "without such a group the socket is root-only.")
    String socketGroup;

    @CommandLine.Option(names = "--no-socket", description = "No control socket (then --listen is required).")
    boolean noSocket;

    @CommandLine.Option(names = "--listen", paramLabel = "ADDRESS[:PORT]",
            description = "Listen on TCP as well (port " + DaemonOptions.DEFAULT_PORT + " unless given; "
                    + "[::1]:PORT for IPv6). Every TCP request needs the bearer token or a client certificate.")
    String listen;

    @CommandLine.Option(names = "--allow-host", paramLabel = "NAME",
            description = "A further name clients may use in the Host header on TCP (repeatable).")
    List<String> allowHosts = new ArrayList<>();

    @CommandLine.Option(names = "--max-body", defaultValue = "" + DaemonOptions.DEFAULT_MAX_BODY, paramLabel = "BYTES",
            description = "The largest request body (default: ${DEFAULT-VALUE}).")
    long maxBody;

    @CommandLine.Option(names = "--tls-keystore", paramLabel = "FILE",
            description = "Serve HTTPS on TCP with this PKCS#12 key store (root-only file).")
    Path tlsKeyStore;

    @CommandLine.Option(names = "--tls-password-file", paramLabel = "FILE",
            description = "The file whose first line is the key store's password (root-only file).")
    Path tlsPasswordFile;

    @CommandLine.Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "Require client certificates signed by these PEM certificates (mutual TLS); "
                    + "such clients need no token.")
    Path tlsClientCa;

    @CommandLine.Option(names = "--log-format", defaultValue = "text", paramLabel = "FORMAT",
            description = "text or json (one JSON object per line) (default: ${DEFAULT-VALUE}).")
    String logFormat;

    @Override
    public Integer call() throws InterruptedException {
        // before the first logger exists: logback reads these when it starts
        System.setProperty("jvisor.log.level", "INFO");
        System.setProperty("jvisor.log.appender", logFormat.equalsIgnoreCase("json") ? "JSON" : "TEXT");
        DaemonOptions options = options();
        // no uid check: Daemon.start checks the capabilities themselves, so that a unit with User= and
        // AmbientCapabilities= works (docs/server.md, "Least privilege")
        boolean running;
        try {
            running = DaemonClient.find(engine.options(), null).map(c -> {
                c.close();
                return true;
            }).orElse(false);
        } catch (DaemonClient.Unreachable | DaemonClient.NoPermission e) {
            running = true;
        }
        if (running) {
            spec.commandLine().getErr().println("jvisor: a daemon already runs for engine '" + engine.engine + "'");
            return Exit.FAILED;
        }
        Daemon d;
        try {
            d = Daemon.start(options);
        } catch (IllegalStateException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("jvisor: " + e.getMessage());
            return Exit.FAILED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("jvisord-stop").unstarted(() -> {
            d.close(); // the network keeps running; the next daemon adopts it
            stopped.countDown();
        }));
        spec.commandLine().getOut().println("jvisord: listening on " + d.where() + " (engine '" + engine.engine + "')");
        spec.commandLine().getOut().flush();
        stopped.await();
        return Exit.OK;
    }

    /** The daemon's options from the command line; a bad combination is a usage error. */
    DaemonOptions options() {
        CommandLine cl = spec.commandLine();
        if ((tlsKeyStore == null) != (tlsPasswordFile == null)) {
            throw new CommandLine.ParameterException(cl, "--tls-keystore and --tls-password-file go together");
        }
        if (listen == null && (tlsKeyStore != null || tlsClientCa != null || !allowHosts.isEmpty())) {
            throw new CommandLine.ParameterException(cl, "--tls-keystore, --tls-client-ca and --allow-host are for "
                    + "the TCP listener: give --listen ADDRESS[:PORT]");
        }
        if (tlsClientCa != null && tlsKeyStore == null) {
            throw new CommandLine.ParameterException(cl, "--tls-client-ca needs --tls-keystore (client certificates "
                    + "come with TLS)");
        }
        if (noSocket && engine.socket != null) {
            throw new CommandLine.ParameterException(cl, "--no-socket and --socket contradict each other");
        }
        if (noSocket && listen == null) {
            throw new CommandLine.ParameterException(cl, "--no-socket needs --listen: the daemon must listen somewhere");
        }
        try {
            DaemonOptions.Tcp tcp = null;
            if (listen != null) {
                tcp = DaemonOptions.Tcp.parse(listen).withExtraHosts(allowHosts);
                if (tlsKeyStore != null) {
                    tcp = tcp.withTls(new DaemonOptions.Tls(tlsKeyStore, tlsPasswordFile, tlsClientCa));
                }
            }
            Path socket = noSocket ? null : engine.socket != null ? engine.socket : Path.of(DaemonOptions.DEFAULT_SOCKET);
            // TCP first: the options always name a listener, and a daemon without a socket has TCP
            return DaemonOptions.of(engine.options()).withTcp(tcp).withSocket(socket).withSocketGroup(socketGroup)
                    .withMaxBody(maxBody);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }
}

package io.jvisor.cli;

import io.jvisor.server.Daemon;
import io.jvisor.server.DaemonOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code jvisor daemon}: runs jvisord in the foreground. */
@Command(name = "daemon", description = {
        "Run jvisord: the REST server that owns the engine. It restores the saved topology on start",
        "(adopting the pinned kernel objects: traffic never stops), binds 127.0.0.1 unless told",
        "otherwise, and requires a bearer token (from STATE_DIR/token, created 0600) on any other address.",
        "It needs root, or a user holding CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON and CAP_NET_RAW (docs/server.md)."},
        footer = {"", "Examples:", "  sudo jvisor daemon", "  sudo jvisor daemon --port 9000 --log-format json",
                "  sudo jvisor daemon --listen 0.0.0.0 --tls-keystore /etc/jvisor/jvisord.p12 \\",
                "       --tls-password-file /etc/jvisor/tls-password",
                "  # off loopback, clients send 'Authorization: Bearer TOKEN' (STATE_DIR/token)",
                "", "API: GET http://127.0.0.1:8472/openapi.json"})
public final class DaemonCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    EngineMixin engine;

    @CommandLine.Option(names = "--listen", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "The address to bind (default: ${DEFAULT-VALUE}).")
    String listen;

    @CommandLine.Option(names = "--port", defaultValue = "" + DaemonOptions.DEFAULT_PORT, paramLabel = "PORT",
            description = "The TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @CommandLine.Option(names = "--max-body", defaultValue = "" + DaemonOptions.DEFAULT_MAX_BODY, paramLabel = "BYTES",
            description = "The largest request body (default: ${DEFAULT-VALUE}).")
    long maxBody;

    @CommandLine.Option(names = "--tls-keystore", paramLabel = "FILE",
            description = "Serve HTTPS with this PKCS#12 key store (root-only file).")
    java.nio.file.Path tlsKeyStore;

    @CommandLine.Option(names = "--tls-password-file", paramLabel = "FILE",
            description = "The file whose first line is the key store's password (root-only file).")
    java.nio.file.Path tlsPasswordFile;

    @CommandLine.Option(names = "--log-format", defaultValue = "text", paramLabel = "FORMAT",
            description = "text or json (one JSON object per line) (default: ${DEFAULT-VALUE}).")
    String logFormat;

    @Override
    public Integer call() throws InterruptedException {
        // before the first logger exists: logback reads these when it starts
        System.setProperty("jvisor.log.level", "INFO");
        System.setProperty("jvisor.log.appender", logFormat.equalsIgnoreCase("json") ? "JSON" : "TEXT");
        // no uid check: Daemon.start checks the capabilities themselves, so that a unit with User= and
        // AmbientCapabilities= works (docs/server.md, "Least privilege")
        boolean running;
        try {
            running = DaemonClient.find(engine.options()).isPresent();
        } catch (DaemonClient.Unreachable e) {
            running = true;
        }
        if (running) {
            spec.commandLine().getErr().println("jvisor: a daemon already runs for engine '" + engine.engine + "'");
            return Exit.FAILED;
        }
        if ((tlsKeyStore == null) != (tlsPasswordFile == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--tls-keystore and --tls-password-file go together");
        }
        Daemon d = Daemon.start(new DaemonOptions(engine.options(), listen, port, maxBody, false,
                tlsKeyStore == null ? null : new DaemonOptions.Tls(tlsKeyStore, tlsPasswordFile)));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("jvisord-stop").unstarted(() -> {
            d.close(); // the network keeps running; the next daemon adopts it
            stopped.countDown();
        }));
        spec.commandLine().getOut().println("jvisord: listening on " + d.url() + " (engine '" + engine.engine + "')");
        spec.commandLine().getOut().flush();
        stopped.await();
        return Exit.OK;
    }
}

package io.jvisor.server;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.jvisor.engine.AtomicFile;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * jvisord: a REST server that owns one engine (through a {@link Controller}). Resources under
 * {@code /v1}: module types, the topology (PUT applies, {@code ?dryRun=true} plans), instances,
 * connections, attachments, hosts, tables, devices, counters, an event stream; plus
 * {@code /openapi.json} and {@code /metrics}. JSON or YAML by Content-Type and Accept. Bad requests
 * get a 4xx whose body names field, value and reason; never a stack trace. It listens on its control
 * socket (a unix-domain socket whose mode and group decide who may use it) and, only when asked, on
 * TCP, where every request needs the bearer token or a client certificate and a {@code Host} that
 * names the listener. See docs/server.md.
 *
 * <p>This class starts and stops the server. The parts it puts together: {@link Connectors} (the
 * listeners), {@link Authentication} (who may use them), one {@link Routes} per resource, and
 * {@link Refusals}, which turns every failure into a {@link Refusal}.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    /** The file, in the engine's state directory, that tells clients where the daemon listens. */
    public static final String ENDPOINT_FILE = "daemon.json";
    /** The bearer token file, in the engine's state directory (0600), for the TCP listener. */
    public static final String TOKEN_FILE = "token";

    private final DaemonOptions options;
    private final Controller controller;
    private final Tables tables;
    private final Metrics metrics;
    private final String token;
    private final Captures captures = new Captures();
    /** The media type of a streamed capture. */
    public static final String CAPTURE_TYPE = "application/vnd.tcpdump.pcap";
    /** The response header that names a streamed capture's session, for {@code DELETE .../capture/{id}}. */
    public static final String CAPTURE_SESSION_HEADER = "Jvisor-Capture-Session";
    private Javalin app;
    private ControlSocket socket;
    private Connector socketConnector;
    private ServerConnector tcpConnector;

    private Daemon(DaemonOptions options, Controller controller, String token) {
        this.options = options;
        this.controller = controller;
        this.tables = new Tables(controller.engine());
        this.metrics = new Metrics(controller);
        this.token = token;
    }

    /**
     * Starts the daemon: checks that no other daemon answers on its control socket, opens the engine
     * (adopting what a previous daemon left running), then listens. With a TCP listener that takes
     * tokens it reads the bearer token, or creates it on first start.
     *
     * @throws IllegalStateException when a daemon answers on the socket path already, or the path is not a
     *     socket, or its directory is writable by every user
     * @throws io.jvisor.bpf.features.MissingCapabilityException when this process lacks a capability of
     *     {@link DaemonCapabilities#ENGINE}, before anything is touched
     */
    public static Daemon start(DaemonOptions options) {
        DaemonCapabilities.requireEngine(io.jvisor.bpf.features.Capabilities.current());
        String token = options.tcp() == null || !options.tcp().tokenRequired() ? null
                : Authentication.token(options.engine().stateDir().resolve(TOKEN_FILE));
        ControlSocket sock = options.socket() == null ? null : ControlSocket.prepare(options.socket(), options.socketGroup());
        Controller c;
        try {
            c = Controller.open(options.engine());
        } catch (RuntimeException e) {
            if (sock != null) {
                sock.close();
            }
            throw e;
        }
        Daemon d = new Daemon(options, c, token);
        d.socket = sock;
        try {
            d.listen();
        } catch (RuntimeException e) {
            try {
                if (d.app != null) {
                    d.app.stop();
                }
            } finally {
                if (sock != null) {
                    sock.close();
                }
                c.close();
            }
            throw e;
        }
        return d;
    }

    /** The control socket's path, when it listens on one. */
    public Optional<Path> socket() {
        return socket == null ? Optional.empty() : Optional.of(socket.path());
    }

    /** The TCP port it listens on, when it listens on TCP. */
    public OptionalInt port() {
        return tcpConnector == null ? OptionalInt.empty() : OptionalInt.of(tcpConnector.getLocalPort());
    }

    /** The base URL of its TCP listener ({@code http://} or {@code https://}), when it listens on TCP. */
    public Optional<String> url() {
        if (tcpConnector == null) {
            return Optional.empty();
        }
        DaemonOptions.Tcp t = options.tcp();
        String h = t.wildcard() ? (t.host().contains(":") ? "::1" : "127.0.0.1") : t.host();
        return Optional.of((t.tls() == null ? "http://" : "https://") + (h.contains(":") ? "[" + h + "]" : h) + ":"
                + tcpConnector.getLocalPort());
    }

    /** Where it listens, for people: {@code unix:/run/jvisor/jvisord.sock (0660, group jvisor)} and/or the URL. */
    public String where() {
        List<String> w = new ArrayList<>();
        socket().ifPresent(p -> w.add("unix:" + p + " (" + socket.access() + ")"));
        url().ifPresent(u -> w.add(u + (options.tcp().tokenRequired() ? " (bearer token)" : " (client certificates)")));
        return String.join(" and ", w);
    }

    /** Its controller. */
    public Controller controller() {
        return controller;
    }

    /** Stops listening and closes the engine's Java side; the network keeps running. */
    @Override
    public void close() {
        try {
            captures.stopAll(); // a streaming capture would hold the server's stop up
            if (app != null) {
                app.stop();
            }
        } finally {
            try {
                if (socket != null) {
                    socket.close();
                }
                AtomicFile.delete(options.engine().stateDir().resolve(ENDPOINT_FILE));
            } finally {
                controller.close();
            }
        }
    }

    // ---- setup ---------------------------------------------------------------------------------

    private void listen() {
        Authentication auth = new Authentication(options.tcp(), token);
        TopologyChanges changes = new TopologyChanges(controller, metrics);
        long maxBody = options.maxBodyBytes();
        List<Routes> routes = List.of(
                new DaemonRoutes(options, controller),
                new StatsRoutes(controller, metrics),
                new TopologyRoutes(controller, changes, maxBody),
                new InstanceRoutes(controller, changes, maxBody),
                new TableRoutes(controller, tables, maxBody),
                new CaptureRoutes(controller, captures),
                new EventRoutes(controller, options.engine().name()));
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.http.maxRequestSize = maxBody;
            cfg.concurrency.useVirtualThreads = true;
            if (socket != null) {
                cfg.jetty.addConnector((server, http) -> {
                    socketConnector = Connectors.controlSocket(server, http, socket.bindPath());
                    return socketConnector;
                });
            }
            if (options.tcp() != null) {
                cfg.jetty.addConnector((server, http) -> {
                    tcpConnector = Connectors.tcp(server, http, options.tcp());
                    return tcpConnector;
                });
            }
            cfg.routes.before(ctx -> auth.check(viaControlSocket(ctx), ctx.header("Host"), ctx.header("Authorization")));
            new Refusals(metrics).addTo(cfg.routes);
            routes.forEach(r -> r.addTo(cfg.routes));
        });
        app.start();
        if (socket != null) {
            socket.publish();
        }
        writeEndpoint();
        LOG.info("jvisord listening on {} (engine '{}', state {})", where(), options.engine().name(),
                options.engine().stateDir());
    }

    /** Whether the request came over the control socket, rather than TCP. */
    private boolean viaControlSocket(Context ctx) {
        ServletContextRequest r = ServletContextRequest.getServletContextRequest(ctx.req());
        Connector via = r == null ? null : r.getConnectionMetaData().getConnector();
        return via != null && via == socketConnector;
    }

    /** Tells clients where it listens ({@value #ENDPOINT_FILE}), and whether they need the token or TLS. */
    private void writeEndpoint() {
        Map<String, Object> endpoint = new LinkedHashMap<>();
        endpoint.put("socket", socket().map(Path::toString).orElse(null));
        endpoint.put("url", url().orElse(null));
        endpoint.put("pid", ProcessHandle.current().pid());
        endpoint.put("engine", options.engine().name());
        endpoint.put("token", token != null);
        if (options.tcp() != null && options.tcp().tls() != null) {
            endpoint.put("tlsKeyStore", options.tcp().tls().keyStore().toString());
            endpoint.put("tlsPasswordFile", options.tcp().tls().passwordFile().toString());
        }
        try {
            AtomicFile.write(options.engine().stateDir().resolve(ENDPOINT_FILE), Exchange.JSON.writeValueAsBytes(endpoint));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- for clients without a daemon ------------------------------------------------------------

    /** The module types of {@code catalog} as the daemon lists them, for clients without a daemon. */
    public static List<Map<String, Object>> types(io.jvisor.engine.ModuleCatalog catalog) {
        return catalog.all().values().stream().map(t -> Responses.ModuleTypeView.of(t).asMap()).toList();
    }

    /** The devices of this process's namespace as the daemon lists them. */
    public static List<Map<String, Object>> devices() {
        return DaemonRoutes.devices().stream().map(Responses.DeviceView::asMap).toList();
    }
}

package io.jvisor.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.jvisor.engine.AtomicFile;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.TopologyException;
import io.jvisor.net.Link;
import io.jvisor.net.Rtnl;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestProblem;
import io.jvisor.server.manifest.ManifestReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * jvisord: a REST server that owns one engine (through a {@link Controller}). Resources under
 * {@code /v1}: module types, the topology (PUT applies, {@code ?dryRun=true} plans), instances,
 * connections, attachments, hosts, tables, devices, counters, an event stream; plus
 * {@code /openapi.json} and {@code /metrics}. JSON or YAML by Content-Type and Accept. Bad requests
 * get a 4xx whose body names field, value and reason; never a stack trace. It listens on its control
 * socket (a unix-domain socket whose mode and group decide who may use it) and, only when asked, on
 * TCP, where every request needs the bearer token or a client certificate and a {@code Host} that
 * names the listener. See docs/server.md.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    /** Reads decoded table values: integers as BigInteger, so a 64-bit unsigned value keeps its digits. */
    private static final ObjectMapper TABLE_VALUES = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);
    /** The file, in the engine's state directory, that tells clients where the daemon listens. */
    public static final String ENDPOINT_FILE = "daemon.json";
    /** The bearer token file, in the engine's state directory (0600), for the TCP listener. */
    public static final String TOKEN_FILE = "token";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS).build());

    private final DaemonOptions options;
    private final Controller controller;
    private final Tables tables;
    private final Metrics metrics;
    private final String token;
    private final byte[] openapi;
    private final Captures captures = new Captures();
    /** The media type of a streamed capture. */
    public static final String CAPTURE_TYPE = "application/vnd.tcpdump.pcap";
    /** The response header that names a streamed capture's session, for {@code DELETE .../capture/{id}}. */
    public static final String CAPTURE_SESSION_HEADER = "Jvisor-Capture-Session";
    private Javalin app;
    private ControlSocket socket;
    private org.eclipse.jetty.server.Connector socketConnector;
    private org.eclipse.jetty.server.ServerConnector tcpConnector;

    private Daemon(DaemonOptions options, Controller controller, String token) {
        this.options = options;
        this.controller = controller;
        this.tables = new Tables(controller.engine());
        this.metrics = new Metrics(controller);
        this.token = token;
        try (InputStream in = Daemon.class.getResourceAsStream("openapi.json")) {
            this.openapi = in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the OpenAPI document is missing from the jar", e);
        }
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
                : token(options.engine().stateDir().resolve(TOKEN_FILE));
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

    private static String token(Path file) {
        try {
            if (Files.exists(file)) {
                String t = Files.readString(file).trim();
                if (t.length() < 32) {
                    throw new IllegalStateException("the token in " + file + " is shorter than 32 characters");
                }
                return t;
            }
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            String t = HexFormat.of().formatHex(b);
            Files.createDirectories(file.getParent());
            Files.writeString(Files.createFile(file, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------"))), t + "\n");
            LOG.info("created the bearer token file {}", file);
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the token file " + file, e);
        }
    }

    private void listen() {
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.http.maxRequestSize = options.maxBodyBytes();
            cfg.concurrency.useVirtualThreads = true;
            if (socket != null) {
                cfg.jetty.addConnector((server, http) -> {
                    var c = new org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector(server,
                            new org.eclipse.jetty.server.HttpConnectionFactory(http));
                    c.setUnixDomainPath(socket.bindPath());
                    c.setAcceptQueueSize(1024);
                    socketConnector = c;
                    return c;
                });
            }
            if (options.tcp() != null) {
                // our own connector: the default accept queue (50) overflows with a few hundred clients connecting at once
                cfg.jetty.addConnector((server, http) -> {
                    tcpConnector = tcpConnector(server, http, options.tcp());
                    return tcpConnector;
                });
            }
            cfg.routes.before(this::authorize);
            cfg.routes.exception(ApiException.class, (e, ctx) -> refuse(ctx, e.status(), e.problems()));
            cfg.routes.exception(ManifestException.class, (e, ctx) -> refuse(ctx, 400, e.problems()));
            cfg.routes.exception(TopologyException.class, (e, ctx) -> refuse(ctx, 400,
                    Controller.engineProblem(e).problems()));
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> refuse(ctx, e.getStatus(),
                    List.of(new ManifestProblem("(request)", null, e.getMessage()))));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
                refuse(ctx, 500, List.of(new ManifestProblem("(server)", null,
                        "internal error; the daemon's log has the details")));
            });
            cfg.routes.error(404, ctx -> {
                if (ctx.result() == null || ctx.result().isEmpty()) {
                    refuse(ctx, 404, List.of(new ManifestProblem("(path)", ctx.path(), "no such resource; see /openapi.json")));
                }
            });
            cfg.routes.error(405, ctx -> refuse(ctx, 405, List.of(new ManifestProblem("(method)", ctx.method().name(),
                    "not allowed on " + ctx.path()))));
            routes(cfg.routes);
        });
        app.start();
        if (socket != null) {
            socket.publish();
        }
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
            AtomicFile.write(options.engine().stateDir().resolve(ENDPOINT_FILE), JSON.writeValueAsBytes(endpoint));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LOG.info("jvisord listening on {} (engine '{}', state {})", where(), options.engine().name(),
                options.engine().stateDir());
    }

    private static org.eclipse.jetty.server.ServerConnector tcpConnector(org.eclipse.jetty.server.Server server,
            org.eclipse.jetty.server.HttpConfiguration http, DaemonOptions.Tcp tcp) {
        org.eclipse.jetty.server.ServerConnector c;
        if (tcp.tls() == null) {
            c = new org.eclipse.jetty.server.ServerConnector(server, new org.eclipse.jetty.server.HttpConnectionFactory(http));
        } else {
            org.eclipse.jetty.util.ssl.SslContextFactory.Server ssl = new org.eclipse.jetty.util.ssl.SslContextFactory.Server();
            ssl.setKeyStorePath(tcp.tls().keyStore().toString());
            ssl.setKeyStoreType("PKCS12");
            ssl.setKeyStorePassword(tcp.tls().password());
            if (tcp.tls().clientCa() != null) {
                ssl.setTrustStore(trustStore(tcp.tls().clientCa()));
                ssl.setNeedClientAuth(true); // the handshake fails without a certificate the CA signed
            }
            org.eclipse.jetty.server.HttpConfiguration https = new org.eclipse.jetty.server.HttpConfiguration(http);
            org.eclipse.jetty.server.SecureRequestCustomizer src = new org.eclipse.jetty.server.SecureRequestCustomizer();
            src.setSniHostCheck(false); // clients reach it by address; the certificate names it by SAN
            https.addCustomizer(src);
            c = new org.eclipse.jetty.server.ServerConnector(server,
                    new org.eclipse.jetty.server.SslConnectionFactory(ssl, "http/1.1"),
                    new org.eclipse.jetty.server.HttpConnectionFactory(https));
        }
        c.setHost(tcp.host());
        c.setPort(tcp.port());
        c.setAcceptQueueSize(1024);
        return c;
    }

    /** A key store holding the PEM certificates of {@code pem} as trusted entries. */
    static java.security.KeyStore trustStore(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException("no certificate in the client CA file " + pem);
            }
            return ks;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the client CA file " + pem, e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("the client CA file " + pem + " holds no usable PEM certificate: "
                    + e.getMessage(), e);
        }
    }

    /**
     * On the control socket, every request is allowed: the socket's mode and group decided who could
     * connect. On TCP, the {@code Host} must name the listener (421 otherwise: DNS rebinding) and the
     * bearer token must come with the request unless TLS verified a client certificate (401).
     */
    private void authorize(Context ctx) {
        org.eclipse.jetty.ee10.servlet.ServletContextRequest r =
                org.eclipse.jetty.ee10.servlet.ServletContextRequest.getServletContextRequest(ctx.req());
        org.eclipse.jetty.server.Connector via = r == null ? null : r.getConnectionMetaData().getConnector();
        if (via != null && via == socketConnector) {
            return;
        }
        DaemonOptions.Tcp tcp = options.tcp();
        if (tcp == null) {
            throw new ApiException(403, "(connection)", null, "this daemon takes requests on its control socket only");
        }
        String host = ctx.header("Host");
        if (!tcp.acceptsHost(host)) {
            throw new ApiException(421, "Host", host, "not a name of this daemon (it accepts " + acceptedHosts(tcp)
                    + "): a page that reached it through a name of its own is refused (DNS rebinding); add the name "
                    + "with --allow-host");
        }
        if (token == null) {
            return;
        }
        String h = ctx.header("Authorization");
        byte[] want = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        if (h == null || !MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), want)) {
            throw new ApiException(401, "Authorization", null, "a bearer token is required on TCP (root can read it "
                    + "from the daemon's state directory; or use the control socket)");
        }
    }

    private static String acceptedHosts(DaemonOptions.Tcp t) {
        List<String> a = new ArrayList<>();
        a.add(t.host());
        a.add("localhost");
        if (t.wildcard()) {
            a.add("any IP address");
        } else if (DaemonOptions.Tcp.literal(t.host()) != null && DaemonOptions.Tcp.literal(t.host()).isLoopbackAddress()) {
            a.add("loopback addresses");
        }
        a.addAll(t.extraHosts());
        return String.join(", ", a);
    }

    private void routes(io.javalin.config.RoutesConfig r) {
        r.get("/openapi.json", ctx -> ctx.contentType("application/json").result(openapi));
        r.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
        r.get("/v1/health", ctx -> send(ctx, 200, Map.of("status", "ok", "engine", options.engine().name())));
        r.get("/v1/status", ctx -> send(ctx, 200, status()));
        r.get("/v1/types", ctx -> send(ctx, 200, controller.catalog().all().values().stream().map(Daemon::type).toList()));
        r.get("/v1/types/{name}", ctx -> {
            ModuleType t = controller.catalog().get(ctx.pathParam("name"));
            if (t == null) {
                throw new ApiException(404, "type", ctx.pathParam("name"), "no such module type (known: "
                        + String.join(", ", controller.catalog().all().keySet()) + ")");
            }
            send(ctx, 200, type(t));
        });
        r.get("/v1/topology", ctx -> {
            Manifest m = controller.manifest();
            if (m == null) {
                throw new ApiException(404, "topology", null, "nothing is applied");
            }
            send(ctx, 200, ManifestReader.toTree(m));
        });
        r.put("/v1/topology", ctx -> {
            Manifest m = ManifestReader.fromTree(body(ctx));
            send(ctx, 200, apply(m, dryRun(ctx)));
        });
        r.delete("/v1/topology", ctx -> {
            boolean dry = dryRun(ctx);
            long t0 = System.nanoTime();
            ApplyResult res = controller.down(dry);
            if (!dry) {
                metrics.apply(System.nanoTime() - t0, "removed");
            }
            send(ctx, 200, res);
        });
        r.get("/v1/instances", ctx -> send(ctx, 200, instances()));
        r.get("/v1/instances/{name}", ctx -> send(ctx, 200, instance(ctx.pathParam("name"))));
        r.put("/v1/instances/{name}", ctx -> {
            JsonNode b = body(ctx);
            Manifest edited = Edits.putInstance(current(), ctx.pathParam("name"), b);
            send(ctx, 200, apply(edited, dryRun(ctx)));
        });
        r.delete("/v1/instances/{name}", ctx -> send(ctx, 200, apply(Edits.deleteInstance(current(),
                ctx.pathParam("name")), dryRun(ctx))));
        r.get("/v1/connections", ctx -> send(ctx, 200, current().spec().connections()));
        r.post("/v1/connections", ctx -> send(ctx, 200, apply(Edits.addConnection(current(), body(ctx)), dryRun(ctx))));
        r.delete("/v1/connections/{endpoint}", ctx -> send(ctx, 200, apply(Edits.deleteConnection(current(),
                ctx.pathParam("endpoint")), dryRun(ctx))));
        r.get("/v1/attachments", ctx -> send(ctx, 200, current().spec().attachments()));
        r.post("/v1/attachments", ctx -> send(ctx, 200, apply(Edits.addAttachment(current(), body(ctx)), dryRun(ctx))));
        r.delete("/v1/attachments/{port}", ctx -> send(ctx, 200, apply(Edits.deleteAttachment(current(),
                ctx.pathParam("port")), dryRun(ctx))));
        r.get("/v1/hosts", ctx -> send(ctx, 200, hosts()));
        r.get("/v1/instances/{name}/tables", ctx -> send(ctx, 200, tables.list(ctx.pathParam("name"))));
        r.get("/v1/instances/{name}/tables/{table}", ctx -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("table", tables.info(ctx.pathParam("name"), ctx.pathParam("table")));
            out.put("entries", tables.entries(ctx.pathParam("name"), ctx.pathParam("table"), limit(ctx)));
            send(ctx, 200, out);
        });
        r.get("/v1/instances/{name}/tables/{table}/entries/{key}", ctx -> send(ctx, 200,
                tables.get(ctx.pathParam("name"), ctx.pathParam("table"), ctx.pathParam("key"))
                        .orElseThrow(() -> new ApiException(404, "key", ctx.pathParam("key"), "no such entry"))));
        r.put("/v1/instances/{name}/tables/{table}/entries/{key}", ctx -> {
            JsonNode b = body(ctx);
            if (!b.isObject() || !b.has("value") || b.get("value").isNull() || b.size() != 1) {
                throw new ApiException(400, "value", b.toString(), "the body is {\"value\": \"HEX\"}, or {\"value\": "
                        + "VALUE} with VALUE decoded as the table's entries show it");
            }
            JsonNode v = b.get("value");
            Tables.Entry e = tables.put(ctx.pathParam("name"), ctx.pathParam("table"), ctx.pathParam("key"),
                    v.isTextual() ? v.asText() : TABLE_VALUES.convertValue(v, Object.class));
            controller.publish(ChangeEvent.of("table-put", ctx.pathParam("name") + "/" + ctx.pathParam("table"),
                    Map.of("key", e.key(), "value", e.value())));
            send(ctx, 200, e);
        });
        r.delete("/v1/instances/{name}/tables/{table}/entries/{key}", ctx -> {
            if (!tables.delete(ctx.pathParam("name"), ctx.pathParam("table"), ctx.pathParam("key"))) {
                throw new ApiException(404, "key", ctx.pathParam("key"), "no such entry");
            }
            controller.publish(ChangeEvent.of("table-delete", ctx.pathParam("name") + "/" + ctx.pathParam("table"),
                    Map.of("key", ctx.pathParam("key"))));
            ctx.status(204);
        });
        r.get("/v1/instances/{name}/capture", ctx -> {
            long count = longParam(ctx, "count", 0);
            int snaplen = (int) longParam(ctx, "snaplen", io.jvisor.modules.capture.CaptureConfig.MAX_SNAPLEN);
            int seconds = (int) longParam(ctx, "seconds", 0);
            captures.stream(controller.engine(), ctx.pathParam("name"), count, snaplen, seconds, id -> {
                ctx.res().setStatus(200);
                ctx.res().setContentType(CAPTURE_TYPE);
                ctx.res().setHeader(CAPTURE_SESSION_HEADER, Long.toString(id));
            }, () -> {
                try {
                    return ctx.res().getOutputStream();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, Captures.clientGone(ctx.req()));
        });
        r.delete("/v1/instances/{name}/capture/{id}", ctx -> {
            long id;
            try {
                id = Long.parseLong(ctx.pathParam("id"));
            } catch (NumberFormatException e) {
                throw new ApiException(400, "id", ctx.pathParam("id"), "not a session id");
            }
            send(ctx, 200, captures.stop(ctx.pathParam("name"), id));
        });
        r.get("/v1/devices", ctx -> send(ctx, 200, devices()));
        r.get("/v1/counters", ctx -> send(ctx, 200, Counters.read(controller.engine())));
        r.get("/v1/counters/{instance}", ctx -> {
            Counters.InstanceRow row = Counters.read(controller.engine(), ctx.pathParam("instance"));
            if (row == null) {
                throw new ApiException(404, "instance", ctx.pathParam("instance"), "no such instance");
            }
            send(ctx, 200, row);
        });
        r.sse("/v1/events", client -> {
            client.keepAlive();
            java.util.function.Consumer<ChangeEvent> l = e -> {
                try {
                    Map<String, Object> data = new LinkedHashMap<>();
                    data.put("type", e.type());
                    data.put("subject", e.subject());
                    data.put("detail", e.detail());
                    data.put("time", e.time().toString());
                    client.sendEvent(e.type(), JSON.writer().without(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(data));
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            };
            controller.addListener(l);
            client.onClose(() -> controller.removeListener(l));
            client.sendComment("jvisord events of engine " + options.engine().name());
        });
    }

    // ---- resources -----------------------------------------------------------------------------

    private ApplyResult apply(Manifest m, boolean dryRun) {
        long t0 = System.nanoTime();
        try {
            ApplyResult r = controller.apply(m, dryRun);
            metrics.apply(System.nanoTime() - t0, dryRun ? "dry-run" : "ok");
            return r;
        } catch (ManifestException | ApiException e) {
            metrics.apply(System.nanoTime() - t0, "invalid");
            throw e;
        } catch (TopologyException e) {
            metrics.apply(System.nanoTime() - t0, "refused");
            throw e;
        }
    }

    private Manifest current() {
        Manifest m = controller.manifest();
        return m == null ? Manifest.empty("default") : m;
    }

    private Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        Manifest m = controller.manifest();
        s.put("engine", options.engine().name());
        s.put("stateDir", options.engine().stateDir().toString());
        s.put("pinRoot", options.engine().pinRoot().toString());
        s.put("attach", controller.engine().attachMethod().name().toLowerCase(java.util.Locale.ROOT));
        s.put("topology", m == null ? null : m.name());
        s.put("instances", m == null ? 0 : m.spec().instances().size());
        s.put("labPrefix", controller.labPrefix());
        Map<String, String> ns = new LinkedHashMap<>();
        if (m != null) {
            m.spec().hosts().forEach(h -> ns.put(h.name(), controller.hostNamespace(h.name())));
        }
        s.put("hostNamespaces", ns);
        s.put("applies", controller.applies());
        s.put("pid", ProcessHandle.current().pid());
        return s;
    }

    /** The module types of {@code catalog} as the daemon lists them, for clients without a daemon. */
    public static List<Map<String, Object>> types(io.jvisor.engine.ModuleCatalog catalog) {
        return catalog.all().values().stream().map(Daemon::type).toList();
    }

    static Map<String, Object> type(ModuleType t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", t.name());
        out.put("ports", t.ports());
        out.put("codeHash", t.code().hash());
        Class<? extends Record> schema = t.configSchema();
        List<io.jvisor.engine.ConfigKey> declared = t.configKeys();
        if (!declared.isEmpty()) {
            List<Map<String, Object>> keys = new ArrayList<>();
            for (io.jvisor.engine.ConfigKey k : declared) {
                Map<String, Object> key = new LinkedHashMap<>();
                key.put("pattern", k.pattern());
                key.put("syntax", k.syntax());
                key.put("default", k.defaultValue());
                key.put("required", k.required());
                key.put("description", k.description());
                keys.add(key);
            }
            out.put("configSchema", Map.of("type", "keys", "keys", keys));
        } else if (schema != null) {
            Map<String, String> keys = new LinkedHashMap<>();
            for (var rc : schema.getRecordComponents()) {
                keys.put(rc.getName(), rc.getType().getSimpleName());
            }
            out.put("configSchema", Map.of("type", "record", "keys", keys));
        } else {
            out.put("configSchema", Map.of("type", "free-form", "description",
                    "no keys declared; flat keys checked by the module's own validation (see docs/modules.md)"));
        }
        return out;
    }

    private List<Map<String, Object>> instances() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Manifest.Instance i : current().spec().instances()) {
            out.add(instance(i));
        }
        return out;
    }

    private Map<String, Object> instance(String name) {
        for (Manifest.Instance i : current().spec().instances()) {
            if (i.name().equals(name)) {
                return instance(i);
            }
        }
        throw new ApiException(404, "instance", name, "no such instance");
    }

    private Map<String, Object> instance(Manifest.Instance i) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", i.name());
        out.put("type", i.type());
        out.put("config", i.config());
        Map<String, String> ports = new java.util.TreeMap<>();
        for (var c : controller.engine().topology().connections()) {
            if (c.a().instance().equals(i.name())) {
                ports.put(Integer.toString(c.a().port()), c.b().toString());
            }
            if (c.b() instanceof io.jvisor.engine.Endpoint.Port p && p.instance().equals(i.name())) {
                ports.put(Integer.toString(p.port()), c.a().toString());
            }
        }
        out.put("ports", ports);
        try {
            out.put("programId", controller.engine().programId(i.name()));
        } catch (RuntimeException e) {
            out.put("programId", null);
        }
        return out;
    }

    private List<Map<String, Object>> hosts() {
        List<Map<String, Object>> out = new ArrayList<>();
        Manifest m = controller.manifest();
        if (m == null) {
            return out;
        }
        for (Manifest.Host h : m.spec().hosts()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", h.name());
            o.put("netns", controller.hostNamespace(h.name()));
            o.put("interfaces", h.interfaces());
            o.put("gateway", h.gateway());
            out.add(o);
        }
        return out;
    }

    /** The devices of this process's namespace as the daemon lists them. */
    public static List<Map<String, Object>> devices() {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Rtnl rtnl = Rtnl.open()) {
            for (Link l : rtnl.links()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("name", l.name());
                o.put("ifindex", l.ifindex());
                o.put("kind", l.kind());
                o.put("mtu", l.mtu());
                o.put("up", l.isUp());
                o.put("mac", l.mac().map(Object::toString).orElse(null));
                out.add(o);
            }
        }
        return out;
    }

    // ---- request and response --------------------------------------------------------------------

    private static final Set<String> YAML_TYPES = Set.of("application/yaml", "application/x-yaml", "text/yaml",
            "text/x-yaml");

    private JsonNode body(Context ctx) {
        String ct = ctx.contentType() == null ? "application/json"
                : ctx.contentType().split(";")[0].trim().toLowerCase(java.util.Locale.ROOT);
        boolean yaml = YAML_TYPES.contains(ct);
        if (!yaml && !ct.equals("application/json")) {
            throw new ApiException(415, "Content-Type", ct, "send application/json or application/yaml");
        }
        long declared = ctx.req().getContentLengthLong();
        if (declared > options.maxBodyBytes()) {
            throw new ApiException(413, "(body)", declared + " bytes", "larger than the limit of "
                    + options.maxBodyBytes() + " bytes");
        }
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length > options.maxBodyBytes()) {
            throw new ApiException(413, "(body)", bytes.length + " bytes", "larger than the limit of "
                    + options.maxBodyBytes() + " bytes");
        }
        if (bytes.length == 0) {
            throw new ApiException(400, "(body)", null, "empty; this request needs a body");
        }
        if (yaml) {
            JsonNode n = ManifestReader.parseTree(bytes);
            if (n == null || n.isMissingNode() || n.isNull()) {
                throw new ManifestException("(document)", null, "empty; this request needs a body");
            }
            return n;
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || n.isMissingNode()) {
                throw new ApiException(400, "(body)", null, "empty; this request needs a body");
            }
            return n;
        } catch (IOException e) {
            throw new ApiException(400, "(body)", null, "not valid JSON: " + firstLine(e.getMessage()));
        }
    }

    private static boolean dryRun(Context ctx) {
        String v = ctx.queryParam("dryRun");
        if (v == null || v.equals("false")) {
            return false;
        }
        if (v.equals("true") || v.isEmpty()) {
            return true;
        }
        throw new ApiException(400, "dryRun", v, "must be true or false");
    }

    private static long longParam(Context ctx, String name, long dflt) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0 || n > Integer.MAX_VALUE) {
                throw new ApiException(400, name, v, "out of range 0.." + Integer.MAX_VALUE);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ApiException(400, name, v, "not a whole number");
        }
    }

    private static int limit(Context ctx) {
        String v = ctx.queryParam("limit");
        if (v == null) {
            return 1000;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ApiException(400, "limit", v, "not a whole number");
        }
    }

    private static void send(Context ctx, int status, Object value) throws IOException {
        ctx.status(status);
        if (wantsYaml(ctx)) {
            ctx.contentType("application/yaml").result(YAML.writeValueAsBytes(value));
        } else {
            ctx.contentType("application/json").result(JSON.writeValueAsBytes(value));
        }
    }

    private static boolean wantsYaml(Context ctx) {
        String a = ctx.header("Accept");
        return a != null && YAML_TYPES.stream().anyMatch(a::contains);
    }

    private void refuse(Context ctx, int status, List<ManifestProblem> problems) {
        metrics.refused(status);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status);
        body.put("error", switch (status) {
            case 400 -> "invalid request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 409 -> "conflict";
            case 413 -> "request too large";
            case 415 -> "unsupported media type";
            case 421 -> "misdirected request";
            case 500 -> "internal error";
            default -> "refused";
        });
        body.put("problems", problems);
        try {
            send(ctx, status, body);
        } catch (IOException e) {
            ctx.status(status).result(status + "");
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}

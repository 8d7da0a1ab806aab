package io.jvisor.server;

import io.jvisor.engine.EngineOptions;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How the daemon runs, and where it listens. By default only on its control socket (a unix-domain
 * socket, {@value #DEFAULT_SOCKET}, mode 0660 group {@value #DEFAULT_GROUP} when that group exists,
 * else 0600): file permissions decide who may change the network. TCP is opened only when asked
 * ({@link #withTcp}), and then every TCP request needs the bearer token or a client certificate.
 *
 * @param engine the engine it owns
 * @param socket the control socket's path, or null for none (then {@code tcp} is required)
 * @param socketGroup the group whose members may use the socket (mode 0660); when no such group
 *     exists the socket is root-only (0600); {@link #NO_GROUP} makes it owner-only on purpose, without
 *     a warning
 * @param tcp the TCP listener, or null for none
 * @param maxBodyBytes the largest request body accepted
 */
public record DaemonOptions(EngineOptions engine, Path socket, String socketGroup, Tcp tcp, long maxBodyBytes) {
    /** The default control socket. */
    public static final String DEFAULT_SOCKET = "/run/jvisor/jvisord.sock";
    /** The default group of the control socket. */
    public static final String DEFAULT_GROUP = "jvisor";
    /** The socket group that means none: the socket is its owner's alone (0600), as asked. */
    public static final String NO_GROUP = "-";
    /** The default TCP port, when {@code --listen} names none. */
    public static final int DEFAULT_PORT = 8472;
    /** The default body limit: 8 MiB, enough for a topology of a thousand instances. */
    public static final long DEFAULT_MAX_BODY = 8L << 20;
    /** The longest socket path the kernel takes: sun_path is 108 bytes with its terminating NUL. */
    public static final int MAX_SOCKET_PATH = 107;

    /**
     * A TCP listener. Every request on it needs {@code Authorization: Bearer TOKEN} (the token in the
     * engine's state directory), on loopback too, unless {@code tls} verifies client certificates; and
     * its {@code Host} header must name this listener (see {@link #acceptsHost}), which defeats DNS
     * rebinding.
     *
     * @param host the address to bind, an IP literal or a name
     * @param port the port; 0 picks a free one
     * @param tls HTTPS, or null for plain HTTP
     * @param extraHosts further names clients may put in {@code Host} (e.g. the machine's DNS name)
     */
    public record Tcp(String host, int port, Tls tls, List<String> extraHosts) {
        public Tcp {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("the TCP listen address is empty");
            }
            host = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            extraHosts = extraHosts == null ? List.of() : extraHosts.stream()
                    .map(h -> h.toLowerCase(Locale.ROOT)).toList();
        }

        /** A plain-HTTP listener on {@code host:port}. */
        public Tcp(String host, int port) {
            this(host, port, null, List.of());
        }

        /**
         * Parses {@code ADDRESS[:PORT]}: {@code 127.0.0.1}, {@code 127.0.0.1:9000}, {@code [::1]:9000},
         * {@code ::1}, {@code 0.0.0.0}; the port defaults to {@value DaemonOptions#DEFAULT_PORT}.
         */
        public static Tcp parse(String listen) {
            String s = listen.strip();
            String host = s;
            int port = DEFAULT_PORT;
            if (s.startsWith("[")) {
                int end = s.indexOf(']');
                if (end < 0) {
                    throw new IllegalArgumentException("no ']' in " + listen);
                }
                host = s.substring(1, end);
                if (end + 1 < s.length()) {
                    if (s.charAt(end + 1) != ':') {
                        throw new IllegalArgumentException("expected ':PORT' after ']' in " + listen);
                    }
                    port = port(s.substring(end + 2), listen);
                }
            } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
                host = s.substring(0, s.indexOf(':'));
                port = port(s.substring(s.indexOf(':') + 1), listen);
            }
            return new Tcp(host, port);
        }

        private static int port(String p, String listen) {
            try {
                return Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a port: '" + p + "' in " + listen);
            }
        }

        /** This listener with HTTPS. */
        public Tcp withTls(Tls t) {
            return new Tcp(host, port, t, extraHosts);
        }

        /** This listener accepting {@code names} in {@code Host} as well. */
        public Tcp withExtraHosts(List<String> names) {
            return new Tcp(host, port, tls, names);
        }

        /** Whether requests need the bearer token: unless TLS verifies every client's certificate. */
        public boolean tokenRequired() {
            return tls == null || tls.clientCa() == null;
        }

        /** Whether it binds every address (0.0.0.0 or ::). */
        public boolean wildcard() {
            return literal(host) != null && literal(host).isAnyLocalAddress();
        }

        /**
         * Whether a request's {@code Host} header (without its port) names this listener: its own
         * address or name, {@code localhost}, a loopback literal when it binds loopback, any IP literal
         * when it binds every address, or one of {@code extraHosts}. A page that a browser loaded from
         * some other name (DNS rebinding) sends that name, and is refused.
         */
        public boolean acceptsHost(String hostHeader) {
            if (hostHeader == null) {
                return true; // HTTP/1.0 without Host: no browser sends that
            }
            String h = hostOf(hostHeader).toLowerCase(Locale.ROOT);
            if (h.isEmpty()) {
                return false;
            }
            if (h.equals("localhost") || h.equals(host.toLowerCase(Locale.ROOT)) || extraHosts.contains(h)) {
                return true;
            }
            InetAddress lit = literal(h);
            if (lit == null) {
                return false;
            }
            InetAddress bound = literal(host);
            if (bound == null) {
                return false;
            }
            return wildcard() || lit.equals(bound) || (bound.isLoopbackAddress() && lit.isLoopbackAddress());
        }

        /** The host part of a Host header: {@code [::1]:8472} gives {@code ::1}, {@code a:1} gives {@code a}. */
        static String hostOf(String header) {
            String s = header.strip();
            if (s.startsWith("[")) {
                int end = s.indexOf(']');
                return end < 0 ? "" : s.substring(1, end);
            }
            int colon = s.indexOf(':');
            if (colon >= 0 && colon == s.lastIndexOf(':')) {
                return s.substring(0, colon);
            }
            return s; // a bare IPv6 literal is not a valid Host, but compare it as it is
        }

        static InetAddress literal(String h) {
            try {
                return InetAddress.ofLiteral(h);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
    }

    /**
     * TLS: a PKCS#12 key store with the server's key and certificate, and the file holding its password
     * (both readable by root only, given when the daemon starts; no request can name them).
     *
     * @param keyStore the key store
     * @param passwordFile the file whose first line is the password
     * @param clientCa PEM certificates of the authorities whose client certificates are accepted, or null;
     *     given, every TCP client must present a certificate they signed (mutual TLS), and needs no token
     */
    public record Tls(Path keyStore, Path passwordFile, Path clientCa) {
        /** Server-only TLS. */
        public Tls(Path keyStore, Path passwordFile) {
            this(keyStore, passwordFile, null);
        }

        /** The password. */
        public String password() {
            try {
                return java.nio.file.Files.readAllLines(passwordFile).stream().findFirst().orElse("").strip();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read the TLS password file " + passwordFile, e);
            }
        }

        /** This TLS with client certificates signed by {@code caFile} required. */
        public Tls withClientCa(Path caFile) {
            return new Tls(keyStore, passwordFile, caFile);
        }
    }

    public DaemonOptions {
        if (engine == null) {
            throw new IllegalArgumentException("no engine options");
        }
        if (socket == null && tcp == null) {
            throw new IllegalArgumentException("the daemon needs a control socket or a TCP listener");
        }
        if (socket != null) {
            socket = socket.toAbsolutePath().normalize();
            int len = socket.toString().getBytes(StandardCharsets.UTF_8).length;
            if (len > MAX_SOCKET_PATH) {
                throw new IllegalArgumentException("the socket path " + socket + " is " + len + " bytes; the kernel "
                        + "takes at most " + MAX_SOCKET_PATH);
            }
        }
        socketGroup = socketGroup == null || socketGroup.isBlank() ? DEFAULT_GROUP : socketGroup;
        maxBodyBytes = maxBodyBytes <= 0 ? DEFAULT_MAX_BODY : maxBodyBytes;
    }

    /** The defaults for engine options {@code e}: the control socket {@value #DEFAULT_SOCKET}, no TCP. */
    public static DaemonOptions of(EngineOptions e) {
        return new DaemonOptions(e, Path.of(DEFAULT_SOCKET), DEFAULT_GROUP, null, 0);
    }

    /** These options with the control socket at {@code path}, or none when it is null. */
    public DaemonOptions withSocket(Path path) {
        return new DaemonOptions(engine, path, socketGroup, tcp, maxBodyBytes);
    }

    /** These options with the socket's group {@code group}. */
    public DaemonOptions withSocketGroup(String group) {
        return new DaemonOptions(engine, socket, group, tcp, maxBodyBytes);
    }

    /** These options with TCP listener {@code t}, or none when it is null. */
    public DaemonOptions withTcp(Tcp t) {
        return new DaemonOptions(engine, socket, socketGroup, t, maxBodyBytes);
    }

    /** These options with body limit {@code bytes} (0: the default). */
    public DaemonOptions withMaxBody(long bytes) {
        return new DaemonOptions(engine, socket, socketGroup, tcp, bytes);
    }
}

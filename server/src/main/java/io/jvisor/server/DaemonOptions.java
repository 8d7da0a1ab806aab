package io.jvisor.server;

import io.jvisor.engine.EngineOptions;

/**
 * How the daemon runs.
 *
 * @param engine the engine it owns
 * @param host the address it binds: 127.0.0.1 by default; any other needs the bearer token
 * @param port the TCP port; 0 picks a free one
 * @param maxBodyBytes the largest request body accepted
 * @param tokenRequired whether requests need the bearer token; always true off loopback
 * @param tls the TLS key store, or null for plain HTTP
 */
public record DaemonOptions(EngineOptions engine, String host, int port, long maxBodyBytes, boolean tokenRequired,
                            Tls tls) {
    /**
     * TLS: a PKCS#12 key store with the server's key and certificate, and the file holding its password
     * (both readable by root only, given when the daemon starts; no request can name them).
     *
     * @param keyStore the key store
     * @param passwordFile the file whose first line is the password
     */
    public record Tls(java.nio.file.Path keyStore, java.nio.file.Path passwordFile) {
        /** The password. */
        public String password() {
            try {
                return java.nio.file.Files.readAllLines(passwordFile).stream().findFirst().orElse("").strip();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read the TLS password file " + passwordFile, e);
            }
        }
    }

    /** The default port. */
    public static final int DEFAULT_PORT = 8472;
    /** The default body limit: 8 MiB, enough for a topology of a thousand instances. */
    public static final long DEFAULT_MAX_BODY = 8L << 20;

    public DaemonOptions {
        host = host == null ? "127.0.0.1" : host;
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        maxBodyBytes = maxBodyBytes <= 0 ? DEFAULT_MAX_BODY : maxBodyBytes;
        tokenRequired = tokenRequired || !isLoopback(host);
    }

    /** Options without a token requirement on loopback, without TLS. */
    public DaemonOptions(EngineOptions engine, String host, int port, long maxBodyBytes) {
        this(engine, host, port, maxBodyBytes, false, null);
    }

    /** Options without TLS. */
    public DaemonOptions(EngineOptions engine, String host, int port, long maxBodyBytes, boolean tokenRequired) {
        this(engine, host, port, maxBodyBytes, tokenRequired, null);
    }

    /** The defaults for engine options {@code e}. */
    public static DaemonOptions of(EngineOptions e) {
        return new DaemonOptions(e, null, DEFAULT_PORT, 0, false, null);
    }

    private static boolean isLoopback(String host) {
        String h = host == null ? "127.0.0.1" : host;
        try {
            return java.net.InetAddress.ofLiteral(h).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return h.equals("localhost");
        }
    }
}

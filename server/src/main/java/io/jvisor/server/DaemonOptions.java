package io.jvisor.server;

import io.jvisor.engine.EngineOptions;

/**
 * How the daemon runs.
 *
 * @param engine the engine it owns
 * @param host the address it binds: 127.0.0.1 by default; any other needs the bearer token
 * @param port the TCP port; 0 picks a free one
 * @param maxBodyBytes the largest request body accepted
 */
public record DaemonOptions(EngineOptions engine, String host, int port, long maxBodyBytes) {
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
    }

    /** The defaults for engine options {@code e}. */
    public static DaemonOptions of(EngineOptions e) {
        return new DaemonOptions(e, null, DEFAULT_PORT, 0);
    }

    /** Whether the daemon binds only the loopback interface. */
    public boolean loopbackOnly() {
        try {
            return java.net.InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return host.equals("localhost");
        }
    }
}

package io.jvisor.server;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.nio.file.Path;

/**
 * The daemon's two listeners as Jetty connectors: the control socket (a unix-domain socket) and, only
 * when asked, TCP, plain or TLS, with client certificates when a client CA is given. Both are our own
 * rather than Javalin's default: its accept queue (50) overflows with a few hundred clients connecting
 * at once.
 */
final class Connectors {
    private static final int ACCEPT_QUEUE = 1024;

    private Connectors() {
    }

    /** A connector on the unix-domain socket at {@code bindPath}. */
    static UnixDomainServerConnector controlSocket(Server server, HttpConfiguration http, Path bindPath) {
        UnixDomainServerConnector c = new UnixDomainServerConnector(server, new HttpConnectionFactory(http));
        c.setUnixDomainPath(bindPath);
        c.setAcceptQueueSize(ACCEPT_QUEUE);
        return c;
    }

    /** A connector on {@code tcp}'s address and port: TLS when it has a key store, else plain HTTP. */
    static ServerConnector tcp(Server server, HttpConfiguration http, DaemonOptions.Tcp tcp) {
        ServerConnector c;
        if (tcp.tls() == null) {
            c = new ServerConnector(server, new HttpConnectionFactory(http));
        } else {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(tcp.tls().keyStore().toString());
            ssl.setKeyStoreType("PKCS12");
            ssl.setKeyStorePassword(tcp.tls().password());
            if (tcp.tls().clientCa() != null) {
                ssl.setTrustStore(Authentication.clientAuthorities(tcp.tls().clientCa()));
                ssl.setNeedClientAuth(true); // the handshake fails without a certificate the CA signed
            }
            HttpConfiguration https = new HttpConfiguration(http);
            SecureRequestCustomizer src = new SecureRequestCustomizer();
            src.setSniHostCheck(false); // clients reach it by address; the certificate names it by SAN
            https.addCustomizer(src);
            c = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        }
        c.setHost(tcp.host());
        c.setPort(tcp.port());
        c.setAcceptQueueSize(ACCEPT_QUEUE);
        return c;
    }
}

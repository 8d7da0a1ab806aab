package io.jvisor.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Who may use the daemon. On the control socket, everyone who could connect: the socket's mode and
 * group decided that. On TCP, the {@code Host} must name the listener (421 otherwise: DNS rebinding),
 * and the bearer token must come with the request (401) unless the listener takes client certificates
 * instead, which TLS verified against {@link #clientAuthorities(Path)} before any request was read.
 *
 * @param tcp the TCP listener, or null when there is none
 * @param token the bearer token the TCP listener wants, or null when it takes client certificates
 */
record Authentication(DaemonOptions.Tcp tcp, String token) {
    private static final Logger LOG = LoggerFactory.getLogger(Authentication.class);
    /** The shortest token the daemon accepts from its token file. */
    static final int MIN_TOKEN_CHARS = 32;

    /**
     * Lets a request through, or refuses it.
     *
     * @param viaControlSocket whether the request came over the control socket
     * @param host the request's {@code Host} header, or null
     * @param authorization the request's {@code Authorization} header, or null
     * @throws ApiException 403 for TCP on a daemon without a TCP listener, 421 for a {@code Host} that does
     *     not name the listener, 401 for a missing or wrong bearer token
     */
    void check(boolean viaControlSocket, String host, String authorization) {
        if (viaControlSocket) {
            return;
        }
        if (tcp == null) {
            throw new ApiException(403, "(connection)", null, "this daemon takes requests on its control socket only");
        }
        if (!tcp.acceptsHost(host)) {
            throw new ApiException(421, "Host", host, "not a name of this daemon (it accepts " + acceptedHosts(tcp)
                    + "): a page that reached it through a name of its own is refused (DNS rebinding); add the name "
                    + "with --allow-host");
        }
        if (token == null) {
            return;
        }
        byte[] want = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        // constant time: the comparison must not tell a guesser how many leading characters were right
        if (authorization == null || !MessageDigest.isEqual(authorization.getBytes(StandardCharsets.UTF_8), want)) {
            throw new ApiException(401, "Authorization", null, "a bearer token is required on TCP (root can read it "
                    + "from the daemon's state directory; or use the control socket)");
        }
    }

    /** Never the token: a record's own toString would print it into a log. */
    @Override
    public String toString() {
        return "Authentication[tcp=" + tcp + ", token=" + (token == null ? "none" : "set") + "]";
    }

    /** The names a {@code Host} header may give, for people. */
    static String acceptedHosts(DaemonOptions.Tcp t) {
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

    /**
     * The bearer token in {@code file}; on first start, a new random one (32 bytes, hex) written there
     * with mode 0600.
     *
     * @throws IllegalStateException when the file holds fewer than {@value #MIN_TOKEN_CHARS} characters
     */
    static String token(Path file) {
        try {
            if (Files.exists(file)) {
                String t = Files.readString(file).trim();
                if (t.length() < MIN_TOKEN_CHARS) {
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

    /** A key store holding the PEM certificates of {@code pem} as trusted entries: the client CAs of mTLS. */
    static KeyStore clientAuthorities(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException("no certificate in the client CA file " + pem);
            }
            return ks;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the client CA file " + pem, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the client CA file " + pem + " holds no usable PEM certificate: "
                    + e.getMessage(), e);
        }
    }
}

package io.jvisor.server;

import io.jvisor.net.NetException;
import io.jvisor.net.Netns;
import io.jvisor.net.lab.Ping;
import io.jvisor.server.manifest.Manifest;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * Runs the {@code spec.checks} of a manifest: pings, and UDP or TCP probes answered by listeners
 * that the check itself starts in the server hosts. A listener answers each probe with one line,
 * {@code HOST CLIENT-ADDRESS}: the check learns which server answered (a load balancer's choice) and
 * which client address that server saw (a NAT's translation).
 */
final class DeclaredChecks {
    private static final byte[] PROBE = "jvisor-check\n".getBytes(StandardCharsets.US_ASCII);
    private static final int TCP_CONNECT_MILLIS = 5000; // a first SYN lost to neighbour resolution is resent after 1 s
    private static final int READ_MILLIS = 3000;
    private static final int UDP_TRIES = 5;
    private static final int UDP_WAIT_MILLIS = 700;

    private DeclaredChecks() {}

    /** One answer: the server host and the client address it saw. */
    private record Answer(String server, String client) {}

    static List<TrafficCheck.Result> run(Manifest m, Function<String, String> namespaceOf) {
        List<TrafficCheck.Result> out = new ArrayList<>();
        for (Manifest.Check c : m.spec().checks()) {
            out.add(run(c, namespaceOf));
        }
        return out;
    }

    private static TrafficCheck.Result run(Manifest.Check c, Function<String, String> namespaceOf) {
        boolean reach = c.expect() == null || c.expect().equals("reach");
        String proto = c.protocol().name().toLowerCase(Locale.ROOT);
        int count = c.count() > 0 ? c.count() : c.protocol() == Manifest.Protocol.PING ? 3 : 1;
        String what = proto + " " + c.from() + " -> " + c.target() + (count > 1 ? " x" + count : "")
                + (c.servers().isEmpty() ? "" : " (servers " + String.join(", ", c.servers()) + ")")
                + (reach ? "" : ", expect blocked");
        String ns = namespaceOf.apply(c.from());
        if (ns == null) {
            return new TrafficCheck.Result(what, false, "host " + c.from() + " is not running");
        }
        try {
            return c.protocol() == Manifest.Protocol.PING ? ping(c, what, ns, count, reach)
                    : probes(c, what, ns, count, reach, namespaceOf);
        } catch (RuntimeException | IOException e) {
            return new TrafficCheck.Result(what, false, "could not run: " + e.getMessage());
        }
    }

    private static TrafficCheck.Result ping(Manifest.Check c, String what, String ns, int count, boolean reach)
            throws IOException {
        InetAddress target = InetAddress.ofLiteral(c.target());
        try (Netns n = Netns.open(ns)) {
            if (reach) {
                // a router drops the first packet to a neighbour it has not resolved yet (and asks with ARP)
                try {
                    Ping.run(n, target, 1);
                } catch (NetException e) {
                    // counted by the real run below
                }
            }
            int received;
            int transmitted = count;
            String why = "";
            try {
                Ping.Result r = Ping.run(n, target, count);
                received = r.received();
                transmitted = r.transmitted();
            } catch (NetException e) {
                received = 0; // e.g. no route to the address: nothing gets through
                why = " (" + e.getMessage().lines().findFirst().orElse("") + ")";
            }
            boolean passed = reach ? received == transmitted && transmitted > 0 : received == 0;
            return new TrafficCheck.Result(what, passed, received + "/" + transmitted + " replies" + why);
        }
    }

    private static TrafficCheck.Result probes(Manifest.Check c, String what, String ns, int count, boolean reach,
                                              Function<String, String> namespaceOf) throws IOException {
        int colon = c.target().lastIndexOf(':');
        InetSocketAddress target = new InetSocketAddress(InetAddress.ofLiteral(c.target().substring(0, colon)),
                Integer.parseInt(c.target().substring(colon + 1)));
        List<AutoCloseable> listeners = new ArrayList<>();
        try {
            Set<String> servers = new LinkedHashSet<>();
            for (String sv : c.servers()) {
                int sc = sv.indexOf(':');
                String host = sc < 0 ? sv : sv.substring(0, sc);
                int port = sc < 0 ? target.getPort() : Integer.parseInt(sv.substring(sc + 1));
                if (!servers.add(host + ":" + port)) {
                    continue;
                }
                String hns = namespaceOf.apply(host);
                if (hns == null) {
                    return new TrafficCheck.Result(what, false, "server host " + host + " is not running");
                }
                try (Netns n = Netns.open(hns)) {
                    listeners.add(c.protocol() == Manifest.Protocol.TCP ? tcpListener(n, host, port)
                            : udpListener(n, host, port));
                }
            }
            Map<String, Integer> byServer = new LinkedHashMap<>();
            Set<String> seen = new LinkedHashSet<>();
            int answered = 0;
            String lastFailure = null;
            Set<String> serverHosts = new LinkedHashSet<>();
            servers.forEach(s -> serverHosts.add(s.substring(0, s.lastIndexOf(':'))));
            try (Netns n = Netns.open(ns)) {
                for (int i = 0; i < count; i++) {
                    try {
                        Answer a = n.run(() -> c.protocol() == Manifest.Protocol.TCP ? tcpProbe(target) : udpProbe(target));
                        answered++;
                        byServer.merge(a.server(), 1, Integer::sum);
                        seen.add(a.client());
                    } catch (RuntimeException e) {
                        lastFailure = rootMessage(e);
                    }
                }
            }
            StringBuilder d = new StringBuilder(answered + "/" + count + " answered");
            if (!byServer.isEmpty()) {
                List<String> parts = new ArrayList<>();
                byServer.forEach((k, v) -> parts.add(k + " " + v));
                d.append(" (").append(String.join(", ", parts)).append(")");
                d.append("; client seen as ").append(String.join(", ", seen));
            }
            if (lastFailure != null) {
                d.append("; ").append(lastFailure);
            }
            boolean passed;
            if (reach) {
                passed = answered == count
                        && (serverHosts.isEmpty() || serverHosts.containsAll(byServer.keySet()))
                        && (c.clientSeenAs() == null || seen.equals(Set.of(c.clientSeenAs())));
                if (c.clientSeenAs() != null && !seen.isEmpty() && !seen.equals(Set.of(c.clientSeenAs()))) {
                    d.append("; expected the client seen as ").append(c.clientSeenAs());
                }
            } else {
                passed = answered == 0;
            }
            return new TrafficCheck.Result(what, passed, d.toString());
        } finally {
            for (AutoCloseable l : listeners) {
                try {
                    l.close();
                } catch (Exception e) {
                    // closing a listener socket: nothing to do
                }
            }
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    // ---- listeners (sockets are created on the namespace's thread, so they live in it) ----------

    private static AutoCloseable tcpListener(Netns n, String host, int port) {
        ServerSocketChannel ss = bound(n, () -> ServerSocketChannel.open(StandardProtocolFamily.INET), port);
        Thread.ofVirtual().name("check-tcp-" + host).start(() -> {
            while (ss.isOpen()) {
                SocketChannel sc;
                try {
                    sc = ss.accept();
                } catch (IOException e) {
                    return; // closed
                }
                Thread.ofVirtual().start(() -> serveTcp(sc, host));
            }
        });
        return ss;
    }

    private static void serveTcp(SocketChannel sc, String host) {
        try (sc) {
            sc.socket().setSoTimeout(READ_MILLIS);
            InputStream in = sc.socket().getInputStream();
            for (int b = 0, n = 0; b != '\n' && b >= 0 && n < 100; n++) {
                b = in.read();
            }
            InetSocketAddress peer = (InetSocketAddress) sc.getRemoteAddress();
            sc.write(reply(host, peer));
        } catch (IOException e) {
            // the client went away: its probe reports the failure
        }
    }

    private static AutoCloseable udpListener(Netns n, String host, int port) {
        DatagramChannel dc = bound(n, () -> DatagramChannel.open(StandardProtocolFamily.INET), port);
        Thread.ofVirtual().name("check-udp-" + host).start(() -> {
            ByteBuffer buf = ByteBuffer.allocate(2048);
            while (dc.isOpen()) {
                try {
                    buf.clear();
                    InetSocketAddress from = (InetSocketAddress) dc.receive(buf);
                    dc.send(reply(host, from), from);
                } catch (IOException e) {
                    if (!dc.isOpen()) {
                        return;
                    }
                }
            }
        });
        return dc;
    }

    /** A channel opened inside the namespace, so it lives there, and bound to {@code port} on every address. */
    private static <C extends NetworkChannel> C bound(Netns n, Callable<C> open, int port) {
        return n.run(() -> {
            C c = open.call();
            c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            c.bind(new InetSocketAddress(port));
            return c;
        });
    }

    /** A listener's answer: {@code HOST CLIENT-ADDRESS}. */
    private static ByteBuffer reply(String host, InetSocketAddress client) {
        return ByteBuffer.wrap((host + " " + client.getAddress().getHostAddress() + "\n")
                .getBytes(StandardCharsets.US_ASCII));
    }

    // ---- probes: each from a new socket, so a new flow -------------------------------------------

    private static Answer tcpProbe(InetSocketAddress target) throws IOException {
        try (SocketChannel sc = SocketChannel.open(StandardProtocolFamily.INET)) {
            sc.socket().connect(target, TCP_CONNECT_MILLIS);
            sc.socket().setSoTimeout(READ_MILLIS);
            sc.write(ByteBuffer.wrap(PROBE));
            byte[] line = sc.socket().getInputStream().readNBytes(200);
            return answer(new String(line, StandardCharsets.US_ASCII));
        }
    }

    private static Answer udpProbe(InetSocketAddress target) throws IOException {
        try (DatagramChannel dc = DatagramChannel.open(StandardProtocolFamily.INET)) {
            dc.connect(target); // answers from any other address are not taken
            dc.socket().setSoTimeout(UDP_WAIT_MILLIS);
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            for (int i = 0; ; i++) {
                dc.write(ByteBuffer.wrap(PROBE));
                try {
                    dc.socket().receive(p);
                    return answer(new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII));
                } catch (SocketTimeoutException e) {
                    // a first datagram lost to neighbour resolution: send again
                    if (i + 1 >= UDP_TRIES) {
                        throw new SocketTimeoutException("no answer to " + UDP_TRIES + " datagrams");
                    }
                } catch (PortUnreachableException e) {
                    throw new PortUnreachableException("port unreachable");
                }
            }
        }
    }

    private static Answer answer(String text) throws IOException {
        String[] f = text.trim().split(" ");
        if (f.length != 2) {
            throw new IOException("unexpected answer '" + text.trim() + "'");
        }
        return new Answer(f[0], f[1]);
    }
}

package io.jvisor.modules;

import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.UdpStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Sockets of the modules' end-to-end tests, each opened in a lab host's network namespace (a socket
 * belongs to the namespace it was created in), and the small servers built on them.
 */
public final class Sockets {
    /** Blocking readers get their own threads (the common pool may have only one). */
    public static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "modules-test-io");
        t.setDaemon(true);
        return t;
    });

    private Sockets() {
    }

    /** A TCP connection from host {@code h} to {@code to}, within {@code timeoutMillis}. */
    public static Socket connect(Host h, InetSocketAddress to, int timeoutMillis) {
        return h.netns().run(() -> {
            Socket c = new Socket();
            c.connect(to, timeoutMillis);
            return c;
        });
    }

    /** A TCP listening socket of host {@code h} on {@code addr:port}. */
    public static ServerSocket listen(Host h, InetAddress addr, int port, int backlog) {
        return h.netns().run(() -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(addr, port), backlog);
            return s;
        });
    }

    /** A UDP socket of host {@code h} bound to {@code addr:port} (port 0: any). */
    public static DatagramSocket udp(Host h, InetAddress addr, int port) {
        return h.netns().run(() -> new DatagramSocket(new InetSocketAddress(addr, port)));
    }

    /**
     * A UDP server of host {@code h} on {@code addr:port} that answers every datagram with the one
     * byte {@code answer}, until it is closed.
     */
    public static AutoCloseable answerUdp(Host h, InetAddress addr, int port, byte answer, String threadName) {
        DatagramSocket s = udp(h, addr, port);
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64];
            while (!s.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    s.send(new DatagramPacket(new byte[] {answer}, 1, p.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
        return s;
    }

    /**
     * A TCP server of host {@code h} for one connection, which echoes 5 bytes; completes with the
     * address the connection came from.
     */
    public static CompletableFuture<String> echoOnce(Host h, InetAddress addr, int port) {
        ServerSocket ss = h.netns().run(() -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(addr, port));
            s.setSoTimeout(15_000); // a failed test does not leave the server waiting
            return s;
        });
        return CompletableFuture.supplyAsync(() -> {
            try (ss; Socket c = ss.accept()) {
                c.setSoTimeout(5000);
                byte[] b = c.getInputStream().readNBytes(5);
                c.getOutputStream().write(b);
                c.getOutputStream().flush();
                return ((InetSocketAddress) c.getRemoteSocketAddress()).getAddress().getHostAddress();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, THREADS);
    }

    /** Sends {@code msg} over a new TCP connection from host {@code h} and returns what comes back. */
    public static String tcpExchange(Host h, InetAddress to, int port, String msg) throws Exception {
        try (Socket s = connect(h, new InetSocketAddress(to, port), 5000)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(msg.getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(msg.length()), StandardCharsets.US_ASCII);
        }
    }

    /** What runs while a stream flows. */
    @FunctionalInterface
    public interface During {
        void run() throws Exception;
    }

    /**
     * A UDP stream from host {@code from} to host {@code to} at {@code pps} packets per second, with
     * {@code during} run 200 ms after it starts; it stops 200 ms after {@code during} returns, and
     * the report counts what arrived within a second after.
     */
    public static UdpStream.Report streamDuring(Host from, Host to, int pps, During during) throws Exception {
        try (UdpStream udp = UdpStream.open(from.netns(), from.address(), to.netns(), to.address())) {
            udp.start(pps);
            Thread.sleep(200);
            during.run();
            Thread.sleep(200);
            udp.stop();
            return udp.finish(Duration.ofSeconds(1));
        }
    }

    /** Runs a command in host {@code h} and returns its standard output (whatever its exit status). */
    public static String run(Host h, String... cmd) throws Exception {
        Process p = h.exec(List.of(cmd));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}

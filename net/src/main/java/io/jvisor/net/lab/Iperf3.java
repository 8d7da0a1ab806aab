package io.jvisor.net.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.net.NetException;
import io.jvisor.net.Netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * TCP throughput between two namespaces through {@code iperf3} (installed by the project's host
 * set-up): a one-off server in one namespace, a client in the other, figures from the client's
 * JSON report.
 */
public final class Iperf3 {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Iperf3() {}

    /**
     * One TCP run's figures.
     *
     * @param bitsPerSecond the receiver's throughput
     * @param bytes bytes the receiver got
     * @param retransmits TCP retransmissions the sender counted
     */
    public record Result(double bitsPerSecond, long bytes, long retransmits) {
        /** Throughput in Gbit/s. */
        public double gbps() {
            return bitsPerSecond / 1e9;
        }
    }

    /**
     * Runs TCP from {@code client} to {@code server}'s address {@code serverAddress} for
     * {@code duration}. Ends the server process it started, by its own handle, whatever happens.
     */
    public static Result tcp(Netns server, InetAddress serverAddress, Netns client, Duration duration) {
        return tcp(server, serverAddress, client, duration, null);
    }

    /**
     * The same with the sender's TCP congestion control set to {@code congestion} (iperf3 -C; null
     * keeps the namespace's default). As root, any algorithm the kernel offers may be chosen, also
     * one outside the namespace's net.ipv4.tcp_allowed_congestion_control.
     */
    public static Result tcp(Netns server, InetAddress serverAddress, Netns client, Duration duration,
                             String congestion) {
        int port = ThreadLocalRandom.current().nextInt(20000, 60000);
        String what = "iperf3 " + client.name() + " -> " + server.name() + " " + serverAddress.getHostAddress() + ":" + port;
        // --forceflush: into a pipe, iperf3 would hold "Server listening" in its stdio buffer.
        Process srv = server.exec(new ProcessBuilder("iperf3", "-s", "-1", "--forceflush", "-B",
                serverAddress.getHostAddress(), "-p", Integer.toString(port)).redirectErrorStream(true));
        try (Watchdog serverStart = new Watchdog(srv, Duration.ofSeconds(10))) {
            awaitListening(srv, what);
            serverStart.disarm();
            long secs = Math.max(1, duration.toSeconds());
            List<String> cmd = new java.util.ArrayList<>(List.of("iperf3", "-c", serverAddress.getHostAddress(), "-p",
                    Integer.toString(port), "-t", Long.toString(secs), "--connect-timeout", "5000", "-J"));
            if (congestion != null) {
                cmd.addAll(List.of("-C", congestion));
            }
            Process cli = client.exec(new ProcessBuilder(cmd).redirectErrorStream(true));
            try (Watchdog clientRun = new Watchdog(cli, Duration.ofSeconds(secs + 30))) {
                String out = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!cli.waitFor(30, TimeUnit.SECONDS) || clientRun.fired()) {
                    throw new NetException(what, 0, "client timed out");
                }
                JsonNode j = JSON.readTree(out);
                if (j.has("error")) {
                    throw new NetException(what, 0, j.get("error").asText());
                }
                JsonNode end = j.path("end");
                return new Result(end.path("sum_received").path("bits_per_second").asDouble(),
                        end.path("sum_received").path("bytes").asLong(), end.path("sum_sent").path("retransmits").asLong());
            } finally {
                cli.destroy();
            }
        } catch (IOException e) {
            throw new NetException(what, 0, e.toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetException(what, 4, "interrupted", e);
        } finally {
            srv.destroy();
            try {
                if (!srv.waitFor(5, TimeUnit.SECONDS)) {
                    srv.destroyForcibly();
                }
            } catch (InterruptedException e) {
                srv.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Ends a process of ours that outlives its deadline, so that reading its output cannot hang. */
    private static final class Watchdog implements AutoCloseable {
        private final Thread thread;
        private volatile boolean armed = true;
        private volatile boolean fired;

        Watchdog(Process p, Duration deadline) {
            thread = Thread.ofPlatform().daemon().name("iperf3-watchdog").start(() -> {
                try {
                    Thread.sleep(deadline);
                    if (armed) {
                        fired = true;
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    // disarmed
                }
            });
        }

        void disarm() {
            armed = false;
            thread.interrupt();
        }

        boolean fired() {
            return fired;
        }

        @Override
        public void close() {
            disarm();
        }
    }

    /** Reads the server's output until it says it listens (it prints that once bound). */
    private static void awaitListening(Process srv, String what) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(srv.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = r.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.contains("Server listening")) {
                // Keep draining so a chatty server never blocks on a full pipe.
                Thread.ofPlatform().daemon().name("iperf3-server-out").start(() -> {
                    try {
                        while (r.readLine() != null) {
                            // discard
                        }
                    } catch (IOException ignored) {
                        // the server ended
                    }
                });
                return;
            }
        }
        throw new NetException(what, 0, "server exited before listening: " + seen.toString().trim());
    }
}

package io.jvisor.net.lab;

import io.jvisor.net.NetException;
import io.jvisor.net.Netns;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ICMP echo from inside a namespace, through iputils {@code ping} (installed by the project's host
 * set-up), with the transmitted and received counts it reports.
 */
public final class Ping {
    private static final Pattern COUNTS = Pattern.compile("(\\d+) packets transmitted, (\\d+) (?:packets )?received");
    private static final Pattern RTT = Pattern.compile("= [\\d.]+/([\\d.]+)/[\\d.]+/[\\d.]+ ms");

    private Ping() {}

    /**
     * The outcome of one ping run.
     *
     * @param transmitted echo requests sent
     * @param received echo replies received
     * @param averageRtt the average round-trip time, when any reply came back
     * @param output ping's whole output, for failure messages
     */
    public record Result(int transmitted, int received, Optional<Duration> averageRtt, String output) {
        /** True when every request got its reply. */
        public boolean allReplied() {
            return transmitted > 0 && received == transmitted;
        }
    }

    /** Sends {@code count} echo requests, 0.1 s apart, from {@code from} to {@code target}. */
    public static Result run(Netns from, InetAddress target, int count) {
        List<String> cmd = List.of("ping", "-n", "-q", "-c", Integer.toString(count), "-i", "0.1", "-W", "2",
                target.getHostAddress());
        Process p = from.exec(new ProcessBuilder(cmd).redirectErrorStream(true));
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(count + 30L, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NetException("ping " + target.getHostAddress() + " from " + from.name(), 0, "timed out");
            }
            Matcher m = COUNTS.matcher(out);
            if (!m.find()) {
                throw new NetException("ping " + target.getHostAddress() + " from " + from.name(), 0,
                        "unexpected output: " + out.trim());
            }
            Matcher r = RTT.matcher(out);
            Optional<Duration> rtt = r.find()
                    ? Optional.of(Duration.ofNanos((long) (Double.parseDouble(r.group(1)) * 1e6))) : Optional.empty();
            return new Result(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), rtt, out);
        } catch (IOException e) {
            throw new NetException("ping " + target.getHostAddress() + " from " + from.name(), 0, e.toString(), e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new NetException("ping " + target.getHostAddress() + " from " + from.name(), 4, "interrupted", e);
        }
    }
}

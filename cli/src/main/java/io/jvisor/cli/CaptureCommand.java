package io.jvisor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.jvisor.modules.capture.CaptureConfig;
import io.jvisor.server.Daemon;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code jvisor capture INSTANCE [-w FILE|-] [-c COUNT] [--snaplen N]}: the frames a {@code capture}
 * instance sees, as a pcap file or stream. The session runs in the process that runs the engine (the
 * daemon, or an engine started in this process), which streams the pcap to this command; the file is
 * written here, by the user of the CLI.
 */
@Command(name = "capture", description = "Capture the frames a 'capture' instance sees and write them as pcap "
        + "(tcpdump -r, Wireshark). Stops after --count frames, --seconds, or on Ctrl-C, then prints the summary "
        + "(frames captured, matched, dropped by the kernel) on stderr.",
        footer = {"", "Examples:", "  sudo jvisor capture cap -w dns.pcap -c 100",
                "  sudo jvisor capture cap -w - | tcpdump -n -r -", "  sudo jvisor capture cap -w web.pcap --snaplen 128"})
public final class CaptureCommand implements Callable<Integer> {
    @Mixin
    EngineMixin engine;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "INSTANCE", description = "The capture instance.")
    String instance;

    @Option(names = {"-w", "--write"}, paramLabel = "FILE", defaultValue = "-",
            description = "The pcap file to write, or - for standard output (default; refused on a terminal).")
    String file;

    @Option(names = {"-c", "--count"}, paramLabel = "COUNT", defaultValue = "0",
            description = "Stop after COUNT frames (default: 0, until Ctrl-C).")
    long count;

    @Option(names = "--snaplen", paramLabel = "N", defaultValue = "" + CaptureConfig.MAX_SNAPLEN,
            description = "Bytes kept of each frame, 1..${DEFAULT-VALUE} (default: ${DEFAULT-VALUE}); the instance's own "
                    + "snaplen cuts first.")
    int snaplen;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "0",
            description = "Stop after S seconds (default: 0, no limit).")
    int seconds;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (count < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be 0 (no limit) or more");
        }
        if (snaplen < 1 || snaplen > CaptureConfig.MAX_SNAPLEN) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--snaplen must be 1.." + CaptureConfig.MAX_SNAPLEN);
        }
        if (seconds < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be 0 (no limit) or more");
        }
        boolean toStdout = file.equals("-");
        if (toStdout && System.console() != null && System.console().isTerminal()) {
            err.println("jvisor: not writing pcap to a terminal; give -w FILE, or pipe: jvisor capture " + instance
                    + " -w - | tcpdump -n -r -");
            return Exit.USAGE;
        }
        try (DaemonClient c = Backends.open(engine, true, err)) {
            DaemonClient.Streamed r = c.stream("/v1/instances/" + DaemonClient.enc(instance) + "/capture?count="
                    + count + "&snaplen=" + snaplen + "&seconds=" + seconds);
            String session = r.header().apply(Daemon.CAPTURE_SESSION_HEADER);
            long id = Long.parseLong(session == null ? "0" : session);
            CountDownLatch copied = new CountDownLatch(1);
            Object printed = new Object();
            boolean[] done = {false};
            Thread hook = new Thread(() -> {
                // Ctrl-C: stop the session; it writes what the kernel captured and ends the stream
                synchronized (printed) {
                    if (done[0]) {
                        return;
                    }
                    done[0] = true;
                    try {
                        JsonNode s = c.send("DELETE", "/v1/instances/" + DaemonClient.enc(instance) + "/capture/" + id,
                                null);
                        copied.await(5, TimeUnit.SECONDS);
                        printSummary(err, s);
                    } catch (RuntimeException | InterruptedException e) {
                        err.println("jvisor: stopping the capture: " + e.getMessage());
                        err.flush();
                    }
                }
            }, "jvisor-capture-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            err.println("jvisor: capturing on " + instance + " (" + c.where() + ", snaplen " + snaplen + ")"
                    + (count > 0 ? ", " + count + " frames" : "") + (seconds > 0 ? ", " + seconds + " s" : "")
                    + "; Ctrl-C stops");
            err.flush();
            String failure = null;
            try (InputStream in = r.body(); OutputStream out = toStdout
                    ? new FileOutputStream(FileDescriptor.out) : Files.newOutputStream(Path.of(file))) {
                byte[] buf = new byte[64 * 1024];
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                    out.flush(); // a live reader (a pipe into tcpdump) sees each batch
                }
            } catch (IOException e) {
                failure = e.getMessage();
            } finally {
                copied.countDown();
            }
            synchronized (printed) {
                if (done[0]) {
                    return Exit.OK; // the hook reports
                }
                done[0] = true;
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
            JsonNode s = c.send("DELETE", "/v1/instances/" + DaemonClient.enc(instance) + "/capture/" + id, null);
            printSummary(err, s);
            if (failure != null) {
                err.println("jvisor: writing " + (toStdout ? "standard output" : file) + " failed: " + failure);
                return Exit.FAILED;
            }
            return s.path("failure").isNull() || s.path("failure").isMissingNode() ? Exit.OK : Exit.FAILED;
        }
    }

    /** The summary in tcpdump's words. */
    static void printSummary(PrintWriter err, JsonNode s) {
        err.println(s.path("written").asLong() + " packets captured");
        err.println(s.path("matched").asLong() + " packets received by filter");
        err.println(s.path("lost").asLong() + " packets dropped by kernel (ring buffer full, " + s.path("lostBytes").asLong()
                + " bytes)");
        if (s.path("errors").asLong() > 0) {
            err.println(s.path("errors").asLong() + " packets unreadable");
        }
        if (s.hasNonNull("failure")) {
            err.println("stopped: " + s.path("failure").asText());
        }
        err.flush();
    }
}

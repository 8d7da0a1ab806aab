package io.jvisor.bench;

import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import io.jvisor.modules.capture.CaptureConfig;
import io.jvisor.modules.capture.CaptureFilter;
import io.jvisor.modules.capture.CaptureSession;
import io.jvisor.modules.capture.CaptureSummary;
import io.jvisor.modules.capture.PcapWriter;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.HostSpec;
import io.jvisor.net.lab.InterfaceSpec;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import io.jvisor.net.lab.WireSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The capture module against tcpdump, capturing the same traffic in the same lab, in one run
 * (issue 7).
 *
 * <p>h1 sends a UDP flood ({@link UdpStream}, small datagrams, asked for far more than it can send)
 * to h2 through a {@code capture} instance (tc hook) wired between the root ends p1 and p2 of their
 * veths, filter {@code proto udp, dst h2}, frames entering port 0. Each round captures one flood
 * with a {@link CaptureSession} writing a pcap file, and one with {@code tcpdump -i p1 -Q in -w FILE
 * -B 8192 udp and dst host h2} (the same 8 MiB of kernel buffer as the module's ring) while the
 * capture instance only forwards; the order alternates. For each: frames the sender sent, frames
 * written to the file, frames the capturer reports lost in the kernel, and the capturing thread's or
 * process's CPU time per written frame, and the frames the capturer itself says its filter matched
 * (the module's kernel counter; tcpdump's "received by filter") (ThreadMXBean for the session's thread; utime + stime from
 * /proc for tcpdump, 10 ms ticks). A first jvisor capture of 2 s warms the JIT up and is not
 * reported.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.CaptureBench \
 *     [--smoke] [--rounds N] [--seconds S] [--payload BYTES]
 * </pre>
 */
public final class CaptureBench {
    private static final Pattern TCPDUMP_STAT = Pattern.compile("(\\d+) packets? (captured|received by filter|dropped by kernel)");

    private CaptureBench() {}

    /** One capture of one flood. */
    record Run(String who, long sent, long received, long matched, long written, long lost, double cpuNsPerFrame,
               double seconds) {
        double writtenPerSecond() {
            return written / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("CaptureBench", "[--smoke] [--rounds N] [--seconds S] [--payload BYTES]", args,
                List.of("--smoke"), List.of("--rounds", "--seconds", "--payload"));
        if (a == null) {
            return;
        }
        boolean smoke = a.has("--smoke");
        run(a.intOr("--rounds", smoke ? 1 : 5), a.intOr("--seconds", smoke ? 1 : 3), a.intOr("--payload", 64), smoke,
                System.out);
    }

    static void run(int rounds, int seconds, int payload, boolean smoke, PrintStream log) throws Exception {
        String loadBefore = EngineBenchSupport.loadAverage();
        String net = "10." + ThreadLocalRandom.current().nextInt(100, 250) + "." + ThreadLocalRandom.current().nextInt(1, 250)
                + ".";
        EngineOptions options = EngineBenchSupport.engineOptions("jvcb");
        Engine engine = null;
        Lab lab = null;
        Path dir = Files.createTempDirectory("jvisor-capture-bench");
        try {
            LabSpec spec = LabSpec.empty();
            for (int i = 1; i <= 2; i++) {
                spec = spec.withHost(HostSpec.named("h" + i).withInterface(InterfaceSpec.of("eth0", net + i + "/24"))
                                .withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                                .withSysctl("net.ipv6.conf.default.disable_ipv6", "1"))
                        .withWire(WireSpec.toRoot("h" + i + ":eth0", "p" + i, null));
            }
            lab = Lab.up(spec);
            Host h1 = lab.host("h1"), h2 = lab.host("h2");
            String p1 = lab.rootDevice("p1");
            CaptureConfig config = CaptureConfig.DEFAULT.withPorts(java.util.Set.of(0)).withFilter(CaptureFilter.ANY
                    .withProtocol(17).withDestination(IpPrefix.parse(h2.address().getHostAddress())));
            engine = Engine.start(options, ModuleCatalog.discover());
            engine.apply(Topology.builder().instance("cap", "capture", config.toConfig())
                    .connect("cap:0", "dev:" + p1).connect("cap:1", "dev:" + lab.rootDevice("p2")).build());
            if (!Ping.run(h1.netns(), h2.address(), 2).allReplied()) {
                throw new IllegalStateException("h1 does not reach h2 through the capture instance");
            }
            log.printf(Locale.ROOT, "== lab %s: h1 -> h2 through capture instance 'cap' (tc) on %s; %d rounds of %d s, "
                    + "UDP payload %d B%s%n", lab.prefix(), p1, rounds, seconds, payload,
                    smoke ? " (SMOKE RUN: too short to compare)" : "");
            if (!smoke) {
                // warm-up, not reported: the session's reader and the pcap writer get compiled by the JIT
                jvisor(engine, h1, h2, dir.resolve("warmup.pcap"), 2, payload);
                Files.deleteIfExists(dir.resolve("warmup.pcap"));
            }
            List<Run> runs = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                List<String> order = r % 2 == 0 ? List.of("jvisor", "tcpdump") : List.of("tcpdump", "jvisor");
                for (String who : order) {
                    Path file = dir.resolve(who + "-" + r + ".pcap");
                    Run run = who.equals("jvisor") ? jvisor(engine, h1, h2, file, seconds, payload)
                            : tcpdump(p1, h1, h2, file, seconds, payload);
                    runs.add(run);
                    log.printf(Locale.ROOT, "   round %d %-7s sent %8d received %8d matched %8d written %8d lost %7d"
                            + "  %.0f frames/s %.0f ns CPU/frame%n", r + 1, who, run.sent, run.received, run.matched,
                            run.written, run.lost, run.writtenPerSecond(), run.cpuNsPerFrame);
                    Files.deleteIfExists(file);
                }
            }
            log.println();
            log.println("| capturer | written frames/s (median) | lost in kernel (sum) | written / sent (sum) | CPU ns per written frame (median) |");
            log.println("| --- | --- | --- | --- | --- |");
            double[] ratio = new double[rounds];
            double[] cpuRatio = new double[rounds];
            for (String who : List.of("jvisor", "tcpdump")) {
                List<Run> mine = runs.stream().filter(x -> x.who.equals(who)).toList();
                double[] rate = mine.stream().mapToDouble(Run::writtenPerSecond).toArray();
                double[] cpu = mine.stream().mapToDouble(Run::cpuNsPerFrame).toArray();
                long lost = mine.stream().mapToLong(Run::lost).sum();
                long written = mine.stream().mapToLong(Run::written).sum();
                long sent = mine.stream().mapToLong(Run::sent).sum();
                log.printf(Locale.ROOT, "| %s | %.0f | %d | %d / %d | %.0f |%n", who.equals("jvisor") ? "jvisor capture"
                        : "tcpdump -B 8192", EngineBenchSupport.median(rate), lost, written, sent,
                        EngineBenchSupport.median(cpu));
            }
            List<Run> j = runs.stream().filter(x -> x.who.equals("jvisor")).toList();
            List<Run> t = runs.stream().filter(x -> x.who.equals("tcpdump")).toList();
            for (int r = 0; r < rounds; r++) {
                ratio[r] = j.get(r).writtenPerSecond() / t.get(r).writtenPerSecond();
                cpuRatio[r] = j.get(r).cpuNsPerFrame / t.get(r).cpuNsPerFrame;
            }
            log.printf(Locale.ROOT, "%n| ratio jvisor / tcpdump (within each round, median) | value |%n| --- | --- |%n"
                    + "| written frames/s | %.2f |%n| CPU per written frame | %.2f |%n",
                    EngineBenchSupport.median(ratio), EngineBenchSupport.median(cpuRatio));
            log.println();
            EngineBenchSupport.printMachine(log, loadBefore, EngineBenchSupport.loadAverage());
        } finally {
            EngineBenchSupport.tearDown(engine, options, lab, log);
            EngineBenchSupport.deleteTree(dir);
        }
    }

    static Run jvisor(Engine engine, Host h1, Host h2, Path file, int seconds, int payload) throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        UdpStream.Report rep;
        CaptureSummary summary;
        long cpu;
        long writtenByThread;
        try (PcapWriter pcap = PcapWriter.create(file, CaptureConfig.MAX_SNAPLEN);
             CaptureSession s = CaptureSession.start(engine, "cap", pcap);
             UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address(), payload)) {
            Thread t = Thread.getAllStackTraces().keySet().stream().filter(x -> x.getName().equals("capture-cap"))
                    .findFirst().orElseThrow();
            long cpu0 = mx.getThreadCpuTime(t.threadId());
            udp.start(2_000_000);
            Thread.sleep(seconds * 1000L);
            udp.stop();
            rep = udp.finish(Duration.ofMillis(300));
            // the reader thread has caught up by now (finish waited for the receiver to go quiet);
            // stop() ends the thread, after which its CPU time can no longer be read
            long cpu1 = mx.getThreadCpuTime(t.threadId());
            writtenByThread = s.written();
            summary = s.stop();
            cpu = cpu1 - cpu0;
        }
        if (summary.failure() != null) {
            throw new IllegalStateException("capture failed: " + summary.failure());
        }
        long written = summary.written();
        return new Run("jvisor", rep.sent(), rep.received(), summary.kernel().matched(), written, summary.lost(),
                writtenByThread == 0 ? Double.NaN : cpu / (double) writtenByThread, seconds);
    }

    static Run tcpdump(String dev, Host h1, Host h2, Path file, int seconds, int payload) throws Exception {
        Process p = new ProcessBuilder("tcpdump", "-i", dev, "-Q", "in", "-nn", "-s", Integer.toString(
                CaptureConfig.MAX_SNAPLEN), "-B", "8192", "-w", file.toString(), "udp and dst host "
                + h2.address().getHostAddress()).start();
        try {
            p.getOutputStream().close();
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            CountDownLatch listening = new CountDownLatch(1);
            List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    String l;
                    while ((l = err.readLine()) != null) {
                        lines.add(l);
                        if (l.contains("listening on")) {
                            listening.countDown();
                        }
                    }
                } catch (java.io.IOException e) {
                    // tcpdump went away
                }
            });
            if (!listening.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("tcpdump did not start: " + lines);
            }
            long cpu0 = cpuNanos(p.pid());
            UdpStream.Report rep;
            try (UdpStream udp = UdpStream.open(h1.netns(), h1.address(), h2.netns(), h2.address(), payload)) {
                udp.start(2_000_000);
                Thread.sleep(seconds * 1000L);
                udp.stop();
                rep = udp.finish(Duration.ofMillis(300));
            }
            // tcpdump reads its ring by blocks that retire after up to 1 s (its default timeout); frames in
            // a block not yet retired when it gets SIGINT are neither written nor counted as dropped
            Thread.sleep(1500);
            long cpu1 = cpuNanos(p.pid());
            // SIGINT: tcpdump flushes its file and prints its counters on the way out
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("tcpdump did not stop");
            }
            reader.join(5000);
            long captured = -1, dropped = -1, filtered = -1;
            for (String l : lines) {
                Matcher m = TCPDUMP_STAT.matcher(l);
                if (m.find()) {
                    switch (m.group(2)) {
                        case "captured" -> captured = Long.parseLong(m.group(1));
                        case "dropped by kernel" -> dropped = Long.parseLong(m.group(1));
                        default -> filtered = Long.parseLong(m.group(1));
                    }
                }
            }
            if (captured < 0 || dropped < 0) {
                throw new IllegalStateException("no counters in tcpdump's output: " + lines);
            }
            return new Run("tcpdump", rep.sent(), rep.received(), filtered, captured, dropped,
                    captured == 0 ? Double.NaN : (cpu1 - cpu0) / (double) captured, seconds);
        } finally {
            if (p.isAlive()) {
                p.destroy();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** utime + stime of a process, in ns (from clock ticks of 10 ms). */
    static long cpuNanos(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return ticks * 10_000_000L;
    }
}

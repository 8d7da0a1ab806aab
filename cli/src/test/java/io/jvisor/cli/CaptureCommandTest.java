package io.jvisor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.ServerTestBed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code jvisor capture} through the real entry point: a topology with a capture instance between a
 * host and a bridge, pings sent while the command runs, and {@code tcpdump -r} of the file it wrote
 * shows them. Once with {@code -c} (in this JVM), once stopped by a signal (a separate {@code jvisor}
 * process, as Ctrl-C stops it), which still writes a readable file and prints the summary.
 */
@RequiresRoot
class CaptureCommandTest {
    private static final String TOPOLOGY = """
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: capture}
            spec:
              hosts:
                - {name: a, interfaces: [{name: eth0, addresses: [10.78.0.1/24]}], sysctls: {net.ipv6.conf.all.disable_ipv6: 1}}
                - {name: b, interfaces: [{name: eth0, addresses: [10.78.0.2/24]}], sysctls: {net.ipv6.conf.all.disable_ipv6: 1}}
              instances:
                - {name: cap, type: capture, config: {filter.proto: icmp}}
                - {name: sw, type: bridge}
              connections:
                - {a: cap:1, b: sw:0}
              attachments:
                - {port: cap:0, host: a:eth0}
                - {port: sw:1, host: b:eth0}
            """;

    @Test
    void captureWritesWhatTcpdumpReadsAndStopsCleanlyOnASignal(@TempDir Path tmp) throws Exception {
        Path manifest = tmp.resolve("capture.yaml");
        Files.writeString(manifest, TOPOLOGY);
        try (ServerTestBed bed = new ServerTestBed("jvq")) {
            List<String> e = List.of("--engine", bed.options.name(), "--state-dir", bed.options.stateDir().toString());
            CliRun up = CliRun.run(e, "up", manifest.toString(), "--udp-packets", "0");
            assertThat(up.exit()).as(up.toString()).isZero();
            JsonNode status = new ObjectMapper().readTree(Files.readString(bed.options.stateDir().resolve("topology.json")));
            bed.lab(status.path("labPrefix").asText());

            // -c: six frames are three echo requests and their replies, both directions through cap
            Path pcap = tmp.resolve("icmp.pcap");
            CompletableFuture<CliRun> capture = CompletableFuture.supplyAsync(() -> CliRun.run(e, "capture", "cap", "-w",
                    pcap.toString(), "-c", "6", "--snaplen", "96"));
            pingUntil(e, capture::isDone);
            CliRun r = capture.get(60, TimeUnit.SECONDS);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.err()).contains("capturing on cap").contains("6 packets captured")
                    .contains("0 packets dropped by kernel");
            List<String> lines = tcpdump(pcap);
            assertThat(lines).hasSize(6);
            assertThat(lines).filteredOn(l -> l.contains("10.78.0.1 > 10.78.0.2: ICMP echo request")).hasSize(3);
            assertThat(lines).filteredOn(l -> l.contains("10.78.0.2 > 10.78.0.1: ICMP echo reply")).hasSize(3);

            // a separate jvisor process, stopped by SIGTERM as by Ctrl-C
            Path pcap2 = tmp.resolve("signal.pcap");
            Path processTmp = Files.createDirectory(tmp.resolve("process-tmp")); // where its engine's socket goes
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + processTmp, "-cp",
                    System.getProperty("java.class.path"), Main.class.getName(), "capture", "cap", "-w", pcap2.toString()));
            cmd.addAll(e);
            Path stderr = tmp.resolve("stderr.txt");
            Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(tmp.resolve("out.txt")
                    .toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(stderr).contains("Ctrl-C stops") && p.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(Files.readString(stderr)).as("the capture started").contains("Ctrl-C stops");
                CliRun ping = CliRun.run("lab", "exec", e.get(0), e.get(1), e.get(2), e.get(3), "a", "--", "ping", "-c",
                        "4", "-i", "0.2", "-q", "10.78.0.2");
                assertThat(ping.exit()).as(ping.toString()).isZero();
                p.destroy(); // SIGTERM: the shutdown hook stops the session
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
            } finally {
                p.destroyForcibly();
            }
            String err = Files.readString(stderr);
            assertThat(err).contains("8 packets captured").contains("0 packets dropped by kernel");
            try (var left = Files.list(processTmp)) {
                assertThat(left.toList()).as("the stopped process's private socket directory is removed").isEmpty();
            }
            assertThat(tcpdump(pcap2)).hasSize(8).allMatch(l -> l.contains("ICMP echo"));

            // the instance is free again: a new session starts
            CompletableFuture<CliRun> again = CompletableFuture.supplyAsync(() -> CliRun.run(e, "capture", "cap", "-w",
                    tmp.resolve("again.pcap").toString(), "-c", "2"));
            pingUntil(e, again::isDone);
            assertThat(again.get(60, TimeUnit.SECONDS).exit()).isZero();

            // bad input names what is wrong
            CliRun notCapture = CliRun.run(e, "capture", "sw", "-w", tmp.resolve("x.pcap").toString(), "-c", "1");
            assertThat(notCapture.exit()).isNotZero();
            assertThat(notCapture.err()).contains("not a capture instance");
            assertThat(tmp.resolve("x.pcap")).doesNotExist();
            CliRun missing = CliRun.run(e, "capture", "ghost", "-w", tmp.resolve("y.pcap").toString());
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.err()).contains("no instance 'ghost'");

            CliRun down = CliRun.run(e, "down", "capture");
            assertThat(down.exit()).as(down.toString()).isZero();
        }
    }

    /** Pings from a to b, three at a time, until {@code done}. */
    private static void pingUntil(List<String> e, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Thread.sleep(1500); // the capture command starts its session
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            CliRun.run("lab", "exec", e.get(0), e.get(1), e.get(2), e.get(3), "a", "--", "ping", "-c", "3", "-i", "0.2",
                    "-q", "10.78.0.2");
            Thread.sleep(200);
        }
    }

    private static List<String> tcpdump(Path pcap) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("tcpdump", "-n", "-r", pcap.toString()).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("tcpdump -r: " + err).isZero();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }
}

package io.jvisor.cli;

import io.jvisor.server.ApplyResult;
import io.jvisor.server.Counters;
import io.jvisor.server.TrafficCheck;
import io.jvisor.server.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code jvisor up FILE}: the main job. */
@Command(name = "up", description = {
        "Bring a topology up: create its lab hosts, apply its instances and wires, drive a little traffic",
        "through it (pings between the hosts, a short UDP stream), and print what exists, what passed, the",
        "counters and what to try next. Uses the running daemon, or an engine in this process."},
        footer = {"", "Examples:", "  sudo ./jvisor up", "  sudo ./jvisor up examples/quickstart.yaml",
                "  sudo ./jvisor up --no-traffic my-topology.yaml", "  sudo ./jvisor down"})
public final class UpCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "FILE",
            description = "The topology (YAML or JSON; - for stdin). Without it: the embedded quickstart "
                    + "(examples/quickstart.yaml).")
    Path file;

    @CommandLine.Mixin
    EngineMixin engine;

    @CommandLine.Option(names = "--no-traffic", description = "Do not drive traffic after applying.")
    boolean noTraffic;

    @CommandLine.Option(names = "--udp-packets", defaultValue = "2000", paramLabel = "N",
            description = "Packets in the UDP check (default: ${DEFAULT-VALUE}).")
    int udpPackets;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Manifest m = file == null ? Manifests.quickstart() : Manifests.read(file, err);
        try (DaemonClient b = Backends.open(engine, true, err)) {
            out.println("jvisor up: topology '" + m.name() + "' (" + b.where() + ")");
            out.println("applying ...");
            out.flush();
            ApplyResult r;
            try (Progress p = Progress.start(err, "  (creating hosts, compiling and loading modules)")) {
                r = b.apply(m, false);
            }
            for (String line : r.changes()) {
                out.println("  " + line);
            }
            out.println("applied in " + r.millis() + " ms (" + r.changes().size() + " changes)");
            Manifest now = b.manifest();
            if (!now.spec().hosts().isEmpty()) {
                out.println("hosts:");
                for (Manifest.Host h : now.spec().hosts()) {
                    List<String> addrs = new ArrayList<>();
                    h.interfaces().forEach(i -> addrs.addAll(i.addresses()));
                    out.println("  " + h.name() + "  " + String.join(" ", addrs) + "  (netns " + b.hostNamespace(h.name())
                            + ")");
                }
            }
            boolean allPassed = true;
            if (!noTraffic) {
                out.println("traffic:");
                out.flush();
                List<TrafficCheck.Result> checks;
                try (Progress p = Progress.start(err, now.spec().checks().isEmpty()
                        ? "  (pinging every pair of hosts, then a UDP stream)"
                        : "  (running the " + now.spec().checks().size() + " checks of spec.checks)")) {
                    checks = TrafficCheck.run(now, b::hostNamespace, udpPackets);
                }
                if (checks.isEmpty()) {
                    out.println("  (no lab hosts with IPv4 addresses to send between)");
                }
                for (TrafficCheck.Result c : checks) {
                    out.println("  " + (c.passed() ? "PASS " : "FAIL ") + c.what() + ": " + c.detail());
                    allPassed &= c.passed();
                }
            }
            out.println("counters:");
            printCounters(out, b.counters(), "  ");
            out.println("try next:");
            if (!now.spec().hosts().isEmpty()) {
                Manifest.Host first = now.spec().hosts().getFirst();
                Manifest.Host last = now.spec().hosts().getLast();
                var addr = TrafficCheck.firstIpv4(last);
                out.println("  sudo ./jvisor lab exec " + first.name() + " -- ping -c 3 "
                        + (addr == null ? "ADDRESS" : addr.getHostAddress()));
            }
            out.println("  sudo ./jvisor get instances");
            out.println("  sudo ./jvisor stats --watch");
            out.println("  sudo ./jvisor down");
            out.flush();
            if (!allPassed) {
                err.println("jvisor: some traffic checks failed (see above)");
                return Exit.FAILED;
            }
            return Exit.OK;
        }
    }

    static void printCounters(PrintWriter out, List<Counters.InstanceRow> rows, String indent) {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of(indent + "INSTANCE", "PORT", "PEER", "RX-PKTS", "RX-BYTES", "TX-PKTS", "TX-BYTES", "DROPS",
                "MISSED"));
        for (Counters.InstanceRow i : rows) {
            long drops = i.drops().values().stream().mapToLong(Long::longValue).sum();
            if (i.ports().isEmpty()) {
                t.add(List.of(indent + i.instance(), "-", "-", "0", "0", "0", "0", Long.toString(drops),
                        Long.toString(i.missedTailCalls())));
            }
            boolean first = true;
            for (Counters.PortRow p : i.ports()) {
                t.add(List.of(indent + i.instance(), Integer.toString(p.port()), p.peer(), Long.toString(p.rxPackets()),
                        Long.toString(p.rxBytes()), Long.toString(p.txPackets()), Long.toString(p.txBytes()),
                        first ? Long.toString(drops) : "", first ? Long.toString(i.missedTailCalls()) : ""));
                first = false;
            }
        }
        Output.table(out, t);
    }
}

package io.jvisor.cli;

import io.jvisor.server.Counters;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jvisor stats [--watch]}: counters per instance and port. */
@Command(name = "stats", description = "Counters per instance and port: packets, bytes, drops, missed tail calls. "
        + "With --watch, a live table with rates, redrawn every interval until interrupted.",
        footer = {"", "Examples:", "  sudo jvisor stats", "  sudo jvisor stats --watch --interval 2",
                "  sudo jvisor stats -o json"})
public final class StatsCommand extends ResourceCommands.Base implements Callable<Integer> {
    @CommandLine.Option(names = {"-w", "--watch"}, description = "Redraw until interrupted.")
    boolean watch;

    @CommandLine.Option(names = "--interval", defaultValue = "1", paramLabel = "SECONDS",
            description = "Seconds between redraws (default: ${DEFAULT-VALUE}).")
    double interval;

    @CommandLine.Option(names = "--count", defaultValue = "0", paramLabel = "N",
            description = "With --watch, stop after N redraws (0: never).")
    int count;

    @Override
    public Integer call() throws InterruptedException {
        if (interval <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--interval must be positive");
        }
        try (DaemonClient c = readClient()) {
            List<Counters.InstanceRow> rows = c.counters();
            if (!watch) {
                if (output != Output.TABLE) {
                    output.print(out(), rows);
                } else {
                    UpCommand.printCounters(out(), rows, "");
                }
                return Exit.OK;
            }
            PrintWriter out = out();
            Map<String, long[]> last = new HashMap<>();
            long lastAt = System.nanoTime();
            for (int n = 0; count == 0 || n < count; n++) {
                Thread.sleep((long) (interval * 1000));
                rows = c.counters();
                long now = System.nanoTime();
                double secs = (now - lastAt) / 1e9;
                lastAt = now;
                List<List<String>> t = new ArrayList<>();
                t.add(List.of("INSTANCE", "PORT", "PEER", "RX-PPS", "TX-PPS", "RX-BPS", "TX-BPS", "RX-PKTS", "TX-PKTS"));
                for (Counters.InstanceRow i : rows) {
                    for (Counters.PortRow p : i.ports()) {
                        String key = i.instance() + ":" + p.port();
                        long[] before = last.getOrDefault(key, new long[] {p.rxPackets(), p.txPackets(), p.rxBytes(),
                                p.txBytes()});
                        last.put(key, new long[] {p.rxPackets(), p.txPackets(), p.rxBytes(), p.txBytes()});
                        t.add(List.of(i.instance(), Integer.toString(p.port()), p.peer(),
                                rate(p.rxPackets() - before[0], secs), rate(p.txPackets() - before[1], secs),
                                rate(8 * (p.rxBytes() - before[2]), secs), rate(8 * (p.txBytes() - before[3]), secs),
                                Long.toString(p.rxPackets()), Long.toString(p.txPackets())));
                    }
                }
                if (System.console() != null) {
                    out.print("\033[H\033[2J"); // clear the terminal: a live table
                }
                out.println("jvisor stats (" + c.where() + "), every " + interval + " s; Ctrl-C to stop");
                Output.table(out, t);
            }
            return Exit.OK;
        }
    }

    private static String rate(long delta, double secs) {
        double r = delta / secs;
        if (r >= 1e9) {
            return String.format("%.1fG", r / 1e9);
        }
        if (r >= 1e6) {
            return String.format("%.1fM", r / 1e6);
        }
        if (r >= 1e3) {
            return String.format("%.1fk", r / 1e3);
        }
        return String.format("%.0f", r);
    }
}

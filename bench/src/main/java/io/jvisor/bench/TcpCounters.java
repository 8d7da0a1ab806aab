package io.jvisor.bench;

import io.jvisor.net.Netns;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A namespace's IP and TCP counters, as {@code nstat -az} shows them: the {@code Tcp:}, {@code Ip:}
 * and {@code TcpExt:} lines of /proc/net/snmp and /proc/net/netstat, keyed as nstat names them
 * ({@code TcpRetransSegs}, {@code TcpExtTCPOFOQueue}). Read through /proc/thread-self on the
 * namespace's own thread, because /proc/self/net shows the namespace of the process.
 *
 * @param values counter name to value
 */
record TcpCounters(Map<String, Long> values) {
    /** The counters of namespace ns now. */
    static TcpCounters read(Netns ns) {
        return ns.run(() -> {
            Map<String, Long> v = new HashMap<>();
            parse(Files.readAllLines(Path.of("/proc/thread-self/net/snmp")), v);
            parse(Files.readAllLines(Path.of("/proc/thread-self/net/netstat")), v);
            return new TcpCounters(Map.copyOf(v));
        });
    }

    /** Pairs of lines "Prefix: name name ..." and "Prefix: value value ...". */
    private static void parse(List<String> lines, Map<String, Long> into) {
        for (int i = 0; i + 1 < lines.size(); i += 2) {
            String[] names = lines.get(i).split("\\s+");
            String[] values = lines.get(i + 1).split("\\s+");
            String prefix = names[0].substring(0, names[0].length() - 1);
            for (int k = 1; k < names.length && k < values.length; k++) {
                try {
                    into.put(prefix + names[k], Long.parseLong(values[k]));
                } catch (NumberFormatException e) {
                    // a non-numeric column (none today); skip it
                }
            }
        }
    }

    /** This minus an earlier reading, counter by counter. */
    TcpCounters since(TcpCounters before) {
        Map<String, Long> d = new HashMap<>();
        values.forEach((k, v) -> d.put(k, v - before.values.getOrDefault(k, 0L)));
        return new TcpCounters(Map.copyOf(d));
    }

    long get(String name) {
        return values.getOrDefault(name, 0L);
    }
}

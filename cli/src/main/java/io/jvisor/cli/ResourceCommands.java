package io.jvisor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jvisor.server.ApplyResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** The kubectl-like resource commands: get, describe, delete, add, connect. */
final class ResourceCommands {
    private ResourceCommands() {}

    /** The kinds {@code get}, {@code describe} and {@code delete} know, with their REST collections. */
    enum Kind {
        types("/v1/types"), instances("/v1/instances"), connections("/v1/connections"),
        attachments("/v1/attachments"), hosts("/v1/hosts"), devices("/v1/devices"), topology("/v1/topology"),
        counters("/v1/counters");

        final String path;

        Kind(String path) {
            this.path = path;
        }

        static Kind parse(String s) {
            String k = s.toLowerCase(java.util.Locale.ROOT);
            for (Kind v : values()) {
                if (v.name().equals(k) || v.name().equals(k + "s") || (v.name().startsWith(k) && k.length() >= 2
                        && !k.equals("co"))) {
                    return v;
                }
            }
            throw new CommandLine.TypeConversionException("unknown kind '" + s + "' (kinds: "
                    + String.join(", ", java.util.Arrays.stream(values()).map(Enum::name).toList()) + ")");
        }
    }

    /** Shared options. */
    static class Base {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        EngineMixin engine;

        @CommandLine.Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
                description = "table, json or yaml (default: ${DEFAULT-VALUE}).")
        Output output;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        DaemonClient client() {
            return Backends.open(engine, true, err());
        }

        DaemonClient readClient() {
            return Backends.open(engine, true, true, err());
        }

        void printResult(ApplyResult r, boolean dryRun) {
            ResourceCommands.printResult(out(), output, r, dryRun);
        }

        /** Makes {@code change} through a client and prints its plan or result. */
        Integer printChange(Function<DaemonClient, ApplyResult> change, boolean dryRun) {
            try (DaemonClient c = client()) {
                printResult(change.apply(c), dryRun);
                return Exit.OK;
            }
        }
    }

    /** Shared by the commands that edit the applied topology through one REST call. */
    static class Edit extends Base {
        @CommandLine.Option(names = "--dry-run", description = "Print the plan only.")
        boolean dryRun;

        /** The query that asks the daemon for a plan only, on a dry run. */
        String dryRunQuery() {
            return dryRun ? "?dryRun=true" : "";
        }

        /** Sends the edit and prints the daemon's plan or result. */
        Integer send(String method, String path, Object body) {
            return printChange(c -> DaemonClient.convert(c.send(method, path, body), ApplyResult.class), dryRun);
        }
    }

    /** Prints the plan or result of a change: its diff as a table, else the whole result in {@code output}. */
    static void printResult(PrintWriter out, Output output, ApplyResult r, boolean dryRun) {
        if (output != Output.TABLE) {
            output.print(out, r);
            return;
        }
        out.print(r.diff());
        out.println(dryRun ? "(dry run: nothing changed)" : "applied in " + r.millis() + " ms");
        out.flush();
    }

    @Command(name = "get", description = "List resources of a kind, or show one.",
            footer = {"", "Kinds: types, instances, connections, attachments, hosts, devices, topology, counters.",
                    "", "Examples:", "  sudo jvisor get instances", "  sudo jvisor get instance r1 -o yaml",
                    "  sudo jvisor get topology -o yaml > saved.yaml", "  sudo jvisor get types -o json"})
    static final class Get extends Base implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "KIND", converter = KindConverter.class,
                completionCandidates = KindCandidates.class, description = "What to list.")
        Kind kind;

        @CommandLine.Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "One of them.")
        String name;

        @Override
        public Integer call() {
            try (DaemonClient c = local(kind, engine) ? null : readClient()) {
                JsonNode n = c == null ? localFetch(kind, name) : fetch(c, kind, name);
                if (output != Output.TABLE || kind == Kind.topology) {
                    (output == Output.TABLE ? Output.YAML : output).print(out(), n);
                    return Exit.OK;
                }
                JsonNode list = n.isArray() ? n : wrap(n);
                Output.table(out(), rows(kind == Kind.types ? typeSummaries(list) : list));
                return Exit.OK;
            }
        }
    }

    /** At most this many key patterns in a type's one-line config summary. */
    static final int SUMMARY_KEYS = 4;

    /** Types with their config schema shortened to one line, for the {@code get types} table. */
    static JsonNode typeSummaries(JsonNode types) {
        var out = DaemonClient.JSON.createArrayNode();
        for (JsonNode t : types) {
            ObjectNode o = ((ObjectNode) t).deepCopy();
            o.remove("configSchema");
            o.put("config", configSummary(t.path("configSchema")));
            out.add(o);
        }
        return out;
    }

    /**
     * One line for a type's config schema: {@code 3 keys: port.N, route.N, neighbour.timeout} (the first
     * {@value #SUMMARY_KEYS} patterns, then "..."), the record's components, or free-form.
     */
    static String configSummary(JsonNode schema) {
        List<String> names = new ArrayList<>();
        switch (schema.path("type").asText("")) {
            case "keys" -> schema.path("keys").forEach(k -> names.add(k.path("pattern").asText()));
            case "record" -> schema.path("keys").fieldNames().forEachRemaining(names::add);
            default -> {
                return "free-form";
            }
        }
        if (names.isEmpty()) {
            return "none";
        }
        String shown = String.join(", ", names.subList(0, Math.min(SUMMARY_KEYS, names.size())))
                + (names.size() > SUMMARY_KEYS ? ", ..." : "");
        return names.size() + (names.size() == 1 ? " key: " : " keys: ") + shown;
    }

    /** Types and devices need no engine: without a daemon they are read here. */
    static boolean local(Kind kind, EngineMixin engine) {
        if (kind != Kind.types && kind != Kind.devices) {
            return false;
        }
        var daemon = DaemonClient.find(engine.options(), engine.socket);
        daemon.ifPresent(DaemonClient::close);
        return daemon.isEmpty();
    }

    static JsonNode localFetch(Kind kind, String name) {
        JsonNode all = DaemonClient.JSON.valueToTree(kind == Kind.types
                ? io.jvisor.server.Daemon.types(io.jvisor.engine.ModuleCatalog.discover())
                : io.jvisor.server.Daemon.devices());
        if (name == null) {
            return all;
        }
        for (JsonNode e : all) {
            if (name.equals(e.path("name").asText())) {
                return e;
            }
        }
        throw new DaemonClient.Refused(404, List.of(new io.jvisor.server.manifest.ManifestProblem(kind.name(), name,
                "not found")));
    }

    static JsonNode fetch(DaemonClient c, Kind kind, String name) {
        if (name == null) {
            return c.get(kind.path);
        }
        return switch (kind) {
            case types, instances, counters -> c.get(kind.path + "/" + DaemonClient.enc(name));
            case topology -> c.get(kind.path);
            default -> {
                for (JsonNode e : c.get(kind.path)) {
                    if (name.equals(e.path("name").asText(null)) || name.equals(e.path("a").asText(null))
                            || name.equals(e.path("b").asText(null)) || name.equals(e.path("port").asText(null))) {
                        yield e;
                    }
                }
                throw new DaemonClient.Refused(404, List.of(new io.jvisor.server.manifest.ManifestProblem(kind.name(),
                        name, "not found")));
            }
        };
    }

    private static JsonNode wrap(JsonNode n) {
        return DaemonClient.JSON.createArrayNode().add(n);
    }

    /** A table of the scalar fields of each element; nested values are shown compactly. */
    static List<List<String>> rows(JsonNode array) {
        List<String> cols = new ArrayList<>();
        for (JsonNode e : array) {
            for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!cols.contains(f)) {
                    cols.add(f);
                }
            }
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(cols.stream().map(s -> s.replaceAll("([a-z])([A-Z])", "$1-$2").toUpperCase(java.util.Locale.ROOT))
                .toList());
        for (JsonNode e : array) {
            List<String> r = new ArrayList<>();
            for (String col : cols) {
                JsonNode v = e.get(col);
                r.add(v == null || v.isNull() ? "-" : v.isValueNode() ? v.asText() : compact(v));
            }
            rows.add(r);
        }
        return rows;
    }

    private static String compact(JsonNode v) {
        if (v.isObject()) {
            List<String> parts = new ArrayList<>();
            v.fields().forEachRemaining(f -> parts.add(f.getKey() + "=" + (f.getValue().isValueNode()
                    ? f.getValue().asText() : f.getValue().toString())));
            return parts.isEmpty() ? "-" : String.join(",", parts);
        }
        List<String> parts = new ArrayList<>();
        v.forEach(x -> parts.add(x.isValueNode() ? x.asText() : x.toString()));
        return parts.isEmpty() ? "-" : String.join(",", parts);
    }

    @Command(name = "describe", description = "Show one resource in detail: an instance with its config, ports, "
            + "tables and counters; a type with its schema; a host with its namespace.",
            footer = {"", "Examples:", "  sudo jvisor describe instance r1", "  sudo jvisor describe type bridge"})
    static final class Describe extends Base implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "KIND", converter = KindConverter.class,
                completionCandidates = KindCandidates.class)
        Kind kind;

        @CommandLine.Parameters(index = "1", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            try (DaemonClient c = local(kind, engine) ? null : readClient()) {
                JsonNode n = c == null ? localFetch(kind, name) : fetch(c, kind, name);
                if (kind == Kind.instances) {
                    ObjectNode o = ((ObjectNode) n).deepCopy();
                    o.set("tables", c.get("/v1/instances/" + DaemonClient.enc(name) + "/tables"));
                    o.set("counters", c.get("/v1/counters/" + DaemonClient.enc(name)));
                    n = o;
                }
                (output == Output.TABLE ? Output.YAML : output).print(out(), n);
                return Exit.OK;
            }
        }
    }

    @Command(name = "delete", description = "Delete an instance (with its wires), a connection or attachment (by an "
            + "end), or the whole topology.",
            footer = {"", "Examples:", "  sudo jvisor delete instance r1", "  sudo jvisor delete connection br1:2",
                    "  sudo jvisor delete attachment br1:0", "  sudo jvisor delete topology"})
    static final class Delete extends Edit implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "KIND", converter = KindConverter.class,
                completionCandidates = KindCandidates.class)
        Kind kind;

        @CommandLine.Parameters(index = "1", arity = "0..1", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            String path = switch (kind) {
                case instances -> "/v1/instances/" + DaemonClient.enc(need()) + dryRunQuery();
                case connections -> "/v1/connections/" + DaemonClient.enc(need()) + dryRunQuery();
                case attachments -> "/v1/attachments/" + DaemonClient.enc(need()) + dryRunQuery();
                case topology -> "/v1/topology" + dryRunQuery();
                default -> throw new CommandLine.ParameterException(spec.commandLine(), "cannot delete " + kind
                        + " (deletable: instances, connections, attachments, topology)");
            };
            return send("DELETE", path, null);
        }

        private String need() {
            if (name == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give the " + kind + " to delete");
            }
            return name;
        }
    }

    @Command(name = "add", description = "Add (or replace) an instance of a module type, configured with key=value "
            + "pairs.",
            footer = {"", "Examples:", "  sudo jvisor add bridge br1", "  sudo jvisor add bridge br1 agingSeconds=60",
                    "  sudo jvisor add router r1 port.0=10.0.1.1/24 port.1=10.0.2.1/24"})
    static final class Add extends Edit implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "TYPE")
        String type;

        @CommandLine.Parameters(index = "1", paramLabel = "NAME")
        String name;

        @CommandLine.Parameters(index = "2..*", paramLabel = "KEY=VALUE", description = "Configuration.")
        List<String> config = new ArrayList<>();

        @Override
        public Integer call() {
            Map<String, String> cfg = new LinkedHashMap<>();
            for (String kv : config) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "'" + kv + "' is not KEY=VALUE");
                }
                cfg.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            return send("PUT", "/v1/instances/" + DaemonClient.enc(name) + dryRunQuery(),
                    Map.of("type", type, "config", cfg));
        }
    }

    @Command(name = "connect", description = {"Connect an instance port to another instance port, a device, or a lab "
            + "host's interface.", "B is INSTANCE:PORT, dev:NAME, dev:NETNS/NAME, or host:HOST:IFACE."},
            footer = {"", "Examples:", "  sudo jvisor connect br1:2 r1:0", "  sudo jvisor connect br1:0 dev:eth1",
                    "  sudo jvisor connect br1:3 dev:myns/veth0", "  sudo jvisor connect br1:4 host:h5:eth0"})
    static final class Connect extends Edit implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "A", description = "INSTANCE:PORT")
        String a;

        @CommandLine.Parameters(index = "1", paramLabel = "B", description = "INSTANCE:PORT, dev:[NETNS/]NAME or "
                + "host:HOST:IFACE")
        String b;

        @Override
        public Integer call() {
            if (b.startsWith("dev:")) {
                String d = b.substring(4);
                int slash = d.indexOf('/');
                Map<String, String> body = new LinkedHashMap<>();
                body.put("port", a);
                body.put("device", slash < 0 ? d : d.substring(slash + 1));
                if (slash >= 0) {
                    body.put("netns", d.substring(0, slash));
                }
                return send("POST", "/v1/attachments" + dryRunQuery(), body);
            }
            if (b.startsWith("host:")) {
                return send("POST", "/v1/attachments" + dryRunQuery(), Map.of("port", a, "host", b.substring(5)));
            }
            return send("POST", "/v1/connections" + dryRunQuery(), Map.of("a", a, "b", b));
        }
    }

    /** Converts kind names, accepting singulars and prefixes. */
    static final class KindConverter implements CommandLine.ITypeConverter<Kind> {
        @Override
        public Kind convert(String value) {
            return Kind.parse(value);
        }
    }

    /** Kind names for shell completion. */
    static final class KindCandidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return java.util.Arrays.stream(Kind.values()).map(Enum::name).iterator();
        }
    }
}

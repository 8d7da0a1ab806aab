package io.jvisor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jvisor table INSTANCE TABLE list|get|set|delete}: an instance's map as entries. */
@Command(name = "table", description = {"Read and write an instance's tables (its own BPF maps). Entries are shown "
        + "by their C types (from the map's BTF): one column per struct member, IPv4 addresses dotted, MACs "
        + "colon-separated; -o json|yaml adds the raw hex.",
        "A KEY or VALUE is hex bytes in the map's layout, or JSON in the decoded form ('{...}' or '[...]'); members "
        + "left out are zero.", "Without TABLE: list the instance's tables."},
        footer = {"", "Examples:", "  sudo jvisor table br1", "  sudo jvisor table br1 fdb list",
                "  sudo jvisor table br1 fdb_static set '{\"mac\":\"02:00:00:00:00:01\",\"vlan\":1}' '{\"port\":1}'",
                "  sudo jvisor table br1 fdb_static get '{\"mac\":\"02:00:00:00:00:01\",\"vlan\":1}'",
                "  sudo jvisor table br1 fdb_static set 0200000000010100 01000000000000000000000000000000",
                "  sudo jvisor table br1 fdb_static delete 0200000000010100"})
public final class TableCommand extends ResourceCommands.Base implements Callable<Integer> {
    @CommandLine.Parameters(index = "0", paramLabel = "INSTANCE")
    String instance;

    @CommandLine.Parameters(index = "1", arity = "0..1", paramLabel = "TABLE")
    String table;

    @CommandLine.Parameters(index = "2", arity = "0..1", paramLabel = "ACTION", defaultValue = "list",
            description = "list (default), get KEY, set KEY VALUE, delete KEY")
    String action;

    @CommandLine.Parameters(index = "3..*", paramLabel = "ARGS")
    List<String> args = new ArrayList<>();

    @CommandLine.Option(names = "--limit", defaultValue = "1000", description = "Most entries to list (default: "
            + "${DEFAULT-VALUE}).")
    int limit;

    @Override
    public Integer call() {
        String base = "/v1/instances/" + DaemonClient.enc(instance) + "/tables";
        try (DaemonClient c = action.equals("list") || action.equals("get") ? readClient() : client()) {
            if (table == null) {
                show(c.get(base));
                return Exit.OK;
            }
            String t = base + "/" + DaemonClient.enc(table);
            switch (action) {
                case "list" -> {
                    JsonNode n = c.get(t + "?limit=" + limit);
                    show(output == Output.TABLE ? decoded(n.path("entries")) : n);
                }
                case "get" -> show(decoded(c.get(t + "/entries/" + DaemonClient.enc(arg(0, "KEY")))));
                case "set", "put" -> show(decoded(c.send("PUT", t + "/entries/" + DaemonClient.enc(arg(0, "KEY")),
                        Map.of("value", value(arg(1, "VALUE"))))));
                case "delete", "del" -> {
                    c.send("DELETE", t + "/entries/" + DaemonClient.enc(arg(0, "KEY")), null);
                    if (output == Output.TABLE) {
                        out().println("deleted");
                        out().flush();
                    }
                }
                default -> throw new CommandLine.ParameterException(spec.commandLine(), "unknown action '" + action
                        + "' (list, get, set, delete)");
            }
            return Exit.OK;
        }
    }

    /** A VALUE argument: JSON in the decoded form when it starts with '{' or '[', else hex. */
    private Object value(String v) {
        if (v.startsWith("{") || v.startsWith("[")) {
            try {
                return DaemonClient.JSON.readTree(v);
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "VALUE is not JSON: " + e.getOriginalMessage());
            }
        }
        return v;
    }

    /**
     * For the table output: each entry as the members of its decoded key, then of its decoded value
     * (a value member named like a key member gets a {@code value.} prefix); hex where an entry has
     * no BTF. JSON and YAML output keep the whole entry.
     */
    private JsonNode decoded(JsonNode entries) {
        if (output != Output.TABLE) {
            return entries;
        }
        if (!entries.isArray()) {
            return decoded(DaemonClient.JSON.createArrayNode().add(entries));
        }
        com.fasterxml.jackson.databind.node.ArrayNode out = DaemonClient.JSON.createArrayNode();
        for (JsonNode e : entries) {
            com.fasterxml.jackson.databind.node.ObjectNode row = DaemonClient.JSON.createObjectNode();
            JsonNode kf = e.path("keyFields"), vf = e.path("valueFields");
            if (kf.isObject()) {
                row.setAll((com.fasterxml.jackson.databind.node.ObjectNode) kf);
            } else {
                row.set("key", kf.isMissingNode() || kf.isNull() ? e.path("key") : kf);
            }
            if (vf.isObject()) {
                vf.fields().forEachRemaining(f -> row.set(row.has(f.getKey()) ? "value." + f.getKey() : f.getKey(),
                        f.getValue()));
            } else if (!vf.isMissingNode() && !vf.isNull()) {
                row.set(row.has("value") ? "value.value" : "value", vf);
            } else {
                row.set(e.path("values").isArray() ? "values" : "value", e.path("values").isArray() ? e.path("values")
                        : e.path("value"));
            }
            out.add(row);
        }
        return out;
    }

    private String arg(int i, String what) {
        if (args.size() <= i) {
            throw new CommandLine.ParameterException(spec.commandLine(), action + " needs " + what);
        }
        return args.get(i);
    }

    private void show(JsonNode n) {
        if (output != Output.TABLE) {
            output.print(out(), n);
            return;
        }
        Output.table(out(), ResourceCommands.rows(n.isArray() ? n : DaemonClient.JSON.createArrayNode().add(n)));
    }
}

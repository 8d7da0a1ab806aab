package io.jvisor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jvisor table INSTANCE TABLE list|get|set|delete}: an instance's map as entries. */
@Command(name = "table", description = {"Read and write an instance's tables (its own BPF maps). Keys and values are "
        + "hex bytes in the map's layout.", "Without TABLE: list the instance's tables."},
        footer = {"", "Examples:", "  sudo jvisor table br1", "  sudo jvisor table br1 fdb list",
                "  sudo jvisor table br1 fdb_static set 0200000000010100 01000000000000000000000000000000",
                "  sudo jvisor table br1 fdb_static get 0200000000010100",
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
                    show(output == Output.TABLE ? n.path("entries") : n);
                }
                case "get" -> show(c.get(t + "/entries/" + DaemonClient.enc(arg(0, "KEY"))));
                case "set", "put" -> show(c.send("PUT", t + "/entries/" + DaemonClient.enc(arg(0, "KEY")),
                        Map.of("value", arg(1, "VALUE"))));
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

package io.jvisor.cli;

import io.jvisor.server.ApplyResult;
import io.jvisor.server.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jvisor apply -f FILE [--dry-run]}. */
@Command(name = "apply", description = {
        "Make the network match a topology file: prints the plan as a diff (+ create, ~ change, - remove),",
        "then applies it, all or nothing. Uses the running daemon, or an engine in this process."},
        footer = {"", "Examples:", "  sudo jvisor apply -f examples/quickstart.yaml --dry-run",
                "  sudo jvisor apply -f examples/quickstart.yaml", "  cat topo.yaml | sudo jvisor apply -f -"})
public final class ApplyCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE",
            description = "The topology (YAML or JSON; - for stdin).")
    Path file;

    @CommandLine.Option(names = "--dry-run", description = "Print the plan only; change nothing.")
    boolean dryRun;

    @CommandLine.Mixin
    EngineMixin engine;

    @CommandLine.Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json or yaml (default: ${DEFAULT-VALUE}).")
    Output output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Manifest m = Manifests.read(file, err);
        try (DaemonClient b = Backends.open(engine, true, err)) {
            if (output == Output.TABLE) {
                err.println((dryRun ? "planning" : "applying") + " topology '" + m.name() + "' (" + b.where() + ") ...");
                err.flush();
            }
            ApplyResult r;
            try (Progress p = Progress.start(err, dryRun ? "planning ..." : "applying ...")) {
                r = b.apply(m, dryRun);
            }
            ResourceCommands.printResult(out, output, r, dryRun);
            return Exit.OK;
        }
    }
}

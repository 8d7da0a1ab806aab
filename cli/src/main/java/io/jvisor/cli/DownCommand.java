package io.jvisor.cli;

import io.jvisor.server.ApplyResult;
import io.jvisor.server.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jvisor down [FILE|NAME]}: removes what {@code up} or {@code apply} created. */
@Command(name = "down", description = {
        "Remove the applied topology: its instances, wires and lab hosts. Without a daemon, also the",
        "engine's pins and saved state. Given a file or a name, only when it names the applied topology."},
        footer = {"", "Examples:", "  sudo ./jvisor down", "  sudo ./jvisor down examples/quickstart.yaml",
                "  sudo ./jvisor down quickstart"})
public final class DownCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "FILE|NAME",
            description = "The topology file or name to remove (default: whatever is applied).")
    String target;

    @CommandLine.Mixin
    EngineMixin engine;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String name = null;
        if (target != null) {
            Path p = Path.of(target);
            name = Files.isRegularFile(p) ? Manifests.read(p, err).name() : target;
        }
        try (DaemonClient b = Backends.open(engine, true, err)) {
            Manifest m = b.manifest();
            if (name != null && (m == null || !m.name().equals(name))) {
                err.println("jvisor: topology '" + name + "' is not applied"
                        + (m == null ? " (nothing is)" : " (applied: '" + m.name() + "')"));
                return Exit.FAILED;
            }
            ApplyResult r = b.down(b.isEmbedded());
            for (String line : r.changes()) {
                out.println("  " + line);
            }
            out.println(m == null ? "nothing was applied; engine '" + engine.engine + "' cleaned up"
                    : "removed topology '" + m.name() + "' in " + r.millis() + " ms");
            out.flush();
            return Exit.OK;
        }
    }
}

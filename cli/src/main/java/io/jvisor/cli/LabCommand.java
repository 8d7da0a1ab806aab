package io.jvisor.cli;

import io.jvisor.net.Netns;
import io.jvisor.server.ApplyResult;
import io.jvisor.server.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code jvisor lab up|down|list|exec}: the lab hosts of a topology. */
@Command(name = "lab", description = "The lab hosts (network namespaces) of a topology.",
        subcommands = {LabCommand.Up.class, LabCommand.Down.class, LabCommand.ListHosts.class, LabCommand.Exec.class},
        footer = {"", "Examples:", "  sudo jvisor lab up examples/quickstart.yaml", "  sudo jvisor lab list",
                "  sudo jvisor lab exec h1 -- ping -c 3 10.0.2.10", "  sudo jvisor lab exec h3 -- ip addr",
                "  sudo jvisor lab down"})
public final class LabCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "up", description = "Apply a topology with its lab hosts, without driving traffic (see 'jvisor up').")
    static final class Up extends ResourceCommands.Base implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() {
            Manifest m = Manifests.read(file, err());
            try (DaemonClient c = client()) {
                ApplyResult r = c.apply(m, false);
                printResult(r, false);
                for (Manifest.Host h : m.spec().hosts()) {
                    out().println("host " + h.name() + ": netns " + c.hostNamespace(h.name()));
                }
                out().flush();
                return Exit.OK;
            }
        }
    }

    @Command(name = "down", description = "Remove the topology and its lab hosts (see 'jvisor down').")
    static final class Down extends ResourceCommands.Base implements Callable<Integer> {
        @Override
        public Integer call() {
            return printChange(c -> c.down(c.isEmbedded()), false);
        }
    }

    @Command(name = "list", description = "The lab hosts and their namespaces.")
    static final class ListHosts extends ResourceCommands.Base implements Callable<Integer> {
        @Override
        public Integer call() {
            try (DaemonClient c = readClient()) {
                var n = c.get("/v1/hosts");
                if (output != Output.TABLE) {
                    output.print(out(), n);
                } else {
                    Output.table(out(), ResourceCommands.rows(n));
                }
                return Exit.OK;
            }
        }
    }

    @Command(name = "exec", description = "Run a command inside a lab host; exits with its status.")
    static final class Exec extends ResourceCommands.Base implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "HOST")
        String host;

        @CommandLine.Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() throws IOException, InterruptedException {
            String ns;
            try (DaemonClient c = readClient()) {
                ns = c.hostNamespace(host);
            } catch (Manifests.Reported nothing) {
                ns = null; // nothing runs: no host either
            }
            if (ns == null) {
                err().println("jvisor: no lab host '" + host + "' in the applied topology");
                return Exit.FAILED;
            }
            try (Netns n = Netns.open(ns)) {
                Process p = n.exec(new ProcessBuilder(command).redirectErrorStream(true));
                p.getOutputStream().close();
                try (var in = p.getInputStream()) {
                    byte[] buf = new byte[8192];
                    for (int r; (r = in.read(buf)) > 0; ) {
                        out().print(new String(buf, 0, r, java.nio.charset.StandardCharsets.UTF_8));
                        out().flush();
                    }
                }
                return p.waitFor();
            }
        }
    }
}

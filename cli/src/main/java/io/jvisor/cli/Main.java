package io.jvisor.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jvisor} command line. */
@Command(name = "jvisor", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = VersionCommand.Provider.class,
        description = "jvisor: the IO Visor engine for the JVM.",
        footer = {"", "Start here:", "  sudo ./jvisor up examples/quickstart.yaml",
                "  sudo ./jvisor get instances", "  sudo ./jvisor down", "",
                "Commands talk to the daemon ('jvisor daemon') when one runs,",
                "else to an engine started in this process.", "",
                "Exit codes: 0 ok, 1 failed, 2 usage, 65 invalid input,",
                "66 no input file, 69 daemon unreachable,",
                "77 not root (or not allowed on the daemon's socket)."},
        subcommands = {UpCommand.class, DownCommand.class, DaemonCommand.class, ApplyCommand.class,
                ResourceCommands.Get.class, ResourceCommands.Describe.class, ResourceCommands.Delete.class,
                ResourceCommands.Add.class, ResourceCommands.Connect.class, TableCommand.class, StatsCommand.class,
                LabCommand.class, CompletionCommand.class, VersionCommand.class, FeaturesCommand.class, CompileCommand.class, ObjectCommand.class,
                DisasmCommand.class, AsmCommand.class, CaptureCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Runs the CLI and exits with its status. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (tests use it without exiting). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            if (ex instanceof Manifests.Reported r) {
                return r.exit; // already printed
            }
            if (ex instanceof DaemonClient.NoPermission p) {
                cmd.getErr().println("jvisor: " + p.getMessage());
                return Exit.NO_PERMISSION;
            }
            if (ex instanceof DaemonClient.Unreachable u) {
                cmd.getErr().println("jvisor: " + u.getMessage());
                return Exit.UNAVAILABLE;
            }
            if (ex instanceof DaemonClient.Refused r) {
                Manifests.report("refused (" + r.status + ")", r.asManifestException(), cmd.getErr());
                return r.status == 404 ? Exit.FAILED : Exit.DATA;
            }
            if (ex instanceof io.jvisor.bpf.features.MissingCapabilityException m) {
                cmd.getErr().println("jvisor: " + m.getMessage());
                return Exit.NO_PERMISSION;
            }
            if (ex instanceof io.jvisor.server.manifest.ManifestException m) {
                return Manifests.report("request", m, cmd.getErr()).exit;
            }
            cmd.getErr().println("jvisor: " + ex.getMessage());
            return Exit.FAILED;
        });
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }
}

package io.jvisor.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jvisor} command line. */
@Command(name = "jvisor", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        description = "jvisor: the IO Visor engine for the JVM.",
        subcommands = {DaemonCommand.class, UpCommand.class, DownCommand.class, ApplyCommand.class, VersionCommand.class, FeaturesCommand.class, CompileCommand.class, ObjectCommand.class,
                DisasmCommand.class, AsmCommand.class, CommandLine.HelpCommand.class})
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
            if (ex instanceof DaemonClient.Refused r) {
                Manifests.report("refused (" + r.status + ")", r.asManifestException(), cmd.getErr());
                return r.status == 404 ? Exit.FAILED : Exit.DATA;
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

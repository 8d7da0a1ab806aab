package io.jvisor.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code jvisor version}: the jvisor, Java and kernel versions. */
@Command(name = "version", description = "Print the jvisor, Java and kernel versions.")
public final class VersionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        for (String line : new Provider().getVersion()) {
            spec.commandLine().getOut().println(line);
        }
    }

    /** Supplies {@code --version}. */
    public static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                "jvisor " + (v == null ? "dev" : v),
                "java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
                "kernel " + io.jvisor.bpf.features.KernelVersion.current()
            };
        }
    }
}

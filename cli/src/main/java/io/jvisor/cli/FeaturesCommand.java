package io.jvisor.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code jvisor features}: what this kernel supports, like {@code bpftool feature probe}. */
@Command(name = "features", description = "Probe what this kernel supports: program, map and attach types, and helpers.")
public final class FeaturesCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--helpers", description = "Also probe every helper for each networking program type.")
    boolean helpers;

    @Override
    public void run() {
        var out = spec.commandLine().getOut();
        out.print(io.jvisor.bpf.features.Features.probe(helpers).render());
        out.flush();
    }
}

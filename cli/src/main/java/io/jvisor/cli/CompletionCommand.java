package io.jvisor.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code jvisor completion}: a bash/zsh completion script. */
@Command(name = "completion", description = "Print a bash (and zsh) completion script for jvisor.",
        footer = {"", "Examples:", "  source <(jvisor completion)",
                "  jvisor completion > /etc/bash_completion.d/jvisor"})
public final class CompletionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        CommandLine root = spec.root().commandLine();
        spec.commandLine().getOut().print(AutoComplete.bash("jvisor", root));
        spec.commandLine().getOut().flush();
    }
}

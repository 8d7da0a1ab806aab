package io.jvisor.cli;

import io.jvisor.engine.EngineOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * Which engine a command works on: {@code --engine}, {@code --state-dir}, {@code --bpffs}; and
 * {@code --socket}, the daemon's control socket.
 */
public final class EngineMixin {
    @Option(names = "--engine", defaultValue = "jvisor", paramLabel = "NAME",
            description = "The engine's name: its pins are under BPFFS/jvisor/NAME (default: ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the engine keeps its state (default: /var/lib/jvisor/NAME).")
    Path stateDir;

    @Option(names = "--bpffs", paramLabel = "DIR", description = "The bpf filesystem (default: /sys/fs/bpf).")
    Path bpffs;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "The daemon's control socket (default: the one daemon.json names, else "
                    + io.jvisor.server.DaemonOptions.DEFAULT_SOCKET + ").")
    Path socket;

    /** The engine options. */
    public EngineOptions options() {
        return new EngineOptions(engine, bpffs, stateDir, null, null);
    }
}

package io.jvisor.cli;

import java.io.PrintWriter;

/** Picks the backend: the daemon when one runs for the engine, else one started in this process. */
final class Backends {
    private Backends() {}

    /**
     * The running daemon's client, or (when {@code offlineAllowed}) a client of a daemon started in
     * this process for the duration of the command.
     */
    static DaemonClient open(EngineMixin engine, boolean offlineAllowed, PrintWriter err) {
        return open(engine, offlineAllowed, false, err);
    }

    /**
     * Same; a {@code readOnly} command with no daemon and no engine to read ends with a note instead
     * of starting one (which would create the engine's pins just to report that nothing is there).
     */
    static DaemonClient open(EngineMixin engine, boolean offlineAllowed, boolean readOnly, PrintWriter err) {
        var daemon = DaemonClient.find(engine.options(), engine.socket);
        if (daemon.isPresent()) {
            return daemon.get();
        }
        if (engine.socket != null) {
            err.println("jvisor: no daemon answers on " + engine.socket);
            throw new Manifests.Reported(Exit.UNAVAILABLE);
        }
        var o = engine.options();
        if (readOnly && !java.nio.file.Files.exists(o.pinRoot())
                && !java.nio.file.Files.exists(o.stateDir().resolve("state.json"))) {
            err.println("jvisor: nothing runs on engine '" + engine.engine + "' (no daemon, no saved state)");
            err.flush();
            throw new Manifests.Reported(Exit.OK);
        }
        if (!offlineAllowed) {
            err.println("jvisor: no daemon is running for engine '" + engine.engine + "' (start one with "
                    + "'sudo jvisor daemon')");
            throw new Manifests.Reported(Exit.UNAVAILABLE);
        }
        requireRoot(err);
        return DaemonClient.embedded(engine.options());
    }

    static void requireRoot(PrintWriter err) {
        if (!isRoot()) {
            err.println("jvisor: this needs root (eBPF programs, network namespaces): run it with sudo");
            throw new Manifests.Reported(Exit.NO_PERMISSION);
        }
    }

    static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }
}

package io.jvisor.cli;

import io.jvisor.server.Controller;

import java.io.PrintWriter;

/** Picks the backend: the daemon when one runs for the engine, else an embedded engine. */
final class Backends {
    private Backends() {}

    /** The daemon's backend, or an embedded engine ({@code offline} allowed) when no daemon runs. */
    static Backend open(EngineMixin engine, boolean offlineAllowed, PrintWriter err) {
        var daemon = DaemonClient.find(engine.options());
        if (daemon.isPresent()) {
            return daemon.get();
        }
        if (!offlineAllowed) {
            err.println("jvisor: no daemon is running for engine '" + engine.engine + "' (start one with "
                    + "'sudo jvisor daemon')");
            throw new Manifests.Reported(Exit.UNAVAILABLE);
        }
        requireRoot(err);
        return new Backend.Embedded(Controller.open(engine.options()));
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

package io.jvisor.cli;

import io.jvisor.server.ApplyResult;
import io.jvisor.server.Counters;
import io.jvisor.server.manifest.Manifest;

import java.util.List;

/**
 * Where a command's work happens: the running daemon, or one started in this process when no
 * daemon runs. Both are reached through the REST API ({@link DaemonClient}).
 */
interface Backend extends AutoCloseable {
    /** Applies, or plans for a dry run. */
    ApplyResult apply(Manifest m, boolean dryRun);

    /** Removes the applied topology and its lab; {@code destroy} also removes an in-process engine's pins and state. */
    ApplyResult down(boolean destroy);

    /** The applied manifest, or null. */
    Manifest manifest();

    /** The namespace of lab host {@code host}, or null. */
    String hostNamespace(String host);

    /** The counters. */
    List<Counters.InstanceRow> counters();

    /** A short description, e.g. "daemon at unix:/run/jvisor/jvisord.sock". */
    String where();

    @Override
    void close();
}

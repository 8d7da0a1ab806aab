package io.jvisor.cli;

import io.jvisor.server.ApplyResult;
import io.jvisor.server.Controller;
import io.jvisor.server.Counters;
import io.jvisor.server.manifest.Manifest;

import java.util.List;

/**
 * Where a command's work happens: the running daemon (over its REST API), or an engine embedded in
 * this process when no daemon runs.
 */
interface Backend extends AutoCloseable {
    /** Applies, or plans for a dry run. */
    ApplyResult apply(Manifest m, boolean dryRun);

    /** Removes the applied topology and its lab; {@code destroy} also removes the engine's pins and state. */
    ApplyResult down(boolean destroy);

    /** The applied manifest, or null. */
    Manifest manifest();

    /** The namespace of lab host {@code host}, or null. */
    String hostNamespace(String host);

    /** The counters. */
    List<Counters.InstanceRow> counters();

    /** A short description, e.g. "daemon at 127.0.0.1:8472" or "embedded engine 'jvisor'". */
    String where();

    @Override
    void close();

    /** An engine in this process. */
    final class Embedded implements Backend {
        final Controller controller;

        Embedded(Controller c) {
            this.controller = c;
        }

        @Override
        public ApplyResult apply(Manifest m, boolean dryRun) {
            return controller.apply(m, dryRun);
        }

        @Override
        public ApplyResult down(boolean destroy) {
            return destroy ? controller.destroy() : controller.down();
        }

        @Override
        public Manifest manifest() {
            return controller.manifest();
        }

        @Override
        public String hostNamespace(String host) {
            return controller.hostNamespace(host);
        }

        @Override
        public List<Counters.InstanceRow> counters() {
            return Counters.read(controller.engine());
        }

        @Override
        public String where() {
            return "embedded engine '" + controller.engine().options().name() + "'";
        }

        @Override
        public void close() {
            controller.close();
        }
    }
}

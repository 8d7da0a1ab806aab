package io.jvisor.server;

import io.jvisor.engine.TopologyException;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestException;

/**
 * Every change a route makes to the topology goes through here: the controller applies it (or plans it,
 * for a dry run) and the metrics record how long it took and how it ended.
 */
record TopologyChanges(Controller controller, Metrics metrics) {
    /** Applies {@code m}, or with {@code dryRun} only plans it. */
    ApplyResult apply(Manifest m, boolean dryRun) {
        long t0 = System.nanoTime();
        try {
            ApplyResult r = controller.apply(m, dryRun);
            metrics.apply(System.nanoTime() - t0, dryRun ? "dry-run" : "ok");
            return r;
        } catch (ManifestException | ApiException e) {
            metrics.apply(System.nanoTime() - t0, "invalid");
            throw e;
        } catch (TopologyException e) {
            metrics.apply(System.nanoTime() - t0, "refused");
            throw e;
        }
    }

    /** Removes the whole topology, or with {@code dryRun} only plans it. */
    ApplyResult down(boolean dryRun) {
        long t0 = System.nanoTime();
        ApplyResult res = controller.down(dryRun);
        if (!dryRun) {
            metrics.apply(System.nanoTime() - t0, "removed");
        }
        return res;
    }

    /** The applied manifest, or an empty one when nothing is applied: what an edit starts from. */
    Manifest current() {
        Manifest m = controller.manifest();
        return m == null ? Manifest.empty("default") : m;
    }
}

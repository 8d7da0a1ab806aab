package io.jvisor.server;

import io.javalin.config.RoutesConfig;

/**
 * The routes of one resource of the REST API. Each reads its request through {@link Exchange}, and
 * refuses by throwing {@link ApiException}, which {@link Refusals} turns into a {@link Refusal}.
 */
sealed interface Routes permits DaemonRoutes, StatsRoutes, TopologyRoutes, InstanceRoutes, TableRoutes,
        CaptureRoutes, EventRoutes {
    /** Adds this resource's routes to {@code r}. */
    void addTo(RoutesConfig r);
}

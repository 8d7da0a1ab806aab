package io.jvisor.server;

import io.javalin.config.RoutesConfig;

import static io.jvisor.server.Exchange.send;

/**
 * What the data plane counted: Prometheus text on {@code /metrics} and the per instance and port counters
 * on {@code /v1/counters}, both read from the kernel at each request.
 */
record StatsRoutes(Controller controller, Metrics metrics) implements Routes {
    @Override
    public void addTo(RoutesConfig r) {
        r.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
        r.get("/v1/counters", ctx -> send(ctx, 200, Counters.read(controller.engine())));
        r.get("/v1/counters/{instance}", ctx -> {
            Counters.InstanceRow row = Counters.read(controller.engine(), ctx.pathParam("instance"));
            if (row == null) {
                throw new ApiException(404, "instance", ctx.pathParam("instance"), "no such instance");
            }
            send(ctx, 200, row);
        });
    }
}

package io.jvisor.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.jvisor.engine.TopologyException;
import io.jvisor.server.manifest.ManifestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Sends every refusal: whatever a route or the HTTP layer threw, and a path or method no route takes,
 * becomes a {@link Refusal} in JSON or YAML (by Accept), counted in the metrics. A failure the daemon
 * did not mean goes to its log with the stack trace, and to the client as a bare 500.
 */
record Refusals(Metrics metrics) {
    private static final Logger LOG = LoggerFactory.getLogger(Refusals.class);

    /** Registers the handlers on {@code r}. */
    void addTo(RoutesConfig r) {
        // one registration per type, as Javalin picks the handler of the closest type
        r.exception(ApiException.class, (e, ctx) -> send(ctx, Refusal.of(e)));
        r.exception(ManifestException.class, (e, ctx) -> send(ctx, Refusal.of(e)));
        r.exception(TopologyException.class, (e, ctx) -> send(ctx, Refusal.of(e)));
        r.exception(HttpResponseException.class, (e, ctx) -> send(ctx, Refusal.of(e)));
        r.exception(Exception.class, (e, ctx) -> {
            if (!Refusal.expected(e)) {
                LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
            }
            send(ctx, Refusal.of(e));
        });
        r.error(404, ctx -> {
            if (ctx.result() == null || ctx.result().isEmpty()) {
                send(ctx, Refusal.noSuchResource(ctx.path()));
            }
        });
        r.error(405, ctx -> send(ctx, Refusal.methodNotAllowed(ctx.method().name(), ctx.path())));
    }

    /** Sends {@code refusal} as the response. */
    void send(Context ctx, Refusal refusal) {
        metrics.refused(refusal.status());
        try {
            Exchange.send(ctx, refusal.status(), refusal);
        } catch (IOException e) {
            ctx.status(refusal.status()).result(refusal.status() + "");
        }
    }
}

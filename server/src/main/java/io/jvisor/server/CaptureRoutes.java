package io.jvisor.server;

import io.javalin.config.RoutesConfig;
import io.jvisor.modules.capture.CaptureConfig;

import java.io.IOException;
import java.io.UncheckedIOException;

import static io.jvisor.server.Exchange.send;
import static io.jvisor.server.Exchange.wholeNumber;

/**
 * Live captures of a capture instance: {@code GET /v1/instances/{name}/capture} streams pcap until a
 * count, a time or the client ends it; {@code DELETE .../capture/{id}} stops a session from elsewhere.
 */
record CaptureRoutes(Controller controller, Captures captures) implements Routes {
    @Override
    public void addTo(RoutesConfig r) {
        r.get("/v1/instances/{name}/capture", ctx -> {
            long count = wholeNumber(ctx, "count", 0);
            int snaplen = (int) wholeNumber(ctx, "snaplen", CaptureConfig.MAX_SNAPLEN);
            int seconds = (int) wholeNumber(ctx, "seconds", 0);
            captures.stream(controller.engine(), ctx.pathParam("name"), count, snaplen, seconds, id -> {
                ctx.res().setStatus(200);
                ctx.res().setContentType(Daemon.CAPTURE_TYPE);
                ctx.res().setHeader(Daemon.CAPTURE_SESSION_HEADER, Long.toString(id));
            }, () -> {
                try {
                    return ctx.res().getOutputStream();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, Captures.clientGone(ctx.req()));
        });
        r.delete("/v1/instances/{name}/capture/{id}", ctx -> {
            long id;
            try {
                id = Long.parseLong(ctx.pathParam("id"));
            } catch (NumberFormatException e) {
                throw new ApiException(400, "id", ctx.pathParam("id"), "not a session id");
            }
            send(ctx, 200, captures.stop(ctx.pathParam("name"), id));
        });
    }
}

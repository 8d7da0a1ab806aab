package io.jvisor.server;

import io.javalin.config.RoutesConfig;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestReader;

import static io.jvisor.server.Exchange.body;
import static io.jvisor.server.Exchange.dryRun;
import static io.jvisor.server.Exchange.send;

/**
 * The topology as a whole ({@code /v1/topology}: PUT applies, {@code ?dryRun=true} plans, DELETE removes)
 * and its parts that are not instances: connections, attachments and lab hosts.
 */
record TopologyRoutes(Controller controller, TopologyChanges changes, long maxBodyBytes) implements Routes {
    @Override
    public void addTo(RoutesConfig r) {
        r.get("/v1/topology", ctx -> {
            Manifest m = controller.manifest();
            if (m == null) {
                throw new ApiException(404, "topology", null, "nothing is applied");
            }
            send(ctx, 200, ManifestReader.toTree(m));
        });
        r.put("/v1/topology", ctx -> {
            Manifest m = ManifestReader.fromTree(body(ctx, maxBodyBytes));
            send(ctx, 200, changes.apply(m, dryRun(ctx)));
        });
        r.delete("/v1/topology", ctx -> send(ctx, 200, changes.down(dryRun(ctx))));
        r.get("/v1/connections", ctx -> send(ctx, 200, changes.current().spec().connections()));
        r.post("/v1/connections", ctx -> send(ctx, 200, changes.apply(Edits.addConnection(changes.current(),
                body(ctx, maxBodyBytes)), dryRun(ctx))));
        r.delete("/v1/connections/{endpoint}", ctx -> send(ctx, 200, changes.apply(Edits.deleteConnection(
                changes.current(), ctx.pathParam("endpoint")), dryRun(ctx))));
        r.get("/v1/attachments", ctx -> send(ctx, 200, changes.current().spec().attachments()));
        r.post("/v1/attachments", ctx -> send(ctx, 200, changes.apply(Edits.addAttachment(changes.current(),
                body(ctx, maxBodyBytes)), dryRun(ctx))));
        r.delete("/v1/attachments/{port}", ctx -> send(ctx, 200, changes.apply(Edits.deleteAttachment(
                changes.current(), ctx.pathParam("port")), dryRun(ctx))));
        r.get("/v1/hosts", ctx -> send(ctx, 200, Responses.HostView.of(controller)));
    }
}

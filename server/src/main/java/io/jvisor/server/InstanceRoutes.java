package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.jvisor.server.manifest.Manifest;

import java.util.List;

import static io.jvisor.server.Exchange.body;
import static io.jvisor.server.Exchange.dryRun;
import static io.jvisor.server.Exchange.send;

/**
 * The instances of the topology ({@code /v1/instances}): listed with their ports and program ids; PUT
 * adds or replaces one and DELETE removes one, each as an edit of the applied manifest.
 */
record InstanceRoutes(Controller controller, TopologyChanges changes, long maxBodyBytes) implements Routes {
    @Override
    public void addTo(RoutesConfig r) {
        r.get("/v1/instances", ctx -> send(ctx, 200, instances()));
        r.get("/v1/instances/{name}", ctx -> send(ctx, 200, instance(ctx.pathParam("name"))));
        r.put("/v1/instances/{name}", ctx -> {
            JsonNode b = body(ctx, maxBodyBytes);
            Manifest edited = Edits.putInstance(changes.current(), ctx.pathParam("name"), b);
            send(ctx, 200, changes.apply(edited, dryRun(ctx)));
        });
        r.delete("/v1/instances/{name}", ctx -> send(ctx, 200, changes.apply(Edits.deleteInstance(changes.current(),
                ctx.pathParam("name")), dryRun(ctx))));
    }

    private List<Responses.InstanceView> instances() {
        return changes.current().spec().instances().stream()
                .map(i -> Responses.InstanceView.of(i, controller.engine())).toList();
    }

    private Responses.InstanceView instance(String name) {
        for (Manifest.Instance i : changes.current().spec().instances()) {
            if (i.name().equals(name)) {
                return Responses.InstanceView.of(i, controller.engine());
            }
        }
        throw new ApiException(404, "instance", name, "no such instance");
    }
}

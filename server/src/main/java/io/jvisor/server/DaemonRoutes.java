package io.jvisor.server;

import io.javalin.config.RoutesConfig;
import io.jvisor.engine.ModuleType;
import io.jvisor.net.Link;
import io.jvisor.net.Rtnl;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static io.jvisor.server.Exchange.send;

/**
 * The daemon itself and what it can run: {@code /openapi.json}, {@code /v1/health}, {@code /v1/status},
 * the module types ({@code /v1/types}) and the network devices it sees ({@code /v1/devices}).
 */
record DaemonRoutes(DaemonOptions options, Controller controller, byte[] openapi) implements Routes {
    DaemonRoutes(DaemonOptions options, Controller controller) {
        this(options, controller, readOpenApi());
    }

    @Override
    public void addTo(RoutesConfig r) {
        r.get("/openapi.json", ctx -> ctx.contentType("application/json").result(openapi));
        r.get("/v1/health", ctx -> send(ctx, 200, Responses.Health.ok(options.engine().name())));
        r.get("/v1/status", ctx -> send(ctx, 200, Responses.Status.of(options, controller)));
        r.get("/v1/types", ctx -> send(ctx, 200, controller.catalog().all().values().stream()
                .map(Responses.ModuleTypeView::of).toList()));
        r.get("/v1/types/{name}", ctx -> {
            ModuleType t = controller.catalog().get(ctx.pathParam("name"));
            if (t == null) {
                throw new ApiException(404, "type", ctx.pathParam("name"), "no such module type (known: "
                        + String.join(", ", controller.catalog().all().keySet()) + ")");
            }
            send(ctx, 200, Responses.ModuleTypeView.of(t));
        });
        r.get("/v1/devices", ctx -> send(ctx, 200, devices()));
    }

    /** The devices of this process's namespace. */
    static List<Responses.DeviceView> devices() {
        List<Responses.DeviceView> out = new ArrayList<>();
        try (Rtnl rtnl = Rtnl.open()) {
            for (Link l : rtnl.links()) {
                out.add(Responses.DeviceView.of(l));
            }
        }
        return out;
    }

    private static byte[] readOpenApi() {
        try (InputStream in = Daemon.class.getResourceAsStream("openapi.json")) {
            return in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the OpenAPI document is missing from the jar", e);
        }
    }
}

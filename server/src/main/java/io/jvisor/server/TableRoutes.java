package io.jvisor.server;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.config.RoutesConfig;

import java.util.Map;

import static io.jvisor.server.Exchange.body;
import static io.jvisor.server.Exchange.limit;
import static io.jvisor.server.Exchange.send;

/**
 * An instance's tables ({@code /v1/instances/{name}/tables}): listed, read with their first entries, and
 * one entry at a time read, written and deleted by key. Every write is published as an event.
 */
record TableRoutes(Controller controller, Tables tables, long maxBodyBytes) implements Routes {
    /** Reads decoded table values: integers as BigInteger, so a 64-bit unsigned value keeps its digits. */
    private static final ObjectMapper TABLE_VALUES = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    @Override
    public void addTo(RoutesConfig r) {
        r.get("/v1/instances/{name}/tables", ctx -> send(ctx, 200, tables.list(ctx.pathParam("name"))));
        r.get("/v1/instances/{name}/tables/{table}", ctx -> {
            Tables.Info info = tables.info(ctx.pathParam("name"), ctx.pathParam("table"));
            send(ctx, 200, new Responses.TableView(info, tables.entries(ctx.pathParam("name"), ctx.pathParam("table"),
                    limit(ctx))));
        });
        r.get("/v1/instances/{name}/tables/{table}/entries/{key}", ctx -> send(ctx, 200,
                tables.get(ctx.pathParam("name"), ctx.pathParam("table"), ctx.pathParam("key"))
                        .orElseThrow(() -> new ApiException(404, "key", ctx.pathParam("key"), "no such entry"))));
        r.put("/v1/instances/{name}/tables/{table}/entries/{key}", ctx -> {
            JsonNode b = body(ctx, maxBodyBytes);
            if (!b.isObject() || !b.has("value") || b.get("value").isNull() || b.size() != 1) {
                throw new ApiException(400, "value", b.toString(), "the body is {\"value\": \"HEX\"}, or {\"value\": "
                        + "VALUE} with VALUE decoded as the table's entries show it");
            }
            JsonNode v = b.get("value");
            Tables.Entry e = tables.put(ctx.pathParam("name"), ctx.pathParam("table"), ctx.pathParam("key"),
                    v.isTextual() ? v.asText() : TABLE_VALUES.convertValue(v, Object.class));
            controller.publish(ChangeEvent.of("table-put", ctx.pathParam("name") + "/" + ctx.pathParam("table"),
                    Map.of("key", e.key(), "value", e.value())));
            send(ctx, 200, e);
        });
        r.delete("/v1/instances/{name}/tables/{table}/entries/{key}", ctx -> {
            if (!tables.delete(ctx.pathParam("name"), ctx.pathParam("table"), ctx.pathParam("key"))) {
                throw new ApiException(404, "key", ctx.pathParam("key"), "no such entry");
            }
            controller.publish(ChangeEvent.of("table-delete", ctx.pathParam("name") + "/" + ctx.pathParam("table"),
                    Map.of("key", ctx.pathParam("key"))));
            ctx.status(204);
        });
    }
}

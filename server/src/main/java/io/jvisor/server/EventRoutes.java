package io.jvisor.server;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.javalin.config.RoutesConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * {@code /v1/events}: server-sent events, one per change the controller publishes (applies, table writes,
 * slow-path packets), each with its data on one line, for as long as the client stays.
 */
record EventRoutes(Controller controller, String engineName) implements Routes {
    private static final ObjectWriter ONE_LINE = Exchange.JSON.writer().without(SerializationFeature.INDENT_OUTPUT);

    @Override
    public void addTo(RoutesConfig r) {
        r.sse("/v1/events", client -> {
            client.keepAlive();
            Consumer<ChangeEvent> l = e -> {
                try {
                    client.sendEvent(e.type(), ONE_LINE.writeValueAsString(Responses.EventView.of(e)));
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            };
            controller.addListener(l);
            client.onClose(() -> controller.removeListener(l));
            client.sendComment("jvisord events of engine " + engineName);
        });
    }
}

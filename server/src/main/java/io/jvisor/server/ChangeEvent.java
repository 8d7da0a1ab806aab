package io.jvisor.server;

import java.time.Instant;
import java.util.Map;

/**
 * Something changed: a topology was applied or removed, a table entry was written, a packet reached
 * the slow path. Sent to {@link Controller#addListener listeners} and over the daemon's event stream.
 *
 * @param type what happened, e.g. {@code applied}, {@code removed}, {@code table-put}
 * @param subject what it happened to, e.g. a topology, {@code instance/table}
 * @param detail more, as simple values
 * @param time when
 */
public record ChangeEvent(String type, String subject, Map<String, Object> detail, Instant time) {
    public ChangeEvent {
        detail = detail == null ? Map.of() : Map.copyOf(detail);
    }

    /** An event now. */
    public static ChangeEvent of(String type, String subject, Map<String, Object> detail) {
        return new ChangeEvent(type, subject, detail, Instant.now());
    }
}

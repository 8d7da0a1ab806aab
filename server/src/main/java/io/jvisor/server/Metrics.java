package io.jvisor.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's Prometheus metrics, through Micrometer: per instance and port packets and bytes, drops
 * by reason, missed tail calls (read from the kernel at each scrape), and apply latency and counts.
 */
final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Controller controller;
    private final Map<String, Double> values = new ConcurrentHashMap<>();
    private final Map<String, Meter> meters = new HashMap<>();

    Metrics(Controller controller) {
        this.controller = controller;
        FunctionCounter.builder("jvisor.applies.succeeded", controller, Controller::applies)
                .description("applies that succeeded since the daemon started").register(registry);
    }

    /** Records one apply: its latency and outcome (ok, invalid, failed, dry-run). */
    void apply(long nanos, String outcome) {
        Timer.builder("jvisor.apply").description("topology apply latency").tag("outcome", outcome)
                .publishPercentiles(0.5, 0.99).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts a refused request. */
    void refused(int status) {
        Counter.builder("jvisor.requests.refused").tag("status", Integer.toString(status)).register(registry).increment();
    }

    /** The Prometheus text, with the kernel counters read now. */
    synchronized String scrape() {
        Map<String, Tags> seen = new HashMap<>();
        for (Counters.InstanceRow i : Counters.read(controller.engine())) {
            for (Counters.PortRow p : i.ports()) {
                Tags t = Tags.of("instance", i.instance(), "type", i.type(), "port", Integer.toString(p.port()));
                put(seen, "jvisor.port.packets", t.and("direction", "rx"), p.rxPackets());
                put(seen, "jvisor.port.packets", t.and("direction", "tx"), p.txPackets());
                put(seen, "jvisor.port.bytes", t.and("direction", "rx"), p.rxBytes());
                put(seen, "jvisor.port.bytes", t.and("direction", "tx"), p.txBytes());
            }
            for (var d : i.drops().entrySet()) {
                put(seen, "jvisor.drops", Tags.of("instance", i.instance(), "type", i.type(), "reason", d.getKey()),
                        d.getValue());
            }
            put(seen, "jvisor.missed.tail.calls", Tags.of("instance", i.instance(), "type", i.type()),
                    i.missedTailCalls());
        }
        for (String key : List.copyOf(meters.keySet())) {
            if (!seen.containsKey(key)) {
                registry.remove(meters.remove(key));
                values.remove(key);
            }
        }
        return registry.scrape();
    }

    private void put(Map<String, Tags> seen, String name, Tags tags, long value) {
        String key = name + tags;
        seen.put(key, tags);
        values.put(key, (double) value);
        meters.computeIfAbsent(key, k -> FunctionCounter.builder(name, values, v -> v.getOrDefault(k, 0.0))
                .tags(tags).register(registry));
    }
}

package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 200 concurrent REST clients write and read table entries of a real bridge instance: no errors,
 * and every acknowledged write is readable afterwards. Runs 3 s in CI; the 30 s run is
 * {@code -Djvisor.load.seconds=30} (see docs/server.md).
 */
@RequiresRoot
class TableLoadTest {
    static final int CLIENTS = 200;
    static final int KEYS_PER_CLIENT = 5; // 1,000 keys: the bridge's static FDB holds 1,024

    @Test
    void twoHundredClientsReadAndWriteTablesWithoutErrorsOrLostWrites() throws Exception {
        long seconds = Long.getLong("jvisor.load.seconds", 3);
        try (ServerTestBed bed = new ServerTestBed("jvl");
             Daemon d = Daemon.start(bed.daemonOptions())) {
            Http admin = Http.socket(bed.socketPath());
            Http.Response r = admin.yaml("PUT", "/v1/topology", """
                    apiVersion: jvisor.io/v1
                    kind: Topology
                    metadata: {name: load}
                    spec:
                      instances: [{name: b1, type: bridge}]
                    """);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            String table = "/v1/instances/b1/tables/fdb_static/entries/";
            ConcurrentHashMap<String, String> acknowledged = new ConcurrentHashMap<>();
            AtomicLong writes = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> fs = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    fs.add(pool.submit(() -> {
                        Http http = Http.socket(bed.socketPath());
                        long n = 0;
                        while (n < KEYS_PER_CLIENT || System.nanoTime() < deadline) { // every key once, then until the deadline
                            int k = (int) (n % KEYS_PER_CLIENT);
                            // a MAC per client and key (locally administered), VLAN 1
                            String key = String.format("02%02x%02x%02x%02x%02x0100", client >> 8, client & 0xff, k, 0, 1);
                            String value = String.format("%08x%024x", Integer.reverseBytes(client % 32), n);
                            Http.Response w = http.json("PUT", table + key, "{\"value\": \"" + value + "\"}");
                            if (w.status() != 200) {
                                errors.add("PUT " + key + ": " + w);
                                return;
                            }
                            acknowledged.put(key, value.toLowerCase());
                            writes.incrementAndGet();
                            Http.Response g = http.get(table + key);
                            if (g.status() != 200 || !g.json().path("value").asText().equals(value.toLowerCase())) {
                                errors.add("GET " + key + " after writing " + value + ": " + g);
                                return;
                            }
                            reads.incrementAndGet();
                            n++;
                        }
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
            }
            assertThat(errors).isEmpty();
            assertThat(acknowledged).hasSize(CLIENTS * KEYS_PER_CLIENT);
            for (var e : acknowledged.entrySet()) {
                assertThat(admin.get(table + e.getKey()).json().path("value").asText()).as(e.getKey())
                        .isEqualTo(e.getValue());
            }
            System.out.printf("table load: %d clients, %d s: %d writes, %d reads (%.0f requests/s)%n", CLIENTS, seconds,
                    writes.get(), reads.get(), (writes.get() + reads.get()) / (double) seconds);
            d.controller().destroy();
        }
    }
}

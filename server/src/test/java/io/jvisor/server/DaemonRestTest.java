package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.manifest.ManifestProblem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * jvisord on its control socket (a unix-domain socket of the test's own) with the real kernel: every resource, content negotiation,
 * dry runs, tables, counters, metrics, events, and a corpus of bad requests, each refused with a
 * 4xx naming the problem while the stored state and the kernel objects stay as they were.
 */
@RequiresRoot
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonRestTest {
    static final String BASE = """
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: rest}
            spec:
              hosts:
                - name: h1
                  interfaces: [{name: eth0, addresses: [10.77.1.10/24]}]
                  sysctls: {net.ipv6.conf.all.disable_ipv6: 1}
                - name: h2
                  interfaces: [{name: eth0, addresses: [10.77.1.11/24]}]
                  sysctls: {net.ipv6.conf.all.disable_ipv6: 1}
              instances:
                - {name: b1, type: bridge}
                - {name: r1, type: router, config: {port.0: 10.77.1.1/24}}
              connections:
                - {a: b1:2, b: r1:0}
              attachments:
                - {port: b1:0, host: h1:eth0}
                - {port: b1:1, host: h2:eth0}
            """;

    ServerTestBed bed;
    Daemon daemon;
    Http http;

    @BeforeAll
    void start() {
        bed = new ServerTestBed("jvd");
        daemon = bed.daemon(BASE);
        http = Http.socket(bed.socketPath());
    }

    @AfterAll
    void stop() {
        bed.close();
    }

    @Test
    void typesComeWithTheirSchemas() throws Exception {
        JsonNode types = http.get("/v1/types").json();
        assertThat(types.findValuesAsText("name")).contains("bridge", "router");
        assertThat(http.get("/v1/types/router").json().path("ports").asInt()).isEqualTo(32);
        JsonNode schema = http.get("/v1/types/router").json().path("configSchema");
        assertThat(schema.path("type").asText()).isEqualTo("keys");
        assertThat(schema.path("keys").findValuesAsText("pattern")).containsExactly("port.N", "route.N",
                "neighbour.timeout");
        JsonNode route = schema.path("keys").get(1);
        assertThat(route.path("syntax").asText()).isEqualTo("A.B.C.D/LEN via A.B.C.D [metric M]");
        assertThat(route.path("default").isNull()).isTrue();
        assertThat(route.path("required").asBoolean()).isFalse();
        assertThat(route.path("description").asText()).contains("next hop");
        assertThat(schema.path("keys").get(2).path("default").asText()).isEqualTo("300");
        // every standard type declares its keys; none is left free-form
        for (JsonNode t : types) {
            assertThat(t.path("configSchema").path("type").asText()).as(t.path("name").asText()).isEqualTo("keys");
        }
        JsonNode bridge = http.get("/v1/types/bridge").json().path("configSchema").path("keys");
        assertThat(bridge.findValuesAsText("pattern")).contains("port.N.vlan", "port.N.trunk", "fdb.max");
        Http.Response yaml = http.send("GET", "/v1/types/router", null, null, "application/yaml");
        assertThat(yaml.contentType()).startsWith("application/yaml");
        JsonNode fromYaml = Exchange.YAML.readTree(yaml.body()).path("configSchema").path("keys");
        assertThat(fromYaml.findValuesAsText("pattern")).containsExactly("port.N", "route.N", "neighbour.timeout");
        assertThat(fromYaml.get(1).path("syntax").asText()).isEqualTo("A.B.C.D/LEN via A.B.C.D [metric M]");
        assertThat(fromYaml.get(2).path("default").asText()).isEqualTo("300");
    }

    @Test
    void theTopologyReadsBackAsJsonOrYaml() {
        Http.Response json = http.get("/v1/topology");
        assertThat(json.contentType()).startsWith("application/json");
        assertThat(json.json().path("metadata").path("name").asText()).isEqualTo("rest");
        Http.Response yaml = http.send("GET", "/v1/topology", null, null, "application/yaml");
        assertThat(yaml.contentType()).startsWith("application/yaml");
        assertThat(yaml.body()).contains("apiVersion: jvisor.io/v1").contains("name: b1");
        // applying what was read back changes nothing
        Http.Response again = http.yaml("PUT", "/v1/topology", yaml.body());
        assertThat(again.json().path("changes").size()).as(again.body()).isZero();
    }

    @Test
    void aDryRunReturnsThePlanAndChangesNothing() {
        Map<String, String> before = bed.snapshot();
        Http.Response r = http.yaml("PUT", "/v1/topology?dryRun=true", BASE.replace("- {name: b1, type: bridge}",
                "- {name: b1, type: bridge}\n    - {name: extra, type: bridge}"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("dryRun").asBoolean()).isTrue();
        assertThat(r.body()).contains("+ instance extra (bridge");
        assertThat(bed.snapshot()).isEqualTo(before);
        assertThat(http.get("/v1/instances/extra").status()).isEqualTo(404);
    }

    @Test
    void instancesConnectionsAndAttachmentsAreResources() {
        Http.Response add = http.json("PUT", "/v1/instances/b2", "{\"type\": \"bridge\", \"config\": {\"agingSeconds\": \"60\"}}");
        assertThat(add.status()).as(add.body()).isEqualTo(200);
        assertThat(add.body()).contains("+ instance b2");
        Http.Response conn = http.json("POST", "/v1/connections", "{\"a\": \"b2:0\", \"b\": \"b1:5\"}");
        assertThat(conn.status()).as(conn.body()).isEqualTo(200);
        JsonNode b2 = http.get("/v1/instances/b2").json();
        assertThat(b2.path("config").path("agingSeconds").asText()).isEqualTo("60");
        assertThat(b2.path("ports").path("0").asText()).isEqualTo("b1:5");
        assertThat(http.get("/v1/connections").body()).contains("b2:0");
        assertThat(http.json("DELETE", "/v1/connections/b2:0", null).status()).isEqualTo(200);
        Http.Response del = http.json("DELETE", "/v1/instances/b2", null);
        assertThat(del.status()).as(del.body()).isEqualTo(200);
        assertThat(del.body()).contains("- instance b2");
        assertThat(http.get("/v1/instances").json().findValuesAsText("name")).containsExactly("b1", "r1");
        assertThat(http.get("/v1/attachments").json().findValuesAsText("host")).containsExactly("h1:eth0", "h2:eth0");
        assertThat(http.get("/v1/hosts").json().findValuesAsText("netns")).allMatch(n -> n.endsWith("-h1")
                || n.endsWith("-h2"));
        assertThat(http.get("/v1/devices").json().findValuesAsText("name")).contains("lo");
    }

    @Test
    void tableEntriesAreWrittenReadListedAndDeleted() {
        String key = "/v1/instances/b1/tables/fdb_static/entries/0200000000770100";
        assertThat(http.get("/v1/instances/b1/tables").json().findValuesAsText("name")).contains("fdb", "fdb_static");
        Http.Response put = http.json("PUT", key, "{\"value\": \"01000000000000000000000000000000\"}");
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(http.get(key).json().path("value").asText()).isEqualTo("01000000000000000000000000000000");
        assertThat(http.get("/v1/instances/b1/tables/fdb_static").json().path("entries").findValuesAsText("key"))
                .contains("0200000000770100");
        assertThat(http.json("DELETE", key, null).status()).isEqualTo(204);
        assertThat(http.get(key).status()).isEqualTo(404);
    }

    @Test
    void aDryRunDeleteOfTheTopologyListsWhatWouldGoAndChangesNothing() {
        Map<String, String> before = bed.snapshot();
        Http.Response r = http.json("DELETE", "/v1/topology?dryRun=true", null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode plan = r.json();
        assertThat(plan.path("dryRun").asBoolean()).isTrue();
        assertThat(plan.path("changes").toString()).contains("- instance b1").contains("- instance r1")
                .contains("- host h1").contains("- host h2");
        assertThat(bed.snapshot()).isEqualTo(before);
        assertThat(http.get("/v1/instances").json().findValuesAsText("name")).contains("b1", "r1");
    }

    @Test
    void tableEntriesAreShownAndWrittenByTheirCTypes() throws Exception {
        String table = "/v1/instances/b1/tables/fdb_static";
        JsonNode info = http.get(table).json().path("table");
        assertThat(info.path("keyType").asText()).isEqualTo("struct fdb_key");
        assertThat(info.path("valueType").asText()).isEqualTo("struct fdb_entry");
        // written decoded, read back in hex and decoded
        String key = "{\"mac\": \"02:00:00:00:00:78\", \"vlan\": 1}";
        Http.Response put = http.json("PUT", table + "/entries/" + enc(key), "{\"value\": {\"port\": 2}}");
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        JsonNode e = http.get(table + "/entries/0200000000780100").json();
        assertThat(e.path("value").asText()).isEqualTo("02000000000000000000000000000000");
        assertThat(e.path("keyFields").path("mac").asText()).isEqualTo("02:00:00:00:00:78");
        assertThat(e.path("keyFields").path("vlan").asLong()).isEqualTo(1);
        assertThat(e.path("valueFields").path("port").asLong()).isEqualTo(2);
        assertThat(e.path("valueFields").path("seen").asLong()).isZero();
        // YAML keeps hex that looks like a number a string
        Http.Response yaml = http.send("GET", table + "/entries/0200000000780100", null, null, "application/yaml");
        assertThat(yaml.body()).contains("key: \"0200000000780100\"");
        JsonNode fromYaml = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml.body());
        assertThat(fromYaml.path("key").isTextual()).isTrue();
        assertThat(fromYaml.path("value").asText()).isEqualTo("02000000000000000000000000000000");
        // the entry list shows the decoded form next to the hex, and a decoded key finds the entry
        assertThat(http.get(table).json().path("entries").findValuesAsText("mac")).contains("02:00:00:00:00:78");
        assertThat(http.get(table + "/entries/" + enc(key)).json().path("key").asText()).isEqualTo("0200000000780100");
        assertThat(http.json("DELETE", table + "/entries/" + enc(key), null).status()).isEqualTo(204);
        assertThat(http.get(table + "/entries/0200000000780100").status()).isEqualTo(404);
        // the learned FDB reads as MACs and ports: h1 and h2 have talked (traffic checks ran at start-up)
        TrafficCheck.run(daemon.controller(), 1);
        JsonNode fdb = http.get("/v1/instances/b1/tables/fdb").json().path("entries");
        assertThat(fdb.findValuesAsText("mac")).isNotEmpty().allMatch(m -> m.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}"));
        assertThat(fdb.findValues("port").stream().map(JsonNode::asInt).toList()).contains(0, 1);
    }

    static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Test
    void countersAndMetricsCountRealTraffic() {
        List<TrafficCheck.Result> checks = TrafficCheck.run(daemon.controller(), 200);
        assertThat(checks).isNotEmpty().allSatisfy(c -> assertThat(c.passed()).as(c.toString()).isTrue());
        JsonNode b1 = http.get("/v1/counters/b1").json();
        long rx = 0;
        for (JsonNode p : b1.path("ports")) {
            rx += p.path("rxPackets").asLong();
        }
        assertThat(rx).isGreaterThanOrEqualTo(200);
        String metrics = http.get("/metrics").body();
        assertThat(metrics).contains("jvisor_port_packets_total{direction=\"rx\",instance=\"b1\",port=\"0\",type=\"bridge\"}")
                .contains("jvisor_missed_tail_calls_total{instance=\"r1\"").contains("jvisor_apply_seconds_count")
                .contains("jvisor_applies_succeeded_total");
    }

    @Test
    void theEventStreamCarriesChanges() throws Exception {
        Http.Streamed resp = http.stream("/v1/events", "text/event-stream");
        assertThat(resp.status()).isEqualTo(200);
        assertThat(resp.contentType()).startsWith("text/event-stream");
        Stream<String> lines = resp.lines();
        CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> lines
                .filter(l -> l.startsWith("event: table-put")).findFirst().orElse(""));
        // the subscription is registered once the stream is open; keep writing until an event arrives
        for (int i = 0; i < 50 && !seen.isDone(); i++) {
            http.json("PUT", "/v1/instances/b1/tables/fdb_static/entries/02000000007701" + String.format("%02x", i),
                    "{\"value\": \"01000000000000000000000000000000\"}");
            Thread.sleep(100);
        }
        assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo("event: table-put");
        resp.close();
        for (int i = 0; i < 50; i++) {
            http.json("DELETE", "/v1/instances/b1/tables/fdb_static/entries/02000000007701" + String.format("%02x", i), null);
        }
    }

    @Test
    void theEventStreamCarriesSlowPathPackets() throws Exception {
        Http.Streamed resp = http.stream("/v1/events", "text/event-stream");
        Stream<String> lines = resp.lines();
        CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> lines
                .filter(l -> l.startsWith("data:") && l.contains("\"type\":\"slow-path\"")
                        && l.contains("\"subject\":\"r1\""))
                .findFirst().orElse(""));
        // h1 asks for the router's MAC (ARP goes to r1's control plane) and pings it
        try (io.jvisor.net.Netns h1 = io.jvisor.net.Netns.open(daemon.controller().hostNamespace("h1"))) {
            for (int i = 0; i < 30 && !seen.isDone(); i++) {
                h1.exec(List.of("ip", "neigh", "flush", "all")).waitFor();
                io.jvisor.net.lab.Ping.run(h1, java.net.InetAddress.getByName("10.77.1.1"), 1);
            }
        }
        JsonNode event = new ObjectMapper().readTree(seen.get(10, TimeUnit.SECONDS).substring("data:".length()));
        resp.close();
        assertThat(event.path("detail").path("port").asInt()).isZero();
        assertThat(event.path("detail").path("hook").asText()).isEqualTo("tc");
        assertThat(event.path("detail").path("head").asText()).hasSizeGreaterThanOrEqualTo(28);
    }

    @Test
    void theOpenApiDocumentDescribesTheApi() {
        JsonNode doc = http.get("/openapi.json").json();
        assertThat(doc.path("openapi").asText()).isEqualTo("3.1.0");
        assertThat(doc.path("paths").has("/v1/topology")).isTrue();
        assertThat(doc.path("paths").has("/v1/instances/{name}/tables/{table}/entries/{key}")).isTrue();
        JsonNode key = doc.path("components").path("schemas").path("ConfigKey");
        assertThat(key.path("properties").has("pattern")).isTrue();
        assertThat(key.path("properties").has("syntax")).isTrue();
        assertThat(key.path("properties").has("default")).isTrue();
        // the document's ConfigKey describes exactly the fields a served key has
        JsonNode served = http.get("/v1/types/router").json().path("configSchema").path("keys").get(0);
        List<String> fields = new ArrayList<>();
        served.fieldNames().forEachRemaining(fields::add);
        List<String> documented = new ArrayList<>();
        key.path("properties").fieldNames().forEachRemaining(documented::add);
        assertThat(fields).containsExactlyElementsOf(documented);
        List<String> required = new ArrayList<>();
        key.path("required").forEach(r -> required.add(r.asText()));
        assertThat(required).containsExactlyInAnyOrderElementsOf(documented);
    }

    @TestFactory
    Stream<DynamicTest> everyBadTopologyIsRefusedAndChangesNothing() {
        return BadManifests.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Map<String, String> before = bed.snapshot();
            Http.Response r = http.yaml("PUT", "/v1/topology", c.text());
            assertThat(r.status()).as("%s: %s", c.name(), r).isBetween(400, 499);
            assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(c.matches(problems(r))).as("%s names %s | %s: %s", c.name(), c.field(), c.fragment(), r)
                    .isTrue();
            assertThat(bed.snapshot()).as("state and pins after %s", c.name()).isEqualTo(before);
            assertThat(http.get("/v1/health").status()).isEqualTo(200);
        }));
    }

    /** A bad request: method, path, content type, body, the status and field expected. */
    record Bad(String name, String method, String path, String contentType, String body, int status, String field) {}

    static List<Bad> badRequests() {
        String entry = "/v1/instances/b1/tables/fdb_static/entries/";
        List<Bad> l = new ArrayList<>();
        l.add(new Bad("unknown route", "GET", "/v1/teapots", null, null, 404, "(request)"));
        l.add(new Bad("method not allowed", "POST", "/v1/types", "application/json", "{}", 404, "(request)"));
        l.add(new Bad("unknown type", "GET", "/v1/types/warp", null, null, 404, "type"));
        l.add(new Bad("unknown instance", "GET", "/v1/instances/ghost", null, null, 404, "instance"));
        l.add(new Bad("unsupported content type", "PUT", "/v1/topology", "text/plain", "hello", 415, "Content-Type"));
        l.add(new Bad("xml body", "PUT", "/v1/topology", "application/xml", "<topology/>", 415, "Content-Type"));
        l.add(new Bad("malformed json", "PUT", "/v1/topology", "application/json", "{\"apiVersion\": ", 400, "(body)"));
        l.add(new Bad("empty body", "PUT", "/v1/topology", "application/json", "", 400, "(body)"));
        l.add(new Bad("json array body", "PUT", "/v1/topology", "application/json", "[1,2]", 400, "(document)"));
        l.add(new Bad("dryRun not boolean", "PUT", "/v1/topology?dryRun=maybe", "application/yaml", BASE, 400, "dryRun"));
        l.add(new Bad("instance unknown field", "PUT", "/v1/instances/b9", "application/json",
                "{\"type\": \"bridge\", \"replicas\": 2}", 400, "replicas"));
        l.add(new Bad("instance unknown type", "PUT", "/v1/instances/b9", "application/json", "{\"type\": \"warp\"}",
                400, "spec.instances[2].type"));
        l.add(new Bad("instance bad config", "PUT", "/v1/instances/r9", "application/json",
                "{\"type\": \"router\", \"config\": {\"port.0\": \"10.0.0.1/33\"}}", 400, "spec.instances[2].config.port.0"));
        l.add(new Bad("instance name traversal", "PUT", "/v1/instances/..%2F..%2Fetc", "application/json",
                "{\"type\": \"bridge\"}", 400, null));
        l.add(new Bad("instance body not object", "PUT", "/v1/instances/b9", "application/json", "\"bridge\"", 400,
                "(body)"));
        l.add(new Bad("delete unknown instance", "DELETE", "/v1/instances/ghost", null, null, 404, "instance"));
        l.add(new Bad("dangling connection", "POST", "/v1/connections", "application/json",
                "{\"a\": \"b1:7\", \"b\": \"ghost:1\"}", 400, "spec.connections[1].b"));
        l.add(new Bad("connection port taken", "POST", "/v1/connections", "application/json",
                "{\"a\": \"b1:2\", \"b\": \"r1:5\"}", 400, "spec.connections[1].a"));
        l.add(new Bad("delete unknown connection", "DELETE", "/v1/connections/b1:30", null, null, 404, "connection"));
        l.add(new Bad("attachment to missing device", "POST", "/v1/attachments", "application/json",
                "{\"port\": \"b1:9\", \"device\": \"nosuchdev1\"}", 400, "spec"));
        l.add(new Bad("attachment netns traversal", "POST", "/v1/attachments", "application/json",
                "{\"port\": \"b1:9\", \"device\": \"eth0\", \"netns\": \"../../etc\"}", 400, "spec.attachments[2].netns"));
        l.add(new Bad("delete unknown attachment", "DELETE", "/v1/attachments/b1:30", null, null, 404, "attachment"));
        l.add(new Bad("table of unknown instance", "GET", "/v1/instances/ghost/tables", null, null, 404, "instance"));
        l.add(new Bad("unknown table", "GET", "/v1/instances/b1/tables/nope", null, null, 404, "table"));
        l.add(new Bad("table name traversal", "GET", "/v1/instances/b1/tables/..%2F..%2F..%2Fetc%2Fpasswd", null, null,
                400, null));
        l.add(new Bad("table name dots", "GET", "/v1/instances/b1/tables/..", null, null, 404, null));
        l.add(new Bad("key not hex", "GET", entry + "zz", null, null, 400, "key"));
        l.add(new Bad("key wrong size", "GET", entry + "0102", null, null, 400, "key"));
        l.add(new Bad("value wrong size", "PUT", entry + "0200000000770100", "application/json",
                "{\"value\": \"01\"}", 400, "value"));
        l.add(new Bad("value missing", "PUT", entry + "0200000000770100", "application/json", "{}", 400, "value"));
        l.add(new Bad("value not text", "PUT", entry + "0200000000770100", "application/json", "{\"value\": 5}", 400,
                "value"));
        l.add(new Bad("decoded value, unknown member", "PUT", entry + "0200000000770100", "application/json",
                "{\"value\": {\"colour\": 1}}", 400, "value.colour"));
        l.add(new Bad("decoded value, out of range", "PUT", entry + "0200000000770100", "application/json",
                "{\"value\": {\"port\": -1}}", 400, "value.port"));
        l.add(new Bad("decoded value, not a number", "PUT", entry + "0200000000770100", "application/json",
                "{\"value\": {\"port\": \"one\"}}", 400, "value.port"));
        l.add(new Bad("decoded key, not JSON", "GET", entry + enc("{\"mac\": "), null, null, 400, "key"));
        l.add(new Bad("decoded key, short MAC", "GET", entry + enc("{\"mac\": \"02:00\"}"), null, null, 400,
                "key.mac"));
        l.add(new Bad("decoded key, vlan out of range", "DELETE", entry + enc("{\"vlan\": 65536}"), null, null, 400,
                "key.vlan"));
        l.add(new Bad("entry not there", "DELETE", entry + "0200000000779900", null, null, 404, "key"));
        l.add(new Bad("limit not a number", "GET", "/v1/instances/b1/tables/fdb?limit=lots", null, null, 400, "limit"));
        l.add(new Bad("limit zero", "GET", "/v1/instances/b1/tables/fdb?limit=0", null, null, 400, "limit"));
        l.add(new Bad("per-cpu? array delete", "DELETE", "/v1/instances/b1/tables/bridge_cfg/entries/00000000", null,
                null, 400, "table"));
        l.add(new Bad("counters of unknown instance", "GET", "/v1/counters/ghost", null, null, 404, "instance"));
        return l;
    }

    @TestFactory
    Stream<DynamicTest> everyBadRequestGetsA4xxNamingTheProblem() {
        return badRequests().stream().map(b -> DynamicTest.dynamicTest(b.name(), () -> {
            Map<String, String> before = bed.snapshot();
            Http.Response r = http.send(b.method(), b.path(), b.contentType(),
                    b.body() == null ? null : b.body().getBytes(StandardCharsets.UTF_8), null);
            assertThat(r.status()).as("%s: %s", b.name(), r).isBetween(400, 499);
            if (b.status() != 404 || b.field() != null) {
                assertThat(r.status()).as("%s: %s", b.name(), r).isEqualTo(b.status());
            }
            assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
            if (b.field() != null) {
                assertThat(problems(r)).as("%s: %s", b.name(), r).extracting(ManifestProblem::field).contains(b.field());
            }
            assertThat(bed.snapshot()).as("state and pins after %s", b.name()).isEqualTo(before);
            assertThat(http.get("/v1/health").status()).isEqualTo(200);
        }));
    }

    @Test
    void anOversizeBodyIsRefused() {
        Map<String, String> before = bed.snapshot();
        byte[] big = new byte[(int) DaemonOptions.DEFAULT_MAX_BODY + 1024];
        java.util.Arrays.fill(big, (byte) ' ');
        // Expect: 100-continue, as curl sends for large bodies: the refusal comes before the body is sent
        Http.Response r = http.send("PUT", "/v1/topology", "application/yaml", big, null, true);
        assertThat(r.status()).as(r.toString()).isEqualTo(413);
        assertThat(bed.snapshot()).isEqualTo(before);
        assertThat(http.get("/v1/health").status()).isEqualTo(200);
    }

    static List<ManifestProblem> problems(Http.Response r) {
        List<ManifestProblem> out = new ArrayList<>();
        for (JsonNode p : r.json().path("problems")) {
            out.add(new ManifestProblem(p.path("field").asText(), p.path("value").isNull() ? null : p.path("value").asText(),
                    p.path("reason").asText()));
        }
        return out;
    }

    static Duration timeout() {
        return Duration.ofSeconds(30);
    }
}

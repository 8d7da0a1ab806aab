package io.jvisor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.server.ServerTestBed;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The main job and the resource commands through the real entry point, offline (an engine started
 * in the process for each command): up, get, describe, add, connect, table, stats, lab exec, apply
 * --dry-run, delete, down; nothing is left behind.
 */
@RequiresRoot
class TopologyCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void upThenEveryCommandThenDownLeavesNothing() throws Exception {
        Path quickstart = ServerTestBed.examples().resolve("quickstart.yaml");
        String prefix = null;
        try (ServerTestBed bed = new ServerTestBed("jvc")) {
            List<String> e = List.of("--engine", bed.options.name(), "--state-dir", bed.options.stateDir().toString());
            // no file: the embedded quickstart, with its declared checks (the firewall's included)
            CliRun up = CliRun.run(e, "up");
            assertThat(up.exit()).as(up.toString()).isZero();
            assertThat(up.out()).contains("jvisor up: topology 'quickstart'").contains("+ instance r1 (router")
                    .contains("+ instance fw1 (firewall")
                    .contains("PASS ping h1 -> 10.0.2.10 x3: 3/3 replies")
                    .contains("PASS tcp h2 -> 10.0.2.11:80 x3 (servers h4): 3/3 answered")
                    .contains("PASS tcp h1 -> 10.0.2.10:22 (servers h3:22), expect blocked: 0/1 answered")
                    .contains("counters:").contains("try next:").doesNotContain("FAIL");
            JsonNode status = JSON.readTree(Files.readString(bed.options.stateDir().resolve("topology.json")));
            prefix = status.path("labPrefix").asText();
            bed.lab(prefix);

            CliRun get = CliRun.run(e, "get", "instances", "-o", "json");
            assertThat(get.exit()).as(get.toString()).isZero();
            assertThat(JSON.readTree(get.out()).findValuesAsText("name")).containsExactly("br1", "br2", "r1", "fw1");
            CliRun table = CliRun.run(e, "get", "instance", "r1");
            assertThat(table.out()).contains("NAME").contains("port.0=10.0.1.1/24");
            CliRun describe = CliRun.run(e, "describe", "instance", "br1");
            assertThat(describe.out()).contains("name: br1").contains("tables:").contains("fdb").contains("counters:");

            assertThat(CliRun.run(e, "add", "bridge", "br9", "agingSeconds=30").exit()).isZero();
            CliRun connect = CliRun.run(e, "connect", "br9:0", "br1:5");
            assertThat(connect.exit()).as(connect.toString()).isZero();
            assertThat(connect.out()).contains("br9:0");
            CliRun set = CliRun.run(e, "table", "br9", "fdb_static", "set", "0200000000090100",
                    "01000000000000000000000000000000");
            assertThat(set.exit()).as(set.toString()).isZero();
            CliRun read = CliRun.run(e, "table", "br9", "fdb_static", "get", "0200000000090100", "-o", "json");
            assertThat(JSON.readTree(read.out()).path("value").asText()).isEqualTo("01000000000000000000000000000000");
            // the same table by its C types: a decoded key and value in, columns per member out
            CliRun setDecoded = CliRun.run(e, "table", "br9", "fdb_static", "set",
                    "{\"mac\": \"02:00:00:00:00:0a\", \"vlan\": 1}", "{\"port\": 3}");
            assertThat(setDecoded.exit()).as(setDecoded.toString()).isZero();
            CliRun list = CliRun.run(e, "table", "br9", "fdb_static", "list");
            assertThat(list.exit()).as(list.toString()).isZero();
            assertThat(list.out()).contains("MAC").contains("VLAN").contains("PORT").contains("SEEN")
                    .contains("02:00:00:00:00:0a").contains("02:00:00:00:00:09");
            CliRun hex = CliRun.run(e, "table", "br9", "fdb_static", "get", "02000000000a0100", "-o", "json");
            assertThat(JSON.readTree(hex.out()).path("value").asText()).isEqualTo("03000000000000000000000000000000");
            // br1 learned its hosts during `up`: its FDB reads as MACs on ports
            CliRun fdb = CliRun.run(e, "table", "br1", "fdb");
            assertThat(fdb.exit()).as(fdb.toString()).isZero();
            assertThat(fdb.out()).contains("MAC").contains("PORT").containsPattern("([0-9a-f]{2}:){5}[0-9a-f]{2}");
            CliRun del = CliRun.run(e, "delete", "instance", "br9");
            assertThat(del.exit()).as(del.toString()).isZero();
            assertThat(del.out()).contains("- instance br9");

            CliRun exec = CliRun.run("lab", "exec", e.get(0), e.get(1), e.get(2), e.get(3), "h1", "--", "ip", "-4", "addr",
                    "show", "eth0");
            assertThat(exec.exit()).as(exec.toString()).isZero();
            assertThat(exec.out()).contains("10.0.1.10/24");
            CliRun stats = CliRun.run(e, "stats");
            assertThat(stats.out()).contains("RX-PKTS").contains("br1");
            CliRun watch = CliRun.run(e, "stats", "--watch", "--interval", "0.2", "--count", "2");
            assertThat(watch.exit()).isZero();
            assertThat(watch.out()).contains("RX-PPS");
            CliRun dry = CliRun.run(e, "apply", "-f", quickstart.toString(), "--dry-run");
            assertThat(dry.exit()).as(dry.toString()).isZero();
            assertThat(dry.out()).contains("no changes").contains("dry run");

            CliRun dryDelete = CliRun.run(e, "delete", "topology", "--dry-run");
            assertThat(dryDelete.exit()).as(dryDelete.toString()).isZero();
            assertThat(dryDelete.out()).contains("- instance br1").contains("- host h1").contains("dry run");
            assertThat(JSON.readTree(CliRun.run(e, "get", "instances", "-o", "json").out()).findValuesAsText("name"))
                    .as("a dry-run delete changes nothing").containsExactly("br1", "br2", "r1", "fw1");

            CliRun down = CliRun.run(e, "down", "quickstart");
            assertThat(down.exit()).as(down.toString()).isZero();
            assertThat(down.out()).contains("removed topology 'quickstart'");
            assertThat(ServerTestBed.labLeftovers(prefix)).isEmpty();
            assertThat(bed.options.pinRoot()).doesNotExist();
            assertThat(bed.options.stateDir()).doesNotExist();
            CliRun after = CliRun.run(e, "get", "instances");
            assertThat(after.exit()).isZero();
            assertThat(after.err()).contains("nothing runs on engine");
            assertThat(bed.options.pinRoot()).as("a read does not start an engine").doesNotExist();
        }
    }
}

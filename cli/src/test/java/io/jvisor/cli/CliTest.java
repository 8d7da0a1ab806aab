package io.jvisor.cli;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CliTest {
    @Test
    void versionNamesJavaAndKernel() {
        CliRun r = CliRun.run("version");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("jvisor ").contains("java 25").contains("kernel 6.");
    }

    /**
     * Exits 0 on both kinds of machine: where the kernel refuses XDP metadata, live frames or arena
     * maps, those are rows with a hint and a fallback, not an abort.
     */
    @Test
    @RequiresRoot
    void featuresPrintsTheProbeTable() {
        CliRun r = CliRun.run("features");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Kernel: ").contains("Capabilities: ").contains("for bpf: CAP_BPF yes")
                .contains("JVISOR NEEDS").contains("xdp.metadata").contains("xdp.live_frames").contains("link.tcx")
                .contains("link.xdp").contains("map.ringbuf").contains("map.prog_array").contains("tc.redirect_peer")
                .contains("helpers.bridge.tc").contains("helpers.router.xdp")
                .contains("PROGRAM TYPE").contains("xdp").contains("yes")
                .contains("MAP TYPE").contains("ringbuf").contains("arena").contains("LINK ATTACH TYPE")
                .contains("tcx_ingress");
        // every refused row of jvisor's says what it wants and what jvisor does instead
        String needs = r.out().substring(r.out().indexOf("JVISOR NEEDS"), r.out().indexOf("PROGRAM TYPE"));
        long refused = needs.lines().filter(l -> l.matches("\\S+\\s.*\\s(no|not probed)( \\(.*\\))?$")).count();
        assertThat(needs.lines().filter(l -> l.startsWith("    hint:")).count()).isEqualTo(refused);
        assertThat(needs.lines().filter(l -> l.startsWith("    fallback:")).count()).isEqualTo(refused);
        assertThat(needs).doesNotContain("run as root");
    }

    @Test
    @RequiresRoot
    void featuresAsJsonHasOneEntryPerRequirement() throws Exception {
        CliRun r = CliRun.run("features", "-o", "json");
        assertThat(r.exit()).as(r.toString()).isZero();
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertThat(tree.get("capabilities").get("effective").asText()).matches("[0-9a-f]{16}");
        assertThat(tree.get("capabilities").get("present").toString()).contains("CAP_BPF");
        var keys = new java.util.ArrayList<String>();
        for (var row : tree.get("jvisor")) {
            keys.add(row.get("key").asText());
            if (!row.get("supported").asBoolean()) {
                assertThat(row.get("errno").asText()).as(row.toString()).startsWith("E");
                assertThat(row.get("hint").asText()).as(row.toString()).isNotBlank();
            }
        }
        assertThat(keys).contains("xdp.metadata", "xdp.live_frames", "link.tcx", "helpers.nat.tc");
        assertThat(tree.get("mapTypes").get("hash").get("supported").asBoolean()).isTrue();
        assertThat(tree.get("programTypes").get("sched_cls").get("supported").asBoolean()).isTrue();
    }

    @Test
    void unknownCommandFailsWithUsage() {
        CliRun r = CliRun.run("frobnicate");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("frobnicate");
    }
}

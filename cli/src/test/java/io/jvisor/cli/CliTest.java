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

    @Test
    @RequiresRoot
    void featuresPrintsTheProbeTable() {
        CliRun r = CliRun.run("features");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Kernel: ").contains("PROGRAM TYPE").contains("xdp").contains("yes")
                .contains("MAP TYPE").contains("ringbuf").contains("LINK ATTACH TYPE").contains("tcx_ingress");
    }

    @Test
    void unknownCommandFailsWithUsage() {
        CliRun r = CliRun.run("frobnicate");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("frobnicate");
    }
}

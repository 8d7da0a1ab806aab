package io.jvisor.cli;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

@RequiresRoot
class CliTest {
    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void versionNamesJavaAndKernel() {
        Run r = run("version");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("jvisor ").contains("java 25").contains("kernel 6.");
    }

    @Test
    void featuresPrintsTheProbeTable() {
        Run r = run("features");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Kernel: ").contains("PROGRAM TYPE").contains("xdp").contains("yes")
                .contains("MAP TYPE").contains("ringbuf").contains("LINK ATTACH TYPE").contains("tcx_ingress");
    }

    @Test
    void unknownCommandFailsWithUsage() {
        Run r = run("frobnicate");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("frobnicate");
    }
}

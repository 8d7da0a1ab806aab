package io.jvisor.net.lab;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.Ip;
import io.jvisor.net.Netns;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A JVM that exits with a lab still up leaves nothing behind: the shutdown hook tears it down. */
@RequiresRoot
class LabShutdownTest {

    @Test
    void shutdownHookTearsDownLabsStillUp() throws Exception {
        String prefix = Lab.uniquePrefix();
        ThreadLocalRandom r = ThreadLocalRandom.current();
        String net = "10." + r.nextInt(1, 255) + "." + r.nextInt(0, 256) + ".";
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), LabExitProbe.class.getName(), prefix, net)
                .redirectErrorStream(true).start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(out).contains("up");
            assertThat(child.exitValue()).as(out).isZero();
            LabTest.assertNothingLeft(prefix);
        } finally {
            child.destroyForcibly();
            Lab.down(prefix);
        }
        assertThat(Netns.list()).noneMatch(n -> n.startsWith(prefix));
        assertThat(Ip.json(null, "link", "show").findValuesAsText("ifname")).noneMatch(n -> n.startsWith(prefix));
    }
}

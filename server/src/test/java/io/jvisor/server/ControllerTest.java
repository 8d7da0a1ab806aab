package io.jvisor.server;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.Netns;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestReader;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Applying lab hosts and engine topology together: replacing the hosts, and failing with nothing left. */
@RequiresRoot
class ControllerTest {
    @Test
    void newHostsReplaceTheLabAndAFailedApplyLeavesNothingOfTheNewOne() throws Exception {
        Manifest quickstart = ManifestReader.read(Files.readString(ServerTestBed.examples().resolve("quickstart.yaml")));
        Manifest l2 = ManifestReader.read(Files.readString(ServerTestBed.examples().resolve("l2-bridge.yaml")));
        try (ServerTestBed bed = new ServerTestBed("jvct"); Controller c = Controller.open(bed.options)) {
            c.apply(quickstart, false);
            String first = c.labPrefix();
            bed.lab(first);

            // a dry run of other hosts lists them and changes nothing
            Map<String, String> before = bed.snapshot();
            ApplyResult plan = c.apply(l2, true);
            assertThat(plan.changes()).contains("+ host a", "- host h1", "+ instance sw1 (bridge, code "
                    + c.catalog().get("bridge").code().hash() + ")").anyMatch(l -> l.startsWith("+ host a:eth0 => sw1:0"));
            assertThat(bed.snapshot()).isEqualTo(before);
            assertThat(Netns.list()).contains(first + "-h1");

            // other hosts: a new lab, then the old one goes
            c.apply(l2, false);
            String second = c.labPrefix();
            bed.lab(second);
            assertThat(second).isNotEqualTo(first);
            assertThat(ServerTestBed.labLeftovers(first)).isEmpty();
            List<TrafficCheck.Result> checks = TrafficCheck.run(c, 100);
            assertThat(checks).isNotEmpty().allSatisfy(r -> assertThat(r.passed()).as(r.toString()).isTrue());

            // a topology the engine refuses after its new lab was made: the new lab is removed, nothing changed
            // (its hosts get names of this test's own, to look for their namespaces afterwards)
            String tag = io.jvisor.bpf.testing.Names.unique("q");
            String text = Files.readString(ServerTestBed.examples().resolve("quickstart.yaml"));
            for (int h = 1; h <= 4; h++) {
                text = text.replace("h" + h, tag + h);
            }
            Manifest broken = ManifestReader.read(text.replace("- {port: br2:1, host: " + tag + "4:eth0}",
                    "- {port: br2:1, host: " + tag + "4:eth0}\n    - {port: br2:5, device: nosuchdev9}"));
            Map<String, String> beforeBroken = bed.snapshot();
            ManifestException e = catchThrowableOfType(ManifestException.class, () -> c.apply(broken, false));
            assertThat(e).isNotNull();
            assertThat(e.getMessage()).contains("nosuchdev9");
            assertThat(bed.snapshot()).isEqualTo(beforeBroken);
            assertThat(c.labPrefix()).isEqualTo(second);
            assertThat(c.manifest().name()).isEqualTo("l2-bridge");
            assertThat(Netns.list()).as("no namespace of the refused lab is left").noneMatch(n -> n.endsWith("-" + tag + "1"))
                    .contains(second + "-a");
            assertThat(TrafficCheck.run(c, 0)).allSatisfy(r -> assertThat(r.passed()).isTrue());
            c.destroy();
            assertThat(ServerTestBed.labLeftovers(second)).isEmpty();
        }
    }
}

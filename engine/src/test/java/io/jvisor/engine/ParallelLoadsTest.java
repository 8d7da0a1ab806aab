package io.jvisor.engine;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loads ahead hand out what was loaded, report a failed load when it is taken, and close what is never taken. */
@RequiresRoot
class ParallelLoadsTest {
    private static ModuleLoader.Loaded load(List<BpfProgram> made) {
        BpfProgram p = BpfProgram.load(ProgramSpec.of("ahead", ProgramType.SCHED_CLS, null,
                new Asm().mov64(Register.R0, 0).exit().build()));
        made.add(p);
        return new ModuleLoader.Loaded(p, Map.of());
    }

    @Test
    void aFailedLoadIsReportedWhenTakenAndWhatIsNotTakenIsClosed() {
        for (int threads : new int[] {1, 2, 4}) {
            List<BpfProgram> made = new CopyOnWriteArrayList<>();
            Map<String, BpfProgram> taken = new ConcurrentHashMap<>();
            try (ParallelLoads loads = new ParallelLoads(threads, "test")) {
                for (int i = 0; i < 6; i++) {
                    int n = i;
                    loads.submit("i" + i, () -> {
                        if (n == 2) {
                            throw new TopologyException("instance 'i2'", "the verifier refused its code");
                        }
                        return load(made);
                    });
                }
                taken.put("i0", loads.take("i0").program());
                taken.put("i1", loads.take("i1").program());
                assertThatThrownBy(() -> loads.take("i2")).isInstanceOf(TopologyException.class)
                        .hasMessageContaining("instance 'i2'");
                assertThat(loads.has("i3")).isTrue();
                assertThatThrownBy(() -> loads.take("i2")).isInstanceOf(IllegalStateException.class);
            }
            // the taken ones belong to the caller; every other one that was loaded is closed
            assertThat(taken.values()).allSatisfy(p -> assertThat(p.fd().isClosed()).isFalse());
            assertThat(made).filteredOn(p -> !taken.containsValue(p)).allSatisfy(p -> assertThat(p.fd().isClosed())
                    .as("threads " + threads).isTrue());
            taken.values().forEach(BpfProgram::close);
        }
    }

    @Test
    void threadsFollowTheCpusAndTheLoads() {
        assertThat(ParallelLoads.threadsFor(0)).isEqualTo(1);
        assertThat(ParallelLoads.threadsFor(1)).isEqualTo(1);
        assertThat(ParallelLoads.threadsFor(1000)).isEqualTo(Runtime.getRuntime().availableProcessors());
    }
}

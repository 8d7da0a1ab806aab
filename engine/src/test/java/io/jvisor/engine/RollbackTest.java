package io.jvisor.engine;

import io.jvisor.bpf.KernelObjects;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Ping;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A failed apply changes nothing: not the kernel, not the pins, not the saved state. */
@RequiresRoot
class RollbackTest {
    record Snapshot(List<Integer> programs, List<Integer> maps, List<Integer> links, List<String> pins, String state) {}

    static Snapshot snapshot(TestBed bed) throws IOException {
        List<String> pins;
        try (Stream<Path> s = Files.walk(bed.options.pinRoot())) {
            pins = s.map(Path::toString).sorted().toList();
        }
        Path state = bed.stateDir.resolve("state.json");
        return new Snapshot(KernelObjects.programIds(), KernelObjects.mapIds(), KernelObjects.linkIds(), pins,
                Files.exists(state) ? Files.readString(state) : "");
    }

    @Test
    void oneOfFiveNewInstancesFailingVerificationChangesNothing() throws Exception {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = bed.start();
            Topology base = Topology.builder().instance("fwd1", "forwarder")
                    .connect("fwd1:0", bed.dev(1)).connect("fwd1:1", bed.dev(2)).build();
            e.apply(base);
            Snapshot before = snapshot(bed);
            // five new instances spliced in between fwd1 and host 2; the fourth cannot pass the verifier
            Topology bad = Topology.builder()
                    .instance("fwd1", "forwarder")
                    .instance("n1", "forwarder").instance("n2", "counter").instance("n3", "forwarder")
                    .instance("n4", "unchecked").instance("n5", "forwarder")
                    .connect("fwd1:0", bed.dev(1)).connect("fwd1:1", "n1:0").connect("n1:1", "n2:0")
                    .connect("n2:1", "n3:0").connect("n3:1", "n4:0").connect("n4:1", "n5:0")
                    .connect("n5:1", bed.dev(2))
                    .build();
            assertThatThrownBy(() -> e.apply(bad)).isInstanceOfSatisfying(TopologyException.class, ex -> {
                assertThat(ex.element()).isEqualTo("instance 'n4'");
                assertThat(ex.getMessage()).contains("verifier").contains("unchecked.c");
            });
            // concurrent tests may create kernel objects of their own: compare only what this engine could own
            Snapshot after = snapshot(bed);
            assertThat(after.pins()).isEqualTo(before.pins());
            assertThat(after.state()).isEqualTo(before.state());
            assertThat(after.programs()).containsAll(before.programs());
            assertThat(after.maps()).containsAll(before.maps());
            assertThat(after.links()).containsAll(before.links());
            assertThat(ourNewPrograms(bed, before)).as("programs of this engine left behind").isEmpty();
            assertThat(e.topology()).isEqualTo(base);
            assertThat(e.plan(base).isEmpty()).isTrue();
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
        }
    }

    /**
     * Programs loaded since {@code before} that use this engine's jv_ports map, i.e. that this engine
     * loaded. The kernel frees a closed program's id from a work queue, so give it a moment.
     */
    static java.util.List<Integer> ourNewPrograms(TestBed bed, Snapshot before) throws InterruptedException {
        int ports;
        try (io.jvisor.bpf.BpfMap m = io.jvisor.bpf.BpfMap.openPinned(bed.options.pinRoot().resolve("maps/jv_ports"))) {
            ports = m.id();
        }
        java.util.List<Integer> ours = java.util.List.of();
        for (int attempt = 0; attempt < 100; attempt++) {
            ours = new java.util.ArrayList<>();
            for (int id : KernelObjects.programIds()) {
                if (before.programs().contains(id)) {
                    continue;
                }
                try (io.jvisor.bpf.BpfProgram p = io.jvisor.bpf.BpfProgram.fromId(id)) {
                    if (p.info().mapIds().contains(ports)) {
                        ours.add(id);
                    }
                } catch (io.jvisor.bpf.BpfException gone) {
                    // freed in the meantime
                }
            }
            if (ours.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        return ours;
    }

    @Test
    void badInputIsRefusedNamingTheElement() {
        try (TestBed bed = TestBed.create(1, Hook.TC)) {
            Engine e = bed.start();
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("x", "nosuchtype").build()))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("instance 'x'")
                    .hasMessageContaining("unknown module type 'nosuchtype'");
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("f", "forwarder").connect("f:0", "dev:nosuchdev0")
                    .build())).isInstanceOf(TopologyException.class).hasMessageContaining("f:0 -- dev:nosuchdev0")
                    .hasMessageContaining("no device 'nosuchdev0'");
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("f", "forwarder").connect("f:5", bed.dev(1))
                    .build())).isInstanceOf(TopologyException.class).hasMessageContaining("has ports 0..1, not 5");
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("f", "forwarder").instance("g", "forwarder")
                    .connect("f:0", bed.dev(1)).connect("g:0", bed.dev(1)).build()))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("connected twice");
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("f", "forwarder").connect("f:0", "dev:nsgone/eth0")
                    .build())).isInstanceOf(TopologyException.class).hasMessageContaining("no network namespace 'nsgone'");
            assertThat(e.topology()).isEqualTo(Topology.EMPTY);
        }
    }

    @Test
    void loopsAreRefused() {
        try (TestBed bed = TestBed.create(1, Hook.TC)) {
            Engine e = bed.start();
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("a", "forwarder").instance("b", "forwarder")
                    .connect("a:0", "b:0").connect("a:1", "b:1").build()))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("loop");
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("a", "hub").instance("b", "hub")
                    .instance("c", "hub").connect("a:0", "b:0").connect("b:1", "c:0").connect("c:1", "a:1").build()))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("loop");
            assertThat(e.topology()).isEqualTo(Topology.EMPTY);
        }
    }

    @Test
    void chainLongerThanTheTailCallLimitIsRefusedNamingThePath() {
        try (TestBed bed = TestBed.create(1, Hook.TC)) {
            Engine e = bed.start();
            Topology.Builder t = Topology.builder();
            for (int i = 0; i < 34; i++) {
                t.instance("f" + i, "forwarder");
                if (i > 0) {
                    t.connect("f" + (i - 1) + ":1", "f" + i + ":0");
                }
            }
            t.connect("f0:0", bed.dev(1));
            assertThatThrownBy(() -> e.apply(t.build())).isInstanceOfSatisfying(TopologyException.class, ex -> {
                assertThat(ex.element()).startsWith("path f").contains(" -> ");
                assertThat(ex.getMessage()).contains("34 instances").contains("limit of 33");
            });
            assertThat(e.topology()).isEqualTo(Topology.EMPTY);
        }
    }
}

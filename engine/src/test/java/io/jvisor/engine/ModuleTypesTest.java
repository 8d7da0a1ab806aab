package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Ping;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModuleTypesTest {
    @Test
    void serviceLoaderFindsModuleJarsOnTheClassPath() {
        ModuleCatalog c = ModuleCatalog.discover();
        assertThat(c.all()).containsKey("discovered-forwarder");
        assertThat(c.get("discovered-forwarder").ports()).isEqualTo(2);
    }

    @Test
    @RequiresRoot
    void discoveredTypeRunsAndValidatesItsConfig() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            ModuleCatalog catalog = ModuleCatalog.discover();
            bed.engine = Engine.start(bed.options, catalog);
            Engine e = bed.engine;
            assertThatThrownBy(() -> e.apply(Topology.builder()
                    .instance("f", "discovered-forwarder", Map.of("colour", "red")).build()))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("instance 'f' config")
                    .hasMessageContaining("unknown key 'colour'").hasMessageContaining("label, weight");
            assertThatThrownBy(() -> e.apply(Topology.builder()
                    .instance("f", "discovered-forwarder", Map.of("label", "edge", "weight", "heavy")).build()))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("key 'weight': 'heavy' is not a valid int");
            assertThatThrownBy(() -> e.apply(Topology.builder()
                    .instance("f", "discovered-forwarder", Map.of("label", "edge")).build()))
                    .isInstanceOf(TopologyException.class).hasMessageContaining("weight");
            assertThat(ConfigBinding.bind(Map.of("label", "edge", "weight", "3"), DiscoveredModule.Config.class))
                    .isEqualTo(new DiscoveredModule.Config("edge", 3));
            e.apply(Topology.builder().instance("f", "discovered-forwarder", Map.of("label", "edge", "weight", "2"))
                    .connect("f:0", bed.dev(1)).connect("f:1", bed.dev(2)).build());
            assertThat(Ping.run(bed.lab.host("h1").netns(), bed.lab.host("h2").address(), 2).allReplied()).isTrue();
        }
    }

    @Test
    @RequiresRoot
    void runtimeCSourceWithAnErrorNamesTheLine() {
        try (TestBed bed = TestBed.create(1, Hook.TC)) {
            Engine e = bed.start();
            e.catalog().register(ModuleType.fromSource("typo", """
                    #include <jvisor/module.h>
                    static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
                    {
                        return jv_forward(md, undefined_port);
                    }
                    """, 2));
            assertThatThrownBy(() -> e.apply(Topology.builder().instance("t", "typo").build()))
                    .isInstanceOfSatisfying(TopologyException.class, ex -> {
                        assertThat(ex.element()).isEqualTo("instance 't'");
                        assertThat(ex.getMessage()).contains("does not compile").contains("typo.c:4:")
                                .contains("undefined_port");
                    });
            assertThat(e.topology()).isEqualTo(Topology.EMPTY);
        }
    }
}

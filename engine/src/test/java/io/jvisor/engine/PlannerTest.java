package io.jvisor.engine;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Planning and validation without root or a kernel: the planner sees the live state as values and
 * asks for device indexes through an interface.
 */
class PlannerTest {
    private static final String RELAY = "static __always_inline int jv_rx(struct jv_ctx *c, struct jv_md *m) "
            + "{ return jv_forward(m, m->in_port ^ 1); }";

    private final ModuleCatalog catalog = new ModuleCatalog();
    private final Map<Endpoint.Device, Integer> devices = new HashMap<>();
    private final Planner planner;

    PlannerTest() {
        catalog.register(ModuleType.fromSource("relay", "#include <jvisor/module.h>\n" + RELAY, 2));
        devices.put(new Endpoint.Device(null, "a0"), 10);
        devices.put(new Endpoint.Device(null, "a1"), 11);
        planner = new Planner(catalog, (type, sizes, el) -> { }, (d, el) -> {
            Integer i = devices.get(d);
            if (i == null) {
                throw new TopologyException(el, "no device '" + d.name() + "'");
            }
            return i;
        });
    }

    @Test
    void aNewChainIsCreatedWiredThenAttached() {
        Topology t = Topology.builder().instance("r1", "relay").instance("r2", "relay")
                .connect("dev:a0", "r1:0").connect("r1:1", "r2:0").connect("r2:1", "dev:a1").build();
        Planner.Result r = planner.plan(t, LiveView.EMPTY);
        List<Class<?>> kinds = r.plan().changes().stream().<Class<?>>map(Object::getClass).toList();
        assertThat(kinds).containsExactly(Plan.CreateInstance.class, Plan.CreateInstance.class,
                Plan.SetPeer.class, Plan.SetPeer.class, Plan.SetPeer.class, Plan.SetPeer.class,
                Plan.AttachDevice.class, Plan.AttachDevice.class);
        assertThat(r.ifindexes()).containsEntry(new Endpoint.Device(null, "a0"), 10)
                .containsEntry(new Endpoint.Device(null, "a1"), 11);
    }

    @Test
    void theSameTopologyLiveIsAnEmptyPlan() {
        Topology t = Topology.builder().instance("r1", "relay").connect("dev:a0", "r1:0").build();
        String hash = catalog.get("relay").code().hash();
        LiveView live = new LiveView(Map.of("r1", new LiveView.InstanceView("relay", hash, Map.of())),
                Map.of(new Endpoint.Port("r1", 0), new Endpoint.Device(null, "a0")),
                Map.of(new Endpoint.Device(null, "a0"), new Endpoint.Port("r1", 0)), 1);
        assertThat(planner.plan(t, live).plan().isEmpty()).isTrue();
        assertThat(planner.plan(Topology.EMPTY, live).plan().changes()).hasSize(3); // detach, clear, delete
    }

    @Test
    void changedCodeIsASwapAndChangedConfigAReconfigure() {
        Topology t = Topology.builder().instance("r1", "relay").build();
        LiveView live = new LiveView(Map.of("r1", new LiveView.InstanceView("relay", "old", Map.of("k", "v"))), Map.of(),
                Map.of(), 1);
        assertThat(planner.plan(t, live).plan().changes()).hasExactlyElementsOfTypes(Plan.SwapInstance.class,
                Plan.Reconfigure.class);
    }

    @Test
    void errorsNameTheElementAtFault() {
        assertThatThrownBy(() -> planner.plan(Topology.builder().instance("r1", "nope").build(), LiveView.EMPTY))
                .hasMessageContaining("instance 'r1'").hasMessageContaining("unknown module type 'nope'");
        assertThatThrownBy(() -> planner.plan(Topology.builder().instance("r1", "relay").connect("r1:2", "dev:a0")
                .build(), LiveView.EMPTY)).hasMessageContaining("has ports 0..1, not 2");
        assertThatThrownBy(() -> planner.plan(Topology.builder().instance("r1", "relay").connect("r1:0", "dev:zz")
                .build(), LiveView.EMPTY)).hasMessageContaining("no device 'zz'");
        assertThatThrownBy(() -> planner.plan(Topology.builder().instance("bad name", "relay").build(),
                LiveView.EMPTY)).hasMessageContaining("1-32 of");
    }
}

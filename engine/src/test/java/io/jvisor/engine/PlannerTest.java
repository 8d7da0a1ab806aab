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
    /** The devices the planner asked for, in order. */
    private final List<Endpoint.Device> asked = new java.util.ArrayList<>();
    private final Planner planner;

    PlannerTest() {
        catalog.register(ModuleType.fromSource("relay", "#include <jvisor/module.h>\n" + RELAY, 2));
        devices.put(new Endpoint.Device(null, "a0"), 10);
        devices.put(new Endpoint.Device(null, "a1"), 11);
        planner = new Planner(catalog, (type, sizes, el) -> { });
    }

    /** Plans with a resolver that knows a0 and a1 and records what it is asked. */
    private Plan plan(Topology t, LiveView live) {
        return planner.plan(t, live, (d, el) -> {
            asked.add(d);
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
        Plan p = plan(t, LiveView.EMPTY);
        List<Class<?>> kinds = p.changes().stream().<Class<?>>map(Object::getClass).toList();
        assertThat(kinds).containsExactly(Plan.CreateInstance.class, Plan.CreateInstance.class,
                Plan.SetPeer.class, Plan.SetPeer.class, Plan.SetPeer.class, Plan.SetPeer.class,
                Plan.AttachDevice.class, Plan.AttachDevice.class);
        assertThat(asked).as("each new device is looked up once")
                .containsExactly(new Endpoint.Device(null, "a0"), new Endpoint.Device(null, "a1"));
    }

    @Test
    void theSameTopologyLiveIsAnEmptyPlan() {
        Topology t = Topology.builder().instance("r1", "relay").connect("dev:a0", "r1:0").build();
        String hash = catalog.get("relay").code().hash();
        LiveView live = new LiveView(Map.of("r1", new LiveView.InstanceView("relay", hash, Map.of())),
                Map.of(new Endpoint.Port("r1", 0), new Endpoint.Device(null, "a0")),
                Map.of(new Endpoint.Device(null, "a0"), new Endpoint.Port("r1", 0)), 1);
        assertThat(plan(t, live).isEmpty()).isTrue();
        assertThat(asked).as("a device attached already is not looked up again").isEmpty();
        assertThat(plan(Topology.EMPTY, live).changes()).hasSize(3); // detach, clear, delete
    }

    @Test
    void changedCodeIsASwapAndChangedConfigAReconfigure() {
        Topology t = Topology.builder().instance("r1", "relay").build();
        LiveView live = new LiveView(Map.of("r1", new LiveView.InstanceView("relay", "old", Map.of("k", "v"))), Map.of(),
                Map.of(), 1);
        assertThat(plan(t, live).changes()).hasExactlyElementsOfTypes(Plan.SwapInstance.class,
                Plan.Reconfigure.class);
    }

    /** A 32-port L3 type with no code of its own to compile: the planner never loads anything. */
    private void registerRouterType() {
        ModuleType base = ModuleType.fromSource("rt", "#include <jvisor/module.h>\n" + RELAY, Sdk.MAX_PORTS);
        catalog.register(new ModuleType() {
            public String name() { return "rt"; }
            public ModuleCode code() { return base.code(); }
            public int ports() { return Sdk.MAX_PORTS; }
            public Forwarding forwarding() { return Forwarding.L3; }
        });
    }

    @Test
    void aFullMeshOfThirtyRoutersAndAChainOfAThousandPlanQuickly() {
        registerRouterType();
        Topology.Builder mesh = Topology.builder();
        int n = 30;
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            mesh.instance("r" + i, "rt");
        }
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                mesh.connect("r" + i + ":" + next[i]++, "r" + j + ":" + next[j]++);
            }
        }
        long t0 = System.nanoTime();
        Plan meshPlan = plan(mesh.build(), LiveView.EMPTY);
        long meshMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(meshPlan.changes()).hasSize(n + n * (n - 1)); // creates, and both ends of every wire

        // a chain of 1,000 routers has no loop, but its one path is far longer than the kernel's 33
        // tail calls, so it is refused, naming the path
        Topology.Builder chain = Topology.builder();
        for (int i = 0; i < 1000; i++) {
            chain.instance("c" + i, "rt");
            if (i > 0) {
                chain.connect("c" + (i - 1) + ":1", "c" + i + ":0");
            }
        }
        long t1 = System.nanoTime();
        assertThatThrownBy(() -> plan(chain.build(), LiveView.EMPTY))
                .hasMessageContaining("path c0 -> ").hasMessageContaining("c999")
                .hasMessageContaining("limit of " + Sdk.MAX_TAIL_CALLS);
        long chainMs = (System.nanoTime() - t1) / 1_000_000;
        // 1,000 instances in chains of 25 plan fully
        Topology.Builder chains = Topology.builder();
        for (int i = 0; i < 1000; i++) {
            chains.instance("k" + i, "relay");
            if (i % 25 != 0) {
                chains.connect("k" + (i - 1) + ":1", "k" + i + ":0");
            }
        }
        long t2 = System.nanoTime();
        assertThat(plan(chains.build(), LiveView.EMPTY).changes()).hasSize(1000 + 2 * 960);
        long chainsMs = (System.nanoTime() - t2) / 1_000_000;
        // figures for docs/benchmarks.md; no threshold here, the machines are noisy
        System.out.printf("planner: 30-router full mesh %d ms, 1,000-router chain refused in %d ms, "
                + "1,000 instances in chains of 25 %d ms%n", meshMs, chainMs, chainsMs);
    }

    @Test
    void errorsNameTheElementAtFault() {
        assertThatThrownBy(() -> plan(Topology.builder().instance("r1", "nope").build(), LiveView.EMPTY))
                .hasMessageContaining("instance 'r1'").hasMessageContaining("unknown module type 'nope'");
        assertThatThrownBy(() -> plan(Topology.builder().instance("r1", "relay").connect("r1:2", "dev:a0")
                .build(), LiveView.EMPTY)).hasMessageContaining("has ports 0..1, not 2");
        assertThatThrownBy(() -> plan(Topology.builder().instance("r1", "relay").connect("r1:0", "dev:zz")
                .build(), LiveView.EMPTY)).hasMessageContaining("no device 'zz'");
        assertThatThrownBy(() -> plan(Topology.builder().instance("bad name", "relay").build(),
                LiveView.EMPTY)).hasMessageContaining("1-32 of");
    }
}

package io.jvisor.server;

import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Sdk;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestReader;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One YAML file with N bridge instances and 4N wires applies, all or nothing, and is removed. The
 * wires are a tree of instance-to-instance connections (the engine refuses loops, so N instances
 * take at most N-1 of them) and attachments to veth devices in a namespace of the test's own for
 * the rest. CI runs N=20; the N=1,000 (4,000 wires) is {@code -Djvisor.load.instances=1000}
 * (see docs/server.md for the figure).
 */
class LargeTopologyTest {
    @Test
    void aThousandInstancesAndFourThousandWiresAreReadAndCheckedQuickly() {
        String nsName = "some-ns";
        StringBuilder y = new StringBuilder("apiVersion: jvisor.io/v1\nkind: Topology\nmetadata: {name: big}\nspec:\n"
                + "  instances:\n");
        int n = 1000;
        for (int i = 0; i < n; i++) {
            y.append("    - {name: b").append(i).append(", type: bridge}\n");
        }
        y.append("  connections:\n");
        for (int i = 1; i < n; i++) {
            y.append("    - {a: b").append(i).append(":0, b: b").append((i - 1) / 4).append(':').append(1 + (i - 1) % 4)
                    .append("}\n");
        }
        y.append("  attachments:\n");
        int[] next = new int[n];
        java.util.Arrays.fill(next, 5);
        for (int d = 0; d < 4 * n - (n - 1); d++) {
            int i = d % n;
            y.append("    - {port: b").append(i).append(':').append(next[i]++).append(", device: d").append(d)
                    .append(", netns: ").append(nsName).append("}\n");
        }
        long t0 = System.nanoTime();
        Manifest m = ManifestReader.read(y.toString());
        var r = io.jvisor.server.manifest.ManifestResolver.resolve(m, io.jvisor.engine.ModuleCatalog.discover(), null);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.topology().instances()).hasSize(1000);
        assertThat(r.topology().connections()).hasSize(4000);
        System.out.printf("large manifest: 1000 instances, 4000 wires, %d KiB of YAML: read and checked in %d ms%n",
                y.length() / 1024, ms);
    }

    @Test
    @RequiresRoot
    void aLargeTopologyAppliesAndIsRemoved() throws Exception {
        int n = Integer.getInteger("jvisor.load.instances", 20);
        // bridge (the default): the verifier's cost of the real module dominates; patch: a 32-port module that
        // forwards port 2k to 2k+1 and back, so that the engine's own costs show
        String type = System.getProperty("jvisor.load.type", "bridge");
        io.jvisor.engine.ModuleCatalog catalog = io.jvisor.engine.ModuleCatalog.discover();
        catalog.register(io.jvisor.engine.ModuleType.fromSource("patch", """
                #include <jvisor/module.h>
                static __always_inline int jv_rx(struct jv_ctx *ctx, struct jv_md *md)
                {
                	return jv_forward(md, md->in_port ^ 1);
                }
                """, Sdk.MAX_PORTS));
        int wires = 4 * n;
        int branching = 4;
        String nsName = Names.unique("jvlt");
        try (ServerTestBed bed = new ServerTestBed("jvlt"); Netns ns = Netns.create(nsName)) {
            StringBuilder y = new StringBuilder("""
                    apiVersion: jvisor.io/v1
                    kind: Topology
                    metadata: {name: large}
                    spec:
                      instances:
                    """);
            for (int i = 0; i < n; i++) {
                y.append("    - {name: b").append(i).append(", type: ").append(type).append("}\n");
            }
            // a tree: instance i's parent is (i-1)/branching; its port 0 goes up, ports 1..branching down
            y.append("  connections:\n");
            int[] nextPort = new int[n];
            for (int i = 1; i < n; i++) {
                int parent = (i - 1) / branching;
                y.append("    - {a: b").append(i).append(":0, b: b").append(parent).append(':')
                        .append(1 + (i - 1) % branching).append("}\n");
            }
            for (int i = 0; i < n; i++) {
                nextPort[i] = branching + 1;
            }
            int devices = wires - (n - 1);
            List<String> names = new ArrayList<>();
            try (Rtnl rtnl = Rtnl.open(ns)) {
                // veth pairs, both ends used (the dummy driver is not always there)
                for (int d = 0; d < devices; d += 2) {
                    rtnl.createVeth("d" + d, "d" + (d + 1));
                    names.add("d" + d);
                    names.add("d" + (d + 1));
                }
            }
            y.append("  attachments:\n");
            for (int d = 0; d < devices; d++) {
                int i = d % n;
                assertThat(nextPort[i]).isLessThan(Sdk.MAX_PORTS);
                y.append("    - {port: b").append(i).append(':').append(nextPort[i]++).append(", device: ")
                        .append(names.get(d)).append(", netns: ").append(nsName).append("}\n");
            }
            Manifest m = ManifestReader.read(y.toString());
            assertThat(m.spec().connections().size() + m.spec().attachments().size()).isEqualTo(wires);
            // -Djvisor.load.attach=LINK|NETLINK forces the attach method (docs/benchmarks.md, "Apply time")
            String attach = System.getProperty("jvisor.load.attach");
            io.jvisor.engine.EngineOptions options = attach == null ? bed.options
                    : bed.options.withAttach(io.jvisor.engine.AttachMethod.valueOf(attach));
            try (Controller c = Controller.open(options, catalog)) {
                long t0 = System.nanoTime();
                ApplyResult r = c.apply(m, false);
                long applyMs = (System.nanoTime() - t0) / 1_000_000;
                assertThat(c.engine().topology().instances()).hasSize(n);
                assertThat(c.engine().topology().connections()).hasSize(wires);
                long t1 = System.nanoTime();
                assertThat(c.apply(m, true).changes()).isEmpty();
                long replanMs = (System.nanoTime() - t1) / 1_000_000;
                long t2 = System.nanoTime();
                c.destroy();
                long downMs = (System.nanoTime() - t2) / 1_000_000;
                System.out.printf("large topology: %d %s instances, %d wires (%d connections, %d device attachments, "
                                + "attach method %s): apply %d ms (%d changes), re-plan %d ms, remove %d ms%n", n, type,
                        wires, n - 1, devices, c.engine().attachMethod(), applyMs, r.changes().size(), replanMs, downMs);
            }
            assertThat(bed.options.pinRoot()).doesNotExist();
        }
    }
}

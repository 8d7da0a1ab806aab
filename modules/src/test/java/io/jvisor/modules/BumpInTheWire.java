package io.jvisor.modules;

import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.TestBed;
import io.jvisor.engine.Topology;
import java.util.Map;

/**
 * The bed of the two-port modules' end-to-end tests (firewall, ddos, capture): two hosts, h1 and
 * h2, one subnet, and one instance between them, port 0 towards h1 and port 1 towards h2.
 */
public final class BumpInTheWire {
    private BumpInTheWire() {
    }

    /** A started engine test bed of two hosts at this hook (hosts prepared for XDP at XDP), running {@code catalog}. */
    public static TestBed start(Hook hook, ModuleCatalog catalog) {
        TestBed bed = TestBed.create(2, hook);
        try {
            if (hook == Hook.XDP) {
                bed.prepareHostsForXdp(2);
            }
            bed.start(catalog);
            return bed;
        } catch (RuntimeException e) {
            bed.close();
            throw e;
        }
    }

    /** Applies the topology of one instance {@code name} of {@code type} between h1 (port 0) and h2 (port 1). */
    public static void apply(TestBed bed, String name, String type, Map<String, String> config) {
        bed.engine.apply(Topology.builder().instance(name, type, config)
                .connect(name + ":0", bed.dev(1)).connect(name + ":1", bed.dev(2)).build());
    }
}

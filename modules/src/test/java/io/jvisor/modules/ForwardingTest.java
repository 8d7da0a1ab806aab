package io.jvisor.modules;

import io.jvisor.engine.Forwarding;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleType;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How each standard module forwards, as the topology's loop check sees it: only the router ends a
 * packet that goes round a loop (it decrements the TTL); every other module may forward a frame
 * unchanged, so claiming L3 for it would let a loop of it circle frames until the tail-call limit.
 */
class ForwardingTest {
    @Test
    void onlyTheRouterDecrementsTheTtl() {
        Map<String, Forwarding> kinds = new TreeMap<>();
        for (ModuleType t : ModuleCatalog.discover().all().values()) {
            if (t.getClass().getPackageName().startsWith("io.jvisor.modules")) {
                kinds.put(t.name(), t.forwarding());
            }
        }
        assertThat(kinds).containsEntry("router", Forwarding.L3).hasSize(7);
        kinds.remove("router");
        assertThat(kinds.values()).containsOnly(Forwarding.L2);
    }
}

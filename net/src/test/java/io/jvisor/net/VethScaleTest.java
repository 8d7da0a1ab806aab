package io.jvisor.net;

import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** 200 veth pairs across two namespaces, created and deleted: nothing is left behind. */
@RequiresRoot
class VethScaleTest {
    private static final int PAIRS = 200;

    @Test
    void createAndDelete200Pairs() {
        try (Netns a = Netns.create(Names.unique("jts"));
             Netns b = Netns.create(Names.unique("jts"));
             Rtnl ra = Rtnl.open(a);
             Rtnl rb = Rtnl.open(b)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < PAIRS; i++) {
                ra.createVeth(VethSpec.of("s" + i, "p" + i).withPeerNamespace(b));
            }
            long t1 = System.nanoTime();
            assertThat(ra.links()).hasSize(PAIRS + 1);
            assertThat(rb.links()).hasSize(PAIRS + 1);
            assertThat(Ip.json(a.name(), "link", "show", "type", "veth").size()).isEqualTo(PAIRS);
            assertThat(Ip.json(b.name(), "link", "show", "type", "veth").size()).isEqualTo(PAIRS);

            long t2 = System.nanoTime();
            for (int i = 0; i < PAIRS; i++) {
                ra.delete("s" + i);
            }
            long t3 = System.nanoTime();
            assertThat(ra.links()).extracting(Link::name).containsExactly("lo");
            assertThat(rb.links()).extracting(Link::name).containsExactly("lo");
            assertThat(Ip.json(a.name(), "link", "show").size()).isEqualTo(1);
            assertThat(Ip.json(b.name(), "link", "show").size()).isEqualTo(1);
            System.out.printf("%d veth pairs: created in %.1f ms, deleted in %.1f ms%n", PAIRS,
                    (t1 - t0) / 1e6, (t3 - t2) / 1e6);
        }
    }
}

package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.lab.Host;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** ARP goes to user space; the Java handler answers it through transmit(). */
@RequiresRoot
class SlowPathTest {
    static final byte[] VIRTUAL_MAC = {0x02, (byte) 0xaa, 0, 0, 0, 0x01};

    /** Answers every ARP request with VIRTUAL_MAC. */
    static final class ArpResponder implements ModuleHandler {
        final AtomicInteger seen = new AtomicInteger();
        volatile int ifindex;

        @Override
        public void onPacket(InstanceContext ctx, PacketIn p) {
            byte[] f = p.data();
            if (p.reason() != 1 || f.length < 42 || f[20] != 0 || f[21] != 1) {
                return; // not an ARP request
            }
            seen.incrementAndGet();
            ifindex = p.ifindex();
            ByteBuffer reply = ByteBuffer.allocate(42);
            reply.put(f, 6, 6).put(VIRTUAL_MAC).putShort((short) 0x0806);         // Ethernet
            reply.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 2);
            reply.put(VIRTUAL_MAC).put(f, 38, 4);                                   // sender: us, the asked IP
            reply.put(f, 22, 6).put(f, 28, 4);                                      // target: the asker
            ctx.transmit(p.inPort(), reply.array());
        }
    }

    @Test
    void javaHandlerAnswersArp() throws Exception {
        try (TestBed bed = TestBed.create(1, Hook.TC)) {
            ArpResponder handler = new ArpResponder();
            ModuleCatalog catalog = TestModules.catalog();
            ModuleType base = ModuleType.fromSource("arpd", TestModules.source("arp_responder.c"), 1);
            catalog.register(new ModuleType() {
                public String name() { return "arpd"; }
                public ModuleCode code() { return base.code(); }
                public int ports() { return 1; }
                public ModuleHandler handler(Map<String, String> config) { return handler; }
            });
            bed.engine = Engine.start(bed.options, catalog);
            Engine e = bed.engine;
            e.apply(Topology.builder().instance("arpd", "arpd").connect("arpd:0", bed.dev(1)).build());
            Host h1 = bed.lab.host("h1");
            String ghost = bed.net + "99";
            // ping an address nobody has: the kernel of h1 asks with ARP, the handler answers
            Process ping = h1.exec(List.of("ping", "-c", "1", "-W", "2", ghost));
            ping.waitFor();
            String neigh = run(h1, "ip", "neigh", "show", ghost);
            assertThat(neigh).contains("02:aa:00:00:00:01");
            assertThat(handler.seen.get()).isPositive();
            assertThat(e.stats("arpd", 0).txPackets()).isEqualTo(handler.seen.get());
            assertThat(e.drops("arpd")).containsKey("user_1"); // the echo request itself was dropped and counted
            try (io.jvisor.net.Rtnl rtnl = io.jvisor.net.Rtnl.open()) {
                assertThat(handler.ifindex).as("the device the request arrived on")
                        .isEqualTo(rtnl.ifindex(bed.lab.rootDevice("p1")));
            }
        }
    }

    /** The answer crosses another instance: transmit() into an instance port, through the reinjection pair. */
    @Test
    void javaHandlerAnswersThroughAnotherInstance() throws Exception {
        try (TestBed bed = TestBed.create(1, Hook.TC)) {
            ArpResponder handler = new ArpResponder();
            ModuleCatalog catalog = TestModules.catalog();
            ModuleType base = ModuleType.fromSource("arpd", TestModules.source("arp_responder.c"), 1);
            catalog.register(new ModuleType() {
                public String name() { return "arpd"; }
                public ModuleCode code() { return base.code(); }
                public int ports() { return 1; }
                public ModuleHandler handler(Map<String, String> config) { return handler; }
            });
            Engine e = bed.start(catalog);
            e.apply(Topology.builder().instance("arpd", "arpd").instance("fwd", "forwarder")
                    .connect("arpd:0", "fwd:0").connect("fwd:1", bed.dev(1)).build());
            Host h1 = bed.lab.host("h1");
            String ghost = bed.net + "98";
            h1.exec(List.of("ping", "-c", "1", "-W", "2", ghost)).waitFor();
            assertThat(run(h1, "ip", "neigh", "show", ghost)).contains("02:aa:00:00:00:01");
            assertThat(e.stats("fwd", 0).rxPackets()).as("the answer entered the forwarder on port 0").isPositive();
            assertThat(e.stats("fwd", 1).txPackets()).isGreaterThanOrEqualTo(e.stats("fwd", 0).rxPackets());
        }
    }

    static String run(Host h, String... cmd) throws IOException, InterruptedException {
        Process p = h.exec(List.of(cmd));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}

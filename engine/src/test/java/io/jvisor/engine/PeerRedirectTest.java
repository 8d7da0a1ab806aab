package io.jvisor.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.Ping;
import io.jvisor.net.lab.UdpStream;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Forwarding to a veth whose other end is in another namespace takes bpf_redirect_peer: the frames
 * enter that end's ingress without being transmitted on the engine's end, whose tx counter therefore
 * stays put while the host receives everything. Devices that cannot take it (a veth with both ends in
 * one namespace), and engines that turn it off, transmit as before.
 */
@RequiresRoot
class PeerRedirectTest {
    private static final int N = 3000;

    private static Topology wire(String a, String b) {
        return Topology.builder().instance("fwd", "forwarder").connect("fwd:0", a).connect("fwd:1", b).build();
    }

    /** tx_packets of device dev in namespace ns (null: the root namespace), as ip -s -j link reports it. */
    static long txPackets(Netns ns, String dev) {
        return stat(ns, dev, "tx");
    }

    static long rxPackets(Netns ns, String dev) {
        return stat(ns, dev, "rx");
    }

    private static long stat(Netns ns, String dev, String dir) {
        List<String> cmd = List.of("ip", "-s", "-j", "link", "show", "dev", dev);
        try {
            Process p = ns == null ? new ProcessBuilder(cmd).redirectErrorStream(true).start()
                    : ns.exec(new ProcessBuilder(cmd).redirectErrorStream(true));
            byte[] out = p.getInputStream().readAllBytes();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(new String(out)).isZero();
            JsonNode link = new ObjectMapper().readTree(out).get(0);
            return link.get("stats64").get(dir).get("packets").asLong();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void udp(Host from, InetAddress src, Host to, InetAddress dst) {
        try (UdpStream s = UdpStream.open(from.netns(), src, to.netns(), dst)) {
            s.send(N, 20_000);
            UdpStream.Report r = s.finish(Duration.ofSeconds(1));
            assertThat(r.received()).as(from + " -> " + to + ": " + r).isEqualTo(N);
        }
    }

    /** Sends N datagrams h1 -> h2 and returns the growth of p2's tx counter; h2 receives all of them. */
    private static long rootTxGrowth(TestBed bed) {
        Host h1 = bed.lab.host("h1");
        Host h2 = bed.lab.host("h2");
        assertThat(Ping.run(h1.netns(), h2.address(), 2).allReplied()).isTrue();
        String p2 = bed.lab.rootDevice("p2");
        long tx = txPackets(null, p2);
        long rx = rxPackets(h2.netns(), "eth0");
        udp(h1, h1.address(), h2, h2.address());
        assertThat(rxPackets(h2.netns(), "eth0") - rx).as("h2's eth0 received").isGreaterThanOrEqualTo(N);
        return txPackets(null, p2) - tx;
    }

    @Test
    void vethWithPeerInAnotherNamespaceSkipsItsTransmit() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = bed.start();
            e.apply(wire(bed.dev(1), bed.dev(2)));
            long grown = rootTxGrowth(bed);
            assertThat(grown).as("p2 transmitted (only frames not addressed to h2, such as ARP broadcasts)")
                    .isLessThan(N / 10);
            assertThat(e.stats("fwd", 1).txPackets()).isGreaterThanOrEqualTo(N);
        }
    }

    @Test
    void turnedOffEngineWideEveryFrameIsTransmitted() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            bed.engine = Engine.start(bed.options.withPeerRedirect(false), TestModules.catalog());
            bed.engine.apply(wire(bed.dev(1), bed.dev(2)));
            assertThat(rootTxGrowth(bed)).as("p2 transmitted every datagram").isGreaterThanOrEqualTo(N);
        }
    }

    @Test
    void adoptionReevaluatesTheSetting() {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            bed.start().apply(wire(bed.dev(1), bed.dev(2)));
            assertThat(rootTxGrowth(bed)).isLessThan(N / 10);
            bed.engine.close(); // the objects stay and keep forwarding
            bed.engine = Engine.start(bed.options.withPeerRedirect(false), TestModules.catalog());
            assertThat(rootTxGrowth(bed)).as("adopted without peer redirects").isGreaterThanOrEqualTo(N);
            bed.engine.close();
            bed.engine = bed.start();
            assertThat(rootTxGrowth(bed)).as("adopted with peer redirects again").isLessThan(N / 10);
        }
    }

    @Test
    void vethWithBothEndsInOneNamespaceIsTransmittedOn() throws Exception {
        try (TestBed bed = TestBed.create(1, Hook.TC, true)) {
            // in the switch namespace: qa, the engine's device, and its other end qb, with an address
            Host sw = bed.lab.host("sw");
            String qa = "qa", qb = "qb";
            InetAddress qbAddr;
            try (Rtnl r = Rtnl.open(sw.netns())) {
                r.createVeth(qa, qb);
                r.addAddress(qb, IpPrefix.parse(bed.net + "2/24"));
                r.setUp(qa);
                r.setUp(qb);
                qbAddr = InetAddress.getByName(bed.net + "2");
            }
            Engine e = bed.start();
            e.apply(wire(bed.dev(1), "dev:" + bed.deviceNetns + "/" + qa));
            Host h1 = bed.lab.host("h1");
            assertThat(Ping.run(h1.netns(), qbAddr, 2).allReplied()).isTrue();

            List<Long> before = new ArrayList<>(List.of(txPackets(sw.netns(), qa), txPackets(sw.netns(), "p1")));
            udp(h1, h1.address(), sw, qbAddr); // to qb: through qa, same namespace, transmitted
            udp(sw, qbAddr, h1, h1.address()); // to h1: through p1, whose other end is in h1's namespace
            assertThat(txPackets(sw.netns(), qa) - before.get(0)).as("qa transmitted every datagram to qb")
                    .isGreaterThanOrEqualTo(N);
            assertThat(txPackets(sw.netns(), "p1") - before.get(1)).as("p1 skipped by peer redirects")
                    .isLessThan(N / 10);
        }
    }
}

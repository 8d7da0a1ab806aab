package io.jvisor.engine;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With receive steering on, a veth the engine attaches to on the tc hook, whose other end is in another namespace, gets an
 * RPS mask over all online CPUs and a flow table (so one TCP flow's segments reach the engine in
 * order) unless it has a mask already, and loses them again when it is disconnected. The masks are read back with the
 * kernel's own tools, outside the engine.
 */
@RequiresRoot
class ReceiveSteeringTest {
    private static Topology wire(String a, String b) {
        return Topology.builder().instance("fwd", "forwarder").connect("fwd:0", a).connect("fwd:1", b).build();
    }

    /** The mask the engine writes: all online CPUs; with a single CPU there is nothing to steer. */
    private static BigInteger online() throws IOException {
        BigInteger cpus = ReceiveSteering.parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        return cpus.bitCount() < 2 ? BigInteger.ZERO : cpus;
    }

    /** rps_cpus of rx-0 of a root-namespace device. */
    private static BigInteger rootMask(String dev) throws IOException {
        return ReceiveSteering.parseMask(Files.readString(rpsFile(dev)));
    }

    /** rps_flow_cnt of rx-0 of a root-namespace device. */
    private static long flowTable(String dev) throws IOException {
        return Long.parseLong(Files.readString(rpsFile(dev).resolveSibling("rps_flow_cnt")).strip());
    }

    private static Path rpsFile(String dev) {
        return Path.of("/sys/class/net", dev, "queues", "rx-0", "rps_cpus");
    }

    /** rps_cpus of rx-0 of a device in named namespace ns, as `ip netns exec` (which remounts /sys) shows it. */
    private static BigInteger namespacedMask(String ns, String dev) throws Exception {
        Process p = new ProcessBuilder(List.of("ip", "netns", "exec", ns, "cat",
                "/sys/class/net/" + dev + "/queues/rx-0/rps_cpus")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return ReceiveSteering.parseMask(out);
    }

    @Test
    void rootEndsOfHostVethsAreSteeredWhileConnected() throws Exception {
        try (TestBed bed = TestBed.create(2, Hook.TC).with(o -> o.withReceiveSteering(true))) {
            String p1 = bed.lab.rootDevice("p1"), p2 = bed.lab.rootDevice("p2");
            assertThat(rootMask(p1)).isZero();
            Engine e = bed.start();
            e.apply(wire(bed.dev(1), bed.dev(2)));
            assertThat(rootMask(p1)).isEqualTo(online());
            assertThat(rootMask(p2)).isEqualTo(online());
            assertThat(flowTable(p1)).as("flow table for receive flow steering").isEqualTo(
                    online().signum() == 0 ? 0 : ReceiveSteering.FLOWS_PER_QUEUE);
            e.apply(Topology.EMPTY);
            assertThat(rootMask(p1)).as("disconnected").isZero();
            assertThat(rootMask(p2)).as("disconnected").isZero();
            assertThat(flowTable(p1)).as("disconnected").isZero();
        }
    }

    @Test
    void aMaskTheOperatorSetIsKept() throws Exception {
        try (TestBed bed = TestBed.create(2, Hook.TC).with(o -> o.withReceiveSteering(true))) {
            String p1 = bed.lab.rootDevice("p1");
            Files.writeString(rpsFile(p1), "1");
            Engine e = bed.start();
            e.apply(wire(bed.dev(1), bed.dev(2)));
            assertThat(rootMask(p1)).isEqualTo(BigInteger.ONE);
            assertThat(rootMask(bed.lab.rootDevice("p2"))).isEqualTo(online());
            e.apply(Topology.EMPTY);
            assertThat(rootMask(p1)).as("still the operator's").isEqualTo(BigInteger.ONE);
        }
    }

    @Test
    void offByDefaultTheMasksAreLeftAlone() throws Exception {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            assertThat(bed.options.receiveSteering()).isFalse();
            bed.start().apply(wire(bed.dev(1), bed.dev(2)));
            assertThat(rootMask(bed.lab.rootDevice("p1"))).isZero();
            assertThat(rootMask(bed.lab.rootDevice("p2"))).isZero();
        }
    }

    @Test
    void devicesInAnotherNamespaceAreSteeredThroughTheirOwnSysfs() throws Exception {
        try (TestBed bed = TestBed.create(2, Hook.TC, true).with(o -> o.withReceiveSteering(true))) {
            Engine e = bed.start();
            e.apply(wire(bed.dev(1), bed.dev(2)));
            assertThat(namespacedMask(bed.deviceNetns, "p1")).isEqualTo(online());
            assertThat(namespacedMask(bed.deviceNetns, "p2")).isEqualTo(online());
            e.apply(Topology.EMPTY);
            assertThat(namespacedMask(bed.deviceNetns, "p1")).isZero();
        }
    }

    @Test
    void adoptionSteersDevicesAttachedBefore() throws Exception {
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            bed.start().apply(wire(bed.dev(1), bed.dev(2)));
            bed.engine.close(); // the objects stay
            assertThat(rootMask(bed.lab.rootDevice("p1"))).isZero();
            bed.engine = Engine.start(bed.options.withReceiveSteering(true), TestModules.catalog());
            assertThat(rootMask(bed.lab.rootDevice("p1"))).isEqualTo(online());
        }
    }

    @Test
    void masksAreWrittenAndReadAsSysfsDoes() {
        assertThat(ReceiveSteering.formatMask(BigInteger.valueOf(3))).isEqualTo("00000003");
        BigInteger forty = BigInteger.ONE.shiftLeft(40).subtract(BigInteger.ONE);
        assertThat(ReceiveSteering.formatMask(forty)).isEqualTo("000000ff,ffffffff");
        assertThat(ReceiveSteering.parseMask("ff,ffffffff\n")).isEqualTo(forty);
        assertThat(ReceiveSteering.parseMask("0\n")).isZero();
        assertThat(ReceiveSteering.parseCpuList("0-3,6\n")).isEqualTo(BigInteger.valueOf(0b1001111));
        assertThat(ReceiveSteering.parseCpuList("0")).isEqualTo(BigInteger.ONE);
    }
}

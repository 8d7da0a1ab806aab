package io.jvisor.bench;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.link.BpfLink;
import io.jvisor.bpf.link.TcxDirection;
import io.jvisor.net.MacAddress;
import io.jvisor.net.Rtnl;
import io.jvisor.net.lab.Host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What the packet-rate benchmarks share ({@link RouterPpsBench}, {@link FirewallBench}) besides their
 * {@link PacketGenerator}: the 60-byte UDP frame it sends, GRO (which a veth needs to take XDP_TX
 * frames), the receivers' tc drop, and the device counters read in a host's namespace.
 */
final class PacketRate {
    private PacketRate() {}

    /**
     * Ethernet to the next hop (the gateway, or the receiver when they share a subnet), IPv4 from
     * the sender to the receiver, TTL 64, UDP port 9 to 9 with no checksum, 18 bytes of payload:
     * 60 bytes, 64 on the wire with the FCS. The next hop's MAC comes from the sender's neighbour
     * table, so resolve it first (a ping).
     */
    static byte[] frame(Host from, Host to) {
        InetAddress src = from.address();
        InetAddress dst = to.address();
        MacAddress own;
        MacAddress next;
        try (Rtnl rtnl = Rtnl.open(from.netns())) {
            own = rtnl.link("eth0").mac().orElseThrow();
            InetAddress hop = from.spec().gateway() != null ? from.spec().gateway() : dst;
            next = rtnl.neighbours().stream().filter(n -> n.address().equals(hop) && n.mac().isPresent())
                    .map(n -> n.mac().get()).findFirst()
                    .orElseThrow(() -> new IllegalStateException(from + " has no neighbour entry for " + hop));
        }
        ByteBuffer b = ByteBuffer.allocate(60);
        b.put(next.bytes()).put(own.bytes()).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 46).putShort((short) 0).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(src.getAddress()).put(dst.getAddress());
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((b.get(i) & 0xff) << 8) | (b.get(i + 1) & 0xff);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        b.putShort(24, (short) ~sum);
        b.position(34);
        b.putShort((short) 9).putShort((short) 9).putShort((short) 26).putShort((short) 0);
        return b.array();
    }

    /** Turns GRO on or off for a veth end (in the host's namespace, or the root one for null); on enables its NAPI. */
    static void gro(Host h, String dev, boolean on) {
        List<String> cmd = List.of("ethtool", "-K", dev, "gro", on ? "on" : "off");
        try {
            Process p = h == null ? new ProcessBuilder(cmd).start() : h.exec(cmd);
            p.getOutputStream().close();
            String err = new String(p.getErrorStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + (h == null ? "" : " in " + h) + " failed: " + err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        }
    }

    /**
     * The receivers' drops: a tcx ingress program on eth0 that returns TC_ACT_SHOT. veth counts a
     * frame as received before any hook runs, so rx_packets still counts it.
     */
    static final class Drops implements AutoCloseable {
        private final BpfProgram drop = BpfProgram.load(ProgramSpec.of("pps_drop", ProgramType.SCHED_CLS,
                AttachType.TCX_INGRESS, new Asm().mov64(Register.R0, 2).exit().build()));
        private final Map<String, BpfLink> links = new LinkedHashMap<>();

        void on(Host h) {
            int ifindex;
            try (Rtnl rtnl = Rtnl.open(h.netns())) {
                ifindex = rtnl.ifindex("eth0");
            }
            links.put(h.name(), h.netns().run(() -> BpfLink.tcx(drop, ifindex, TcxDirection.INGRESS)));
        }

        void off(Host h) {
            BpfLink l = links.remove(h.name());
            if (l != null) {
                l.close();
            }
        }

        @Override
        public void close() {
            links.values().forEach(BpfLink::close);
            links.clear();
            drop.close();
        }
    }

    /** A device's counters from {@code /proc/net/dev}. */
    record DevCounters(long rxPackets, long rxDropped, long txPackets, long txDropped) {}

    /**
     * {@code dev}'s counters in the host's namespace (/proc/thread-self/net/dev of a thread inside
     * it), or in this thread's namespace for a null host (the root namespace, for a lab's root ends).
     */
    static DevCounters counters(Host h, String dev) {
        Supplier<String> read = () -> {
            try {
                return Files.readString(Path.of("/proc/thread-self/net/dev"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        String table = h == null ? read.get() : h.netns().run(read::get);
        for (String line : table.split("\n")) {
            String t = line.trim();
            if (t.startsWith(dev + ":")) {
                // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop ...
                String[] f = t.substring(dev.length() + 1).trim().split("\\s+");
                return new DevCounters(Long.parseLong(f[1]), Long.parseLong(f[3]), Long.parseLong(f[9]),
                        Long.parseLong(f[11]));
            }
        }
        throw new IllegalStateException("no " + dev + " in " + (h == null ? "the root namespace" : h) + ": " + table);
    }

    /** eth0's rx_packets in the host's namespace. */
    static long rxPackets(Host h) {
        return counters(h, "eth0").rxPackets();
    }
}

package io.jvisor.engine;

import io.jvisor.net.Netns;
import io.jvisor.net.sys.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Receive packet steering (RPS) on the veths that the engine's tc entries sit on, when
 * {@link EngineOptions#receiveSteering} is on (it is off by default).
 *
 * <p>A veth has no receive hash of its own: a frame that one end transmits is queued on the
 * per-CPU backlog of whichever CPU transmitted it. A TCP sender transmits from its process's CPU
 * and from softirqs on other CPUs (its pacing timer, ACKs it processes), so consecutive segments
 * of one flow wait on two backlogs that drain independently and reach the engine out of order: a
 * segment sent by the pacing timer waits until the timer softirq ends, while the other CPU sends
 * and delivers the next ones. The sender's RACK, whose reordering window is a fraction of the
 * minimum RTT (microseconds on the engine's direct path), then retransmits segments that were
 * never lost (docs/benchmarks.md, "TCP retransmits through the engine"). With an RPS
 * mask on the device's receive queues the kernel picks the backlog by the flow's hash instead:
 * one flow, one CPU, in order. It also gives each queue a flow table ({@code rps_flow_cnt}), so
 * that where the operator turned receive flow steering on ({@code net.core.rps_sock_flow_entries},
 * a host-wide setting the engine leaves alone) a flow follows the CPU of the application that reads
 * it, and moves only once its packets queued on the old CPU are through: in order still, and the
 * forwarding work lands where the reader runs rather than on one hashed CPU.
 *
 * <p>Only a veth whose other end is in another namespace is steered (the engine's own pairs and
 * other device kinds are left alone), and only when none of its receive queues has a mask yet: a
 * mask the operator set wins. {@link #release} clears the mask again if it is still the one
 * {@link #spread} wrote. Both are best effort: a device that cannot be steered forwards as before.
 */
final class ReceiveSteering {
    private static final Logger LOG = LoggerFactory.getLogger(ReceiveSteering.class);
    private static final int CLONE_NEWNS = 0x00020000;
    /** Flow table entries per receive queue: a veth carries one host's flows; 8 bytes each. */
    static final int FLOWS_PER_QUEUE = 2048;

    private ReceiveSteering() {}

    /**
     * Sets every receive queue of device d to steer over all online CPUs, if d (as {@code link}
     * describes it, from the apply's {@link DeviceDirectory}) is a veth whose other end is in another
     * namespace and no queue has a mask yet. Returns whether it wrote one.
     */
    static boolean spread(Endpoint.Device d, java.util.function.Supplier<io.jvisor.net.Link> link) {
        try {
            io.jvisor.net.Link l = link.get();
            boolean veth = "veth".equals(l.kind()) && l.linkNetnsId().isPresent();
            BigInteger cpus = onlineCpus();
            if (!veth || cpus.bitCount() < 2) {
                return false;
            }
            return withSysfs(d, sys -> {
                List<Path> queues = rxQueues(sys, d.name());
                if (queues.isEmpty() || queues.stream().anyMatch(q -> read(q).signum() != 0)) {
                    return false; // no RPS in this kernel, or the operator's mask
                }
                for (Path q : queues) {
                    write(q, cpus);
                    Path flows = q.resolveSibling("rps_flow_cnt");
                    if (Files.exists(flows) && readLong(flows) == 0) {
                        writeString(flows, Integer.toString(FLOWS_PER_QUEUE));
                    }
                }
                return true;
            });
        } catch (RuntimeException e) {
            LOG.warn("device {}: cannot set receive packet steering ({}); TCP through it may be reordered", d,
                    e.getMessage());
            return false;
        }
    }

    /** Clears the masks of device d that are still the ones {@link #spread} wrote; a device gone is fine. */
    static void release(Endpoint.Device d) {
        try {
            BigInteger cpus = onlineCpus();
            withSysfs(d, sys -> {
                for (Path q : rxQueues(sys, d.name())) {
                    if (read(q).equals(cpus)) {
                        write(q, BigInteger.ZERO);
                        Path flows = q.resolveSibling("rps_flow_cnt");
                        if (Files.exists(flows) && readLong(flows) == FLOWS_PER_QUEUE) {
                            writeString(flows, "0");
                        }
                    }
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOG.debug("device {}: receive packet steering left as it is ({})", d, e.getMessage());
        }
    }

    /** The rps_cpus files of the device's receive queues, none when it or RPS is not there. */
    private static List<Path> rxQueues(Path sys, String device) {
        Path dir = sys.resolve("class/net").resolve(device).resolve("queues");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("rx-")).map(p -> p.resolve("rps_cpus"))
                    .filter(Files::exists).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A cpumask as sysfs prints it: hex words of 32 bits, most significant first, comma-separated. */
    static BigInteger parseMask(String s) {
        String hex = s.replace(",", "").strip();
        return hex.isEmpty() ? BigInteger.ZERO : new BigInteger(hex, 16);
    }

    static String formatMask(BigInteger mask) {
        String hex = mask.toString(16);
        int words = Math.max(1, (hex.length() + 7) / 8);
        hex = "0".repeat(words * 8 - hex.length()) + hex;
        StringBuilder out = new StringBuilder();
        for (int w = 0; w < words; w++) {
            out.append(w == 0 ? "" : ",").append(hex, w * 8, w * 8 + 8);
        }
        return out.toString();
    }

    /** A CPU list as /sys/devices/system/cpu/online gives it ("0-3,6") as a mask. */
    static BigInteger parseCpuList(String list) {
        BigInteger mask = BigInteger.ZERO;
        for (String part : list.strip().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            String[] ends = part.split("-");
            int from = Integer.parseInt(ends[0].strip());
            int to = ends.length > 1 ? Integer.parseInt(ends[1].strip()) : from;
            for (int c = from; c <= to; c++) {
                mask = mask.setBit(c);
            }
        }
        return mask;
    }

    private static BigInteger onlineCpus() {
        try {
            return parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BigInteger read(Path q) {
        try {
            return parseMask(Files.readString(q));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path q, BigInteger mask) {
        writeString(q, formatMask(mask));
    }

    private static long readLong(Path f) {
        try {
            return Long.parseLong(Files.readString(f).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeString(Path f, String value) {
        try {
            Files.writeString(f, value);
        } catch (IOException e) {
            throw new UncheckedIOException("write " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs f with the sysfs that shows the device's namespace. /sys/class/net lists the devices of
     * the namespace that mounted sysfs, so a device in another namespace is reached through a sysfs
     * mounted there: on a throw-away thread that joins the namespace, unshares its mount namespace
     * (made private, so nothing propagates back) and mounts sysfs over /sys. The mount goes with the
     * thread.
     */
    private static <T> T withSysfs(Endpoint.Device d, Function<Path, T> f) {
        if (d.netns() == null) {
            return f.apply(Path.of("/sys"));
        }
        try (Netns ns = Netns.open(d.netns())) {
            return ns.run(() -> {
                var out = new Object() {
                    T value;
                    RuntimeException error;
                };
                Thread t = Thread.ofPlatform().name("jvisor-sysfs-" + d.name()).start(() -> {
                    try {
                        check(Libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
                        check(Libc.mount(null, "/", null, Libc.MS_REC | Libc.MS_PRIVATE), "make / private");
                        check(Libc.mount("sysfs", "/sys", "sysfs", 0), "mount sysfs");
                        out.value = f.apply(Path.of("/sys"));
                    } catch (RuntimeException e) {
                        out.error = e;
                    }
                });
                t.join();
                if (out.error != null) {
                    throw out.error;
                }
                return out.value;
            });
        }
    }

    private static void check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + ": " + io.jvisor.bpf.Errno.name(-r));
        }
    }
}

package io.jvisor.net.lab;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Times {@link Lab#up} for N hosts on one root bridge, the topology {@code bench-lab.sh} also builds
 * with {@code ip} commands: per host a namespace, a veth wire enslaved to the bridge, loopback up,
 * one address, a default route and net.ipv4.ip_forward=1. Not a test; run through bench-lab.sh.
 *
 * <p>Arguments: hosts (default 50), rounds (default 5). Prints one line per round and a summary;
 * the first round includes class loading and JIT warm-up, so it is reported apart.
 */
public final class LabSetupBenchmark {
    private LabSetupBenchmark() {}

    /** Builds the benchmark topology for {@code hosts} hosts on network {@code net} ("10.x.y."). */
    static LabSpec spec(int hosts, String net) {
        LabSpec spec = LabSpec.empty().withBridge("br0");
        for (int i = 1; i <= hosts; i++) {
            spec = spec.withHost(HostSpec.named("h" + i).withInterface("eth0", net + i + "/24").withGateway(net + "254")
                            .withSysctl("net.ipv4.ip_forward", "1"))
                    .withWire(WireSpec.toRoot("h" + i + ":eth0", "p" + i, "br0"));
        }
        return spec;
    }

    /** Entry point: {@code [hosts] [rounds]}. */
    public static void main(String[] args) {
        int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        if (hosts < 1 || hosts > 250) {
            throw new IllegalArgumentException("hosts must be 1..250: " + hosts);
        }
        ThreadLocalRandom r = ThreadLocalRandom.current();
        String net = "10." + r.nextInt(1, 255) + "." + r.nextInt(0, 256) + ".";
        LabSpec spec = spec(hosts, net);
        List<Double> ups = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            long t0 = System.nanoTime();
            Lab lab = Lab.up(spec);
            long t1 = System.nanoTime();
            lab.close();
            long t2 = System.nanoTime();
            double up = (t1 - t0) / 1e6;
            System.out.printf("java round %d: %d hosts up in %.1f ms, down in %.1f ms%n", round, hosts, up, (t2 - t1) / 1e6);
            ups.add(up);
        }
        List<Double> warm = new ArrayList<>(ups.subList(Math.min(1, ups.size() - 1), ups.size()));
        warm.sort(null);
        System.out.printf("java summary: %d hosts, first round %.1f ms, median of rounds 2..%d %.1f ms%n",
                hosts, ups.getFirst(), rounds, warm.get(warm.size() / 2));
    }
}

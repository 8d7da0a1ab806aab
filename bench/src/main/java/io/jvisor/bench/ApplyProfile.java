package io.jvisor.bench;

import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.Plan;
import io.jvisor.engine.Topology;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * One {@link Engine#apply} and one destroy of {@link ApplyTimeBench}'s topology, with a marker line
 * ({@code MARK phase}) on stdout at every phase boundary, for a syscall trace to split by phase:
 * {@code bench/strace-phases.py} sums the time of each kind of syscall (BPF command, program and map
 * by name, netlink, setns, pins) between the markers. Prints each phase's wall time and the process's
 * CPU time (user + system) meanwhile, which separates work from waiting (RCU grace periods) when the
 * machine is shared.
 *
 * <pre>
 * strace -f -qq -ttt -T --seccomp-bpf -o TRACE -e trace=bpf,setns,unshare,sendto,recvfrom,sendmsg,recvmsg,write,unlink,unlinkat,close,clone3 \
 *   java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.ApplyProfile [--instances N] [--devices N] [--light]
 * python3 bench/strace-phases.py TRACE
 * </pre>
 */
public final class ApplyProfile {
    private ApplyProfile() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("ApplyProfile", "[--instances N] [--devices N] [--light]", args,
                List.of("--light"), List.of("--instances", "--devices"));
        if (a == null) {
            return;
        }
        int instances = a.intOr("--instances", 100);
        int devices = a.intOr("--devices", 301);
        PrintStream out = System.out;
        EngineOptions options = EngineBenchSupport.engineOptions("jvap");
        Engine engine = null;
        try (EngineBenchSupport.ScratchNetns ns = EngineBenchSupport.ScratchNetns.create("jvap", (devices + 1) / 2)) {
            // --light: relay8 only (verified in about a millisecond), so that the engine's own costs show
            Topology topology = ApplyTimeBench.topology(instances, devices, ns.name(),
                    a.has("--light") ? List.of("relay8") : ApplyTimeBench.TYPES);
            mark(out, "start");
            long[] t = now();
            engine = Engine.start(options, ApplyTimeBench.catalog());
            t = phase(out, "start", t);
            mark(out, "apply");
            Plan plan = engine.apply(topology);
            t = phase(out, "apply", t);
            out.println("changes " + plan.changes().size());
            mark(out, "destroy");
            Engine e = engine;
            engine = null;
            e.destroy();
            phase(out, "destroy", t);
            mark(out, "end");
        } finally {
            EngineBenchSupport.destroyQuietly(engine, options, out);
        }
    }

    private static void mark(PrintStream out, String phase) {
        out.println("MARK " + phase);
        out.flush();
    }

    /** {wall ns, process CPU ns}. */
    private static long[] now() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return new long[] {System.nanoTime(), os.getProcessCpuTime()};
    }

    private static long[] phase(PrintStream out, String name, long[] since) {
        long[] n = now();
        out.printf(Locale.ROOT, "phase %s wall_ms=%.1f cpu_ms=%.1f%n", name, (n[0] - since[0]) / 1e6,
                (n[1] - since[1]) / 1e6);
        out.flush();
        return now();
    }
}

package io.jvisor.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Collection;
import java.util.List;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A JMH profiler that reports the process's user and system CPU time per operation
 * ({@code getrusage(RUSAGE_SELF)} around each iteration), as {@code cpu.user} and {@code cpu.sys}
 * in ns/op. The C peer reports the same two figures, so the comparison can tell the kernel's share
 * (system time, the same work on both sides) from the caller's (user time: libbpf and libc, or
 * jvisor and the FFM downcall). CPU time is also much less disturbed than wall time by other
 * processes on a shared machine.
 *
 * <p>It counts every thread of the benchmark JVM; once warmed up, the JIT and GC threads are idle
 * (the measured code allocates nothing), so the figure is the benchmark thread's.
 */
public final class CpuTimeProfiler implements InternalProfiler {
    private static final int RUSAGE_SELF = 0;
    /** struct rusage: two struct timeval (long tv_sec, long tv_usec) then 14 longs. */
    private static final long RUSAGE_SIZE = 144;
    private static final MethodHandle GETRUSAGE = getrusage();

    @SuppressWarnings("restricted") // the benchmark JVMs run with --enable-native-access
    private static MethodHandle getrusage() {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find("getrusage").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    private final MemorySegment usage = Arena.ofAuto().allocate(RUSAGE_SIZE, 8);
    private long userStart;
    private long sysStart;

    @Override
    public String getDescription() {
        return "user and system CPU time of the process per operation (getrusage)";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        read();
        userStart = micros(0);
        sysStart = micros(16);
    }

    @Override
    @SuppressWarnings("rawtypes") // InternalProfiler's signature
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                       IterationResult result) {
        read();
        long ops = result.getMetadata().getAllOps();
        if (ops <= 0) {
            return List.of();
        }
        double user = (micros(0) - userStart) * 1000.0 / ops;
        double sys = (micros(16) - sysStart) * 1000.0 / ops;
        return List.of(new ScalarResult("cpu.user", user, "ns/op", AggregationPolicy.AVG),
                new ScalarResult("cpu.sys", sys, "ns/op", AggregationPolicy.AVG));
    }

    private void read() {
        try {
            int r = (int) GETRUSAGE.invokeExact(RUSAGE_SELF, usage);
            if (r != 0) {
                throw new IllegalStateException("getrusage failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The struct timeval at {@code offset}, in microseconds. */
    private long micros(long offset) {
        return usage.get(JAVA_LONG, offset) * 1_000_000L + usage.get(JAVA_LONG, offset + 8);
    }
}

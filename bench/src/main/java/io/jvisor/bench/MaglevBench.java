package io.jvisor.bench;

import io.jvisor.modules.lb.Maglev;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Building the lb module's Maglev table in Java ({@link Maglev#table}): 1,000 backends (and 100, for
 * scale) into the default 65,537-slot table, equal or mixed weights (1..10). What a control plane
 * pays each time a service's backends change, before the table goes to the kernel.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar MaglevBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MaglevBench {
    @Param({"100", "1000"})
    public int backends;

    @Param({"equal", "mixed"})
    public String weights;

    @Param({"65537"})
    public int size;

    private List<Maglev.Backend> list;

    @Setup
    public void setUp() {
        list = new ArrayList<>();
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < backends; i++) {
            list.add(new Maglev.Backend("10." + (i >> 8 & 255) + "." + (i & 255) + ".1:8080",
                    weights.equals("equal") ? 1 : 1 + r.nextInt(10)));
        }
    }

    @Benchmark
    public int[] build() {
        return Maglev.table(list, size);
    }
}

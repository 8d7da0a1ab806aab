package io.jvisor.bench;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.UpdateFlag;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hash-map element operations through jvisor's allocation-free {@link MemorySegment} API. The C
 * peer, {@code src/main/c/map_ops.c}, runs the same loops through libbpf; {@link CompareMapOps}
 * runs both in one run and prints the ratios.
 *
 * <p>The map: {@code BPF_MAP_TYPE_HASH}, 4-byte key, 8-byte value, {@link #ENTRIES} entries,
 * prefilled with keys {@code 0..ENTRIES-1}. Single operations walk the keys in order, so every
 * lookup hits and every update replaces. Batch operations do a whole-map pass per invocation and
 * are reported per element ({@link OperationsPerInvocation}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@State(Scope.Thread)
public class MapOpsBench {
    /** Map size, a power of two; the C peer gets the same. */
    public static final int ENTRIES = 1 << 16;
    private static final int MASK = ENTRIES - 1;

    private Arena arena;
    private BpfMap map;
    private MemorySegment key;
    private MemorySegment value;
    /** All keys 0..ENTRIES-1 and values equal to them, back to back. */
    private MemorySegment allKeys;
    private MemorySegment allValues;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        map = BpfMap.create(MapSpec.hash("jvbench_java", 4, 8, ENTRIES));
        key = arena.allocate(JAVA_INT);
        value = arena.allocate(JAVA_LONG);
        allKeys = arena.allocate(JAVA_INT, ENTRIES);
        allValues = arena.allocate(JAVA_LONG, ENTRIES);
        for (int i = 0; i < ENTRIES; i++) {
            allKeys.setAtIndex(JAVA_INT, i, i);
            allValues.setAtIndex(JAVA_LONG, i, i);
        }
        int stored = map.updateBatch(allKeys, allValues, ENTRIES, UpdateFlag.ANY);
        if (stored != ENTRIES) {
            throw new IllegalStateException("prefill stored " + stored + " of " + ENTRIES);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        map.close();
        arena.close();
    }

    /** BPF_MAP_LOOKUP_ELEM of a present key. */
    @Benchmark
    public long lookup() {
        int i = next = (next + 1) & MASK;
        key.set(JAVA_INT, 0, i);
        if (!map.lookup(key, value)) {
            throw new IllegalStateException("key " + i + " is missing");
        }
        return value.get(JAVA_LONG, 0);
    }

    /** BPF_MAP_UPDATE_ELEM (ANY) of a present key. */
    @Benchmark
    public void update() {
        int i = next = (next + 1) & MASK;
        key.set(JAVA_INT, 0, i);
        value.set(JAVA_LONG, 0, i);
        map.update(key, value, UpdateFlag.ANY);
    }

    /** Per-batch-size buffers; only the batch benchmarks use it, so only they get the parameter. */
    @State(Scope.Thread)
    public static class Batch {
        @Param({"256", "1024"})
        public int batch;

        MemorySegment[] keySlices;
        MemorySegment[] valueSlices;
        MemorySegment outKeys;
        MemorySegment outValues;
        MemorySegment inToken;
        MemorySegment outToken;
        private Arena arena;

        @Setup(Level.Trial)
        public void setUp(MapOpsBench bench) {
            if (batch <= 0 || ENTRIES % batch != 0) {
                throw new IllegalArgumentException("batch " + batch + " must divide " + ENTRIES);
            }
            int calls = ENTRIES / batch;
            keySlices = new MemorySegment[calls];
            valueSlices = new MemorySegment[calls];
            for (int c = 0; c < calls; c++) {
                keySlices[c] = bench.allKeys.asSlice((long) c * batch * Integer.BYTES, (long) batch * Integer.BYTES);
                valueSlices[c] = bench.allValues.asSlice((long) c * batch * Long.BYTES, (long) batch * Long.BYTES);
            }
            arena = Arena.ofShared();
            outKeys = arena.allocate(JAVA_INT, batch);
            outValues = arena.allocate(JAVA_LONG, batch);
            inToken = arena.allocate(JAVA_LONG);
            outToken = arena.allocate(JAVA_LONG);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** A whole-map pass of BPF_MAP_UPDATE_BATCH, {@code batch} keys a call; time per element. */
    @Benchmark
    @OperationsPerInvocation(ENTRIES)
    public int updateBatch(Batch b) {
        int stored = 0;
        for (int c = 0; c < b.keySlices.length; c++) {
            stored += map.updateBatch(b.keySlices[c], b.valueSlices[c], b.batch, UpdateFlag.ANY);
        }
        return stored;
    }

    /** A whole-map walk of BPF_MAP_LOOKUP_BATCH, up to {@code batch} entries a call; time per element. */
    @Benchmark
    @OperationsPerInvocation(ENTRIES)
    public long lookupBatch(Batch b) {
        long total = 0;
        // Walk until the kernel says the walk is complete (ENOENT), as the C peer does.
        BpfMap.BatchChunk chunk = map.lookupBatch(null, b.outToken, b.outKeys, b.outValues, b.batch);
        total += chunk.count();
        while (!chunk.last()) {
            MemorySegment.copy(b.outToken, 0, b.inToken, 0, Long.BYTES);
            chunk = map.lookupBatch(b.inToken, b.outToken, b.outKeys, b.outValues, b.batch);
            total += chunk.count();
        }
        if (total != ENTRIES) {
            throw new IllegalStateException("lookupBatch walked " + total + " entries, expected " + ENTRIES);
        }
        return total + b.outValues.get(JAVA_LONG, 0);
    }
}

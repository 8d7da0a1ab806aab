package io.jvisor.bpf.ringbuf;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Fd;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static io.jvisor.bpf.asm.Register.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RequiresRoot
class RingBufReaderTest {
    /** What the programs return; a socket filter's return value is just reported back by the test run. */
    private static final int RETURN = 2;
    private static final byte[] FRAME = new byte[64];

    // ---- the programs under test -----------------------------------------------------------

    /**
     * Per run: {@code seq = ++counters[0].seq} (atomic fetch-add), then emits {@code payload} bytes
     * holding seq in every 8-byte slot through bpf_ringbuf_output; a failed output increments
     * {@code counters[0].drops}. The counters value is 16 bytes: seq at 0, drops at 8.
     */
    private static List<Instruction> outputProgram(int payload) {
        Asm a = new Asm();
        lookupAndNextSeq(a); // R6 = value pointer, R7 = seq
        for (int off = -payload; off < 0; off += 8) {
            a.stx(Opcodes.DW, R10, off, R7);
        }
        a.ldMap(R1, "events")
                .mov64(R2, R10).add64(R2, -payload)
                .mov64(R3, payload)
                .mov64(R4, 0)
                .call(Helper.RINGBUF_OUTPUT)
                .jmp(Opcodes.JEQ, R0, 0, "out");
        countDrop(a);
        return a.label("out").mov64(R0, RETURN).exit().build();
    }

    /**
     * Per run: reserves 8 bytes, writes seq, then submits even sequence numbers and discards odd
     * ones (bpf_ringbuf_reserve / submit / discard). A failed reserve counts as a drop.
     */
    private static List<Instruction> discardOddProgram() {
        Asm a = new Asm();
        lookupAndNextSeq(a);
        a.ldMap(R1, "events").mov64(R2, 8).mov64(R3, 0)
                .call(Helper.RINGBUF_RESERVE)
                .jmp(Opcodes.JNE, R0, 0, "reserved");
        countDrop(a);
        return a.ja("out")
                .label("reserved")
                .stx(Opcodes.DW, R0, 0, R7)
                .mov64(R1, R0).mov64(R2, 0)
                .jmp(Opcodes.JSET, R7, 1, "discard")
                .call(Helper.RINGBUF_SUBMIT)
                .ja("out")
                .label("discard")
                .call(Helper.RINGBUF_DISCARD)
                .label("out").mov64(R0, RETURN).exit()
                .build();
    }

    private static void lookupAndNextSeq(Asm a) {
        a.st(Opcodes.W, R10, -4, 0)
                .mov64(R2, R10).add64(R2, -4)
                .ldMap(R1, "counters")
                .call(Helper.MAP_LOOKUP_ELEM)
                .jmp(Opcodes.JEQ, R0, 0, "out")
                .mov64(R6, R0)
                .mov64(R7, 1)
                // R7 = atomic_fetch_add(&value->seq, R7): BPF_ATOMIC | BPF_FETCH returns the old value
                .raw(new Instruction(Opcodes.STX | Opcodes.DW | Opcodes.ATOMIC, R6, R7, 0, Opcodes.ADD | Opcodes.FETCH))
                .add64(R7, 1);
    }

    private static void countDrop(Asm a) {
        a.mov64(R1, 1).atomicAdd(Opcodes.DW, R6, 8, R1);
    }

    /**
     * A ring buffer, the counters array and a loaded program, closed together. The program is a
     * socket filter because on this kernel an XDP test run with repeat > 1 costs a fixed ~16 ms per
     * call, which would make the paced measurement impossible; a socket filter's costs ~20-80 µs.
     */
    private record Rig(BpfMap events, BpfMap counters, BpfProgram program) implements AutoCloseable {
        static Rig create(int ringBytes, List<Instruction> code) {
            BpfMap events = BpfMap.create(MapSpec.ringBuf(Names.unique("rb"), ringBytes));
            BpfMap counters = null;
            try {
                counters = BpfMap.create(MapSpec.array(Names.unique("rbcnt"), 16, 1));
                BpfProgram p = BpfProgram.load(ProgramSpec.of("rb_emit", ProgramType.SOCKET_FILTER, null, code),
                        Map.of("events", events, "counters", counters), LoadOptions.DEFAULT);
                return new Rig(events, counters, p);
            } catch (RuntimeException e) {
                if (counters != null) {
                    counters.close();
                }
                events.close();
                throw e;
            }
        }

        void run(int repeat) {
            assertThat(program.testRun(TestRun.of(FRAME).withRepeat(repeat)).returnValue()).isEqualTo(RETURN);
        }

        long emitted() {
            return counter(0);
        }

        long drops() {
            return counter(8);
        }

        private long counter(int offset) {
            byte[] v = counters.lookup(new byte[4]).orElseThrow();
            return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
        }

        @Override
        public void close() {
            program.close();
            counters.close();
            events.close();
        }
    }

    /** Collects 8-byte sequence numbers and checks they strictly increase. */
    private static final class Sequence implements RecordHandler, RawRecordHandler {
        final long[] seen;
        int count;
        long last;
        int outOfOrder;
        int badLength;

        Sequence(int capacity) {
            seen = new long[capacity];
        }

        @Override
        public void onRecord(MemorySegment record) {
            if (record.byteSize() < 8) {
                badLength++;
                return;
            }
            add(record.get(JAVA_LONG, 0));
        }

        @Override
        public void onRecord(MemorySegment ring, long offset, int length) {
            if (length < 8) {
                badLength++;
                return;
            }
            add(ring.get(JAVA_LONG, offset));
        }

        private void add(long seq) {
            if (seq <= last) {
                outOfOrder++;
            }
            last = seq;
            if (count < seen.length) {
                seen[count] = seq;
            }
            count++;
        }
    }

    // ---- tests -----------------------------------------------------------------------------

    @Test
    void deliversEveryEventInOrderWhenTheRingHoldsThemAll() {
        int n = 10_000;
        try (Rig rig = Rig.create(256 * 1024, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            assertThat(reader.ringSize()).isEqualTo(256 * 1024);
            rig.run(n);
            assertThat(reader.available()).isEqualTo(16L * n); // 8-byte header + 8-byte payload each

            Sequence seq = new Sequence(n);
            int got = reader.poll(Duration.ofSeconds(5), seq);

            assertThat(got).isEqualTo(n);
            assertThat(seq.count).isEqualTo(n);
            assertThat(seq.outOfOrder).isZero();
            assertThat(seq.badLength).isZero();
            for (int i = 0; i < n; i++) {
                assertThat(seq.seen[i]).as("event %d", i).isEqualTo(i + 1);
            }
            assertThat(rig.emitted()).isEqualTo(n);
            assertThat(rig.drops()).isZero();
            assertThat(reader.recordsConsumed()).isEqualTo(n);
            assertThat(reader.bytesConsumed()).isEqualTo(8L * n);
            assertThat(reader.available()).isZero();
            assertThat(reader.drain(seq)).isZero();
        }
    }

    @Test
    void concurrentReaderOnASmallRingAccountsForEveryEvent() throws Exception {
        int n = 200_000;
        // One page holds 255 records of 16 bytes, far fewer than n: the reader must keep draining.
        try (Rig rig = Rig.create(4096, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            Sequence seq = new Sequence(n);
            AtomicBoolean done = new AtomicBoolean();
            CompletableFuture<Void> consumer = CompletableFuture.runAsync(() -> {
                while (!done.get()) {
                    reader.pollRaw(Duration.ofMillis(100), seq);
                }
                reader.drainRaw(seq); // everything the finished run committed
            }, runnable -> Thread.ofPlatform().name("rb-consumer").start(runnable));

            rig.run(n);
            done.set(true);
            reader.wakeup();
            consumer.get(60, TimeUnit.SECONDS);

            long drops = rig.drops();
            System.out.printf("[ringbuf] small ring, concurrent reader: %d of %d events received, %d dropped by the "
                    + "kernel (ring full)%n", seq.count, n, drops);
            assertThat(rig.emitted()).isEqualTo(n);
            assertThat(seq.outOfOrder).isZero();
            assertThat(seq.badLength).isZero();
            assertThat(seq.count + drops).isEqualTo(n);
            assertThat(seq.count).isPositive();
            for (int i = 0; i < Math.min(seq.count, n); i++) {
                assertThat(seq.seen[i]).isBetween(1L, (long) n);
            }
            assertThat(reader.recordsConsumed()).isEqualTo(seq.count);
            assertThat(reader.available()).isZero();
        }
    }

    @Test
    void discardedRecordsAreSkipped() {
        int n = 1000;
        try (Rig rig = Rig.create(64 * 1024, discardOddProgram()); RingBufReader reader = RingBufReader.open(rig.events())) {
            rig.run(n);
            Sequence seq = new Sequence(n);
            int got = reader.drain(seq);

            assertThat(rig.drops()).isZero();
            assertThat(got).isEqualTo(n / 2);
            assertThat(seq.outOfOrder).isZero();
            for (int i = 0; i < n / 2; i++) {
                assertThat(seq.seen[i]).isEqualTo(2L * (i + 1)); // 2, 4, 6, ...: every odd one was discarded
            }
            assertThat(reader.discardedSkipped()).isEqualTo(n / 2);
            assertThat(reader.recordsConsumed()).isEqualTo(n / 2);
            assertThat(reader.available()).isZero(); // discarded records are consumed too
        }
    }

    @Test
    void recordsThatWrapAroundTheEndOfTheRingArriveWhole() {
        // 40-byte payloads take 48 bytes, which does not divide 4096: records straddle the end of the
        // data area, and the double mapping must make them contiguous.
        int payload = 40;
        int rounds = 20;
        int perRound = 50; // 2400 bytes per round, within the 4095 the ring can hold
        try (Rig rig = Rig.create(4096, outputProgram(payload)); RingBufReader reader = RingBufReader.open(rig.events())) {
            List<String> problems = new ArrayList<>();
            long[] expected = {1};
            for (int r = 0; r < rounds; r++) {
                rig.run(perRound);
                int got = reader.drain(record -> {
                    if (record.byteSize() != payload) {
                        problems.add("length " + record.byteSize());
                        return;
                    }
                    for (int off = 0; off < payload; off += 8) {
                        long v = record.get(JAVA_LONG, off);
                        if (v != expected[0]) {
                            problems.add("seq " + expected[0] + " slot " + off / 8 + " holds " + v);
                        }
                    }
                    expected[0]++;
                });
                assertThat(got).isEqualTo(perRound);
            }
            assertThat(problems).isEmpty();
            assertThat(rig.drops()).isZero();
            assertThat(reader.recordsConsumed()).isEqualTo((long) rounds * perRound);
            assertThat(reader.bytesConsumed()).isEqualTo((long) rounds * perRound * payload);
        }
    }

    @Test
    void pollSleepsUntilARecordArrives() throws Exception {
        try (Rig rig = Rig.create(4096, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            Sequence seq = new Sequence(4);
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(
                    () -> reader.poll(Duration.ofSeconds(30), seq),
                    runnable -> Thread.ofPlatform().name("rb-poll").start(runnable));
            Thread.sleep(200);
            assertThat(polled).isNotDone();
            rig.run(1);
            assertThat(polled.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(seq.seen[0]).isEqualTo(1);
        }
    }

    @Test
    void wakeupInterruptsABlockingPoll() throws Exception {
        try (Rig rig = Rig.create(4096, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            Sequence seq = new Sequence(4);
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(
                    () -> reader.poll(Duration.ofSeconds(60), seq),
                    runnable -> Thread.ofPlatform().name("rb-poll").start(runnable));
            Thread.sleep(200);
            assertThat(polled).isNotDone();
            reader.wakeup();
            assertThat(polled.get(10, TimeUnit.SECONDS)).isZero();

            // A wake-up sent while nobody polls makes the next poll return at once, and only that one.
            reader.wakeup();
            reader.wakeup();
            long t0 = System.nanoTime();
            assertThat(reader.poll(Duration.ofSeconds(60), seq)).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
            t0 = System.nanoTime();
            assertThat(reader.poll(Duration.ofMillis(200), seq)).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        }
    }

    @Test
    void nonRingBufferMapIsRefusedWithAClearMessage() {
        try (BpfMap array = BpfMap.create(MapSpec.array(Names.unique("rbarr"), 8, 4))) {
            int before = Fd.openCount();
            assertThatThrownBy(() -> RingBufReader.open(array))
                    .isInstanceOf(BpfException.class)
                    .hasMessageContaining("open ring buffer reader on array '" + array.name() + "'")
                    .hasMessageContaining("not a ring buffer")
                    .hasMessageContaining("MapSpec.ringBuf");
            assertThat(Fd.openCount()).isEqualTo(before);
        }
        try (BpfMap user = BpfMap.create(MapSpec.of(Names.unique("rbusr"), MapType.USER_RINGBUF, 0, 0, 4096))) {
            assertThatThrownBy(() -> RingBufReader.open(user))
                    .isInstanceOf(BpfException.class)
                    .hasMessageContaining("user_ringbuf")
                    .hasMessageContaining("written by user space");
        }
    }

    @Test
    void closeReleasesEverything() {
        try (Rig rig = Rig.create(4096, outputProgram(8))) {
            int before = Fd.openCount();
            RingBufReader reader = RingBufReader.open(rig.events());
            assertThat(Fd.openCount()).isEqualTo(before + 2); // epoll and eventfd
            rig.run(3);
            AtomicReference<MemorySegment> kept = new AtomicReference<>();
            assertThat(reader.drain(kept::set)).isEqualTo(3);

            reader.close();

            assertThat(reader.isClosed()).isTrue();
            assertThat(Fd.openCount()).isEqualTo(before);
            assertThat(Fd.openDescriptions()).noneMatch(d -> d.contains("ring buffer reader"));
            // A record slice kept past its callback fails cleanly instead of reading unmapped memory.
            assertThatThrownBy(() -> kept.get().get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> reader.drain(r -> { })).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(reader::available).isInstanceOf(IllegalStateException.class);
            reader.wakeup(); // harmless
            reader.close();  // idempotent
            // The map is not the reader's: it still works, and a new reader resumes where the old one stopped.
            rig.run(2);
            try (RingBufReader again = RingBufReader.open(rig.events())) {
                Sequence seq = new Sequence(4);
                assertThat(again.drain(seq)).isEqualTo(2);
                assertThat(seq.seen[0]).isEqualTo(4);
                assertThat(seq.seen[1]).isEqualTo(5);
            }
        }
    }

    @Test
    void closeFromAnotherThreadEndsABlockedPoll() throws Exception {
        try (Rig rig = Rig.create(4096, outputProgram(8))) {
            int before = Fd.openCount();
            RingBufReader reader = RingBufReader.open(rig.events());
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(
                    () -> reader.poll(Duration.ofSeconds(60), r -> { }),
                    runnable -> Thread.ofPlatform().name("rb-poll").start(runnable));
            Thread.sleep(200);
            reader.close(); // wakes the poll, waits for it, then releases
            assertThat(polled.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(Fd.openCount()).isEqualTo(before);
        }
    }

    @Test
    void closeInsideAHandlerStopsDeliveryAndReleasesOnReturn() {
        try (Rig rig = Rig.create(4096, outputProgram(8))) {
            int before = Fd.openCount();
            RingBufReader reader = RingBufReader.open(rig.events());
            rig.run(10);
            int[] calls = {0};
            int got = reader.drain(r -> {
                calls[0]++;
                reader.close();
            });
            assertThat(got).isEqualTo(1);
            assertThat(calls[0]).isEqualTo(1);
            assertThat(Fd.openCount()).isEqualTo(before);
        }
    }

    @Test
    void handlerMayNotReenterAndAThrowingHandlerConsumesItsRecord() {
        try (Rig rig = Rig.create(4096, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            rig.run(3);
            assertThatThrownBy(() -> reader.drain(r -> reader.drain(x -> { })))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("inside one of its record handlers");
            // The first record was consumed by the failed call; the other two are still there.
            Sequence seq = new Sequence(4);
            assertThat(reader.drain(seq)).isEqualTo(2);
            assertThat(seq.seen[0]).isEqualTo(2);
            assertThat(reader.recordsConsumed()).isEqualTo(3);
        }
    }

    @Test
    void negativeTimeoutIsRefused() {
        try (Rig rig = Rig.create(4096, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            assertThatThrownBy(() -> reader.poll(Duration.ofMillis(-1), r -> { }))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * Not an assertion on speed: prints how many events per second the reader consumes (1) while a
     * program emits 2M events through bpf_ringbuf_output under BPF_PROG_TEST_RUN and a consumer
     * thread drains concurrently, and (2) when draining 2M events that are already in the ring.
     */
    @Test
    void measureThroughput() throws Exception {
        int n = 2_000_000;
        measurePaced(n, 1_000_000);
        measureConcurrent(n, false);
        measureConcurrent(n, true);
        // (2) consumer alone: the ring already holds all n events.
        try (Rig rig = Rig.create(64 << 20, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            warmUp(rig, reader);
            for (boolean raw : new boolean[] {true, false}) {
                rig.run(n);
                Sequence seq = new Sequence(0);
                com.sun.management.ThreadMXBean threads =
                        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long alloc0 = threads.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                long got = 0;
                while (got < n) {
                    int c = raw ? reader.drainRaw(seq) : reader.drain(seq);
                    if (c == 0) {
                        break;
                    }
                    got += c;
                }
                long t1 = System.nanoTime();
                long alloc = threads.getCurrentThreadAllocatedBytes() - alloc0;
                assertThat(got).isEqualTo(n);
                assertThat(seq.outOfOrder).isZero();
                System.out.printf("[ringbuf] drain of a full ring (%s): %d events in %.1f ms = %.2f M events/s, "
                                + "%.2f bytes allocated per event%n", raw ? "drainRaw" : "drain, slices", n,
                        (t1 - t0) / 1e6, n / ((t1 - t0) / 1e9) / 1e6, (double) alloc / n);
            }
        }
    }

    /**
     * (1) Concurrent: the producer is the test run on this thread, the consumer another platform
     * thread that either sleeps in {@link RingBufReader#pollRaw} between batches or spins on
     * {@link RingBufReader#drainRaw}.
     */
    private static void measureConcurrent(int n, boolean spin) throws Exception {
        try (Rig rig = Rig.create(1 << 20, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            warmUp(rig, reader);
            long emittedBefore = rig.emitted();
            long dropsBefore = rig.drops();
            Sequence seq = new Sequence(0);
            AtomicBoolean done = new AtomicBoolean();
            long[] consumerEnd = {0};
            CompletableFuture<Void> consumer = CompletableFuture.runAsync(() -> {
                while (!done.get()) {
                    if (spin) {
                        if (reader.drainRaw(seq) == 0) {
                            Thread.onSpinWait();
                        }
                    } else {
                        reader.pollRaw(Duration.ofMillis(100), seq);
                    }
                }
                reader.drainRaw(seq);
                consumerEnd[0] = System.nanoTime();
            }, runnable -> Thread.ofPlatform().name("rb-bench").start(runnable));
            Thread.sleep(50); // let the consumer start (and, polling, block in epoll)
            long t0 = System.nanoTime();
            rig.run(n);
            long producerEnd = System.nanoTime();
            done.set(true);
            reader.wakeup();
            consumer.get(120, TimeUnit.SECONDS);
            long drops = rig.drops() - dropsBefore;
            assertThat(rig.emitted() - emittedBefore).isEqualTo(n);
            assertThat(seq.count + drops).isEqualTo(n);
            assertThat(seq.outOfOrder).isZero();
            double seconds = (consumerEnd[0] - t0) / 1e9;
            System.out.printf("[ringbuf] concurrent, %s consumer: %d events emitted in %.1f ms (%.2f M/s produced), "
                            + "%d consumed in %.1f ms = %.2f M events/s consumed, %d dropped (1 MiB ring)%n",
                    spin ? "spinning" : "polling", n, (producerEnd - t0) / 1e6, n / ((producerEnd - t0) / 1e9) / 1e6,
                    seq.count, seconds * 1e3, seq.count / seconds / 1e6, drops);
        }
    }

    /**
     * (0) A producer paced at {@code perSecond} events per second (test runs of one millisecond's
     * worth of events, each started on schedule) against a polling consumer thread.
     */
    private static void measurePaced(int n, int perSecond) throws Exception {
        try (Rig rig = Rig.create(1 << 20, outputProgram(8)); RingBufReader reader = RingBufReader.open(rig.events())) {
            warmUp(rig, reader);
            long dropsBefore = rig.drops();
            Sequence seq = new Sequence(0);
            AtomicBoolean done = new AtomicBoolean();
            CompletableFuture<Void> consumer = CompletableFuture.runAsync(() -> {
                while (!done.get()) {
                    reader.pollRaw(Duration.ofMillis(100), seq);
                }
                reader.drainRaw(seq);
            }, runnable -> Thread.ofPlatform().name("rb-paced").start(runnable));
            int chunk = perSecond / 1000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n / chunk; i++) {
                rig.run(chunk);
                long due = t0 + (i + 1) * 1_000_000L;
                for (long now = System.nanoTime(); now < due; now = System.nanoTime()) {
                    LockSupport.parkNanos(due - now);
                }
            }
            long t1 = System.nanoTime();
            done.set(true);
            reader.wakeup();
            consumer.get(60, TimeUnit.SECONDS);
            long drops = rig.drops() - dropsBefore;
            assertThat(seq.count + drops).isEqualTo(n / chunk * (long) chunk);
            assertThat(seq.outOfOrder).isZero();
            System.out.printf("[ringbuf] paced producer, polling consumer: %d events at %.2f M/s, %d consumed, "
                    + "%d dropped (1 MiB ring)%n", n, n / ((t1 - t0) / 1e9) / 1e6, seq.count, drops);
        }
    }

    private static void warmUp(Rig rig, RingBufReader reader) {
        Sequence seq = new Sequence(0);
        for (int i = 0; i < 40; i++) {
            rig.run(20_000);
            if (i % 2 == 0) {
                while (reader.drainRaw(seq) > 0) {
                    // keep going
                }
            } else {
                while (reader.drain(seq) > 0) {
                    // keep going
                }
            }
        }
    }
}

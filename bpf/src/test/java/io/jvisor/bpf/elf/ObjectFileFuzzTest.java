package io.jvisor.bpf.elf;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The object parser survives truncated, corrupted and randomly mutated objects: it returns a spec
 * or throws {@link ObjectFileException} with a reason, and nothing else (no unchecked exception,
 * no hang, no OutOfMemoryError). Parsing only; no kernel.
 */
class ObjectFileFuzzTest {
    /** The real objects the mutations start from. */
    private static final List<String> SOURCES = List.of("xdp_count.c", "tc_mark.c", "tp_getpid.c", "globals.c",
            "calls.c", "map_in_map.c", "pinned.c", "broken.c");
    private static final int TRIES = 10_000;
    private static final AtomicInteger PARSED = new AtomicInteger();
    private static final AtomicInteger REFUSED = new AtomicInteger();
    private static volatile byte[][] objects;

    private static byte[][] objects() {
        if (objects == null) {
            synchronized (ObjectFileFuzzTest.class) {
                if (objects == null) {
                    byte[][] o = new byte[SOURCES.size()][];
                    for (int i = 0; i < o.length; i++) {
                        try {
                            o[i] = Files.readAllBytes(TestObjects.compile(SOURCES.get(i)));
                        } catch (java.io.IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                    objects = o;
                }
            }
        }
        return objects;
    }

    @Property(tries = TRIES, afterFailure = net.jqwik.api.AfterFailureMode.RANDOM_SEED)
    void mutatedObjectsParseOrFailWithObjectFileException(@ForAll @IntRange(min = 0, max = 7) int object,
                                                          @ForAll @IntRange(min = 0, max = 6) int strategy,
                                                          @ForAll long seed) {
        byte[] mutated = mutate(objects()[object], strategy, new Random(seed));
        try {
            CollectionSpec spec = ObjectFile.parse(mutated, "fuzz");
            assertThat(spec).isNotNull();
            PARSED.incrementAndGet();
        } catch (ObjectFileException e) {
            assertThat(e.reason()).isNotNull();
            assertThat(e.getMessage()).contains("fuzz");
            REFUSED.incrementAndGet();
        }
    }

    /**
     * A NOBITS section whose size is negative as a signed long once became a 1.5 GB allocation
     * (found by this fuzzer): such sizes are refused up front.
     */
    @net.jqwik.api.Example
    void hugeNoBitsSectionIsRefused() {
        byte[] mutated = mutate(objects()[2], 4, new Random(-3077));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ObjectFile.parse(mutated, "fuzz"))
                .isInstanceOfSatisfying(ObjectFileException.class,
                        e -> assertThat(e.getMessage()).contains("(no data) claims"));
    }

    @AfterContainer
    static void report() {
        // Printed so that the count of mutations survives independently of the runner's report.
        System.out.println("ObjectFileFuzzTest: " + (PARSED.get() + REFUSED.get()) + " mutated objects, "
                + PARSED.get() + " parsed, " + REFUSED.get() + " refused with ObjectFileException");
        assertThat(PARSED.get() + REFUSED.get()).isGreaterThanOrEqualTo(TRIES);
    }

    /** Applies one mutation strategy; every strategy keeps sizes bounded by the original file. */
    static byte[] mutate(byte[] original, int strategy, Random r) {
        byte[] b = original.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        switch (strategy) {
            case 0 -> { // flip a few bytes anywhere
                for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                }
            }
            case 1 -> { // truncate
                return Arrays.copyOf(b, r.nextInt(b.length));
            }
            case 2 -> { // corrupt bytes inside one section (code, symbols, relocations, BTF, ...)
                int[] sec = randomSection(bb, r);
                if (sec != null && sec[1] > 0) {
                    for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                        b[sec[0] + r.nextInt(sec[1])] = (byte) r.nextInt(256);
                    }
                }
            }
            case 3 -> { // an interesting 32-bit value at an aligned place inside one section
                int[] sec = randomSection(bb, r);
                if (sec != null && sec[1] >= 4) {
                    int at = sec[0] + (r.nextInt(sec[1] / 4) * 4);
                    int[] values = {0, 1, -1, 0x7fffffff, 0x80000000, 0xffff, 0x10000, 8, 24, r.nextInt()};
                    bb.putInt(at, values[r.nextInt(values.length)]);
                }
            }
            case 4 -> { // a section header field: type, flags, offset, size, link, info, entsize
                int shoff = (int) Math.min(bb.getLong(40), Integer.MAX_VALUE);
                int shnum = Short.toUnsignedInt(bb.getShort(60));
                if (shnum > 0 && shoff > 0 && shoff + shnum * 64 <= b.length) {
                    int h = shoff + 64 * r.nextInt(shnum);
                    int[] fields = {4, 8, 24, 32, 40, 44, 56};
                    int f = fields[r.nextInt(fields.length)];
                    long[] values = {0, 1, -1, b.length, b.length - 1, Long.MAX_VALUE, 1L << 32, r.nextInt(b.length),
                            r.nextLong()};
                    long v = values[r.nextInt(values.length)];
                    if (f == 4 || f == 40 || f == 44) {
                        bb.putInt(h + f, (int) v);
                    } else {
                        bb.putLong(h + f, v);
                    }
                }
            }
            case 5 -> { // the ELF header
                int[] fields = {4, 5, 16, 18, 40, 58, 60, 62};
                int f = fields[r.nextInt(fields.length)];
                if (f == 4 || f == 5) {
                    b[f] = (byte) r.nextInt(4);
                } else if (f == 40) {
                    bb.putLong(f, r.nextBoolean() ? r.nextLong() : r.nextInt(b.length));
                } else {
                    bb.putShort(f, (short) (r.nextBoolean() ? r.nextInt(65536) : r.nextInt(64)));
                }
            }
            default -> { // random bytes behind a valid-looking ELF header
                byte[] junk = new byte[r.nextInt(Math.min(b.length, 4096))];
                r.nextBytes(junk);
                System.arraycopy(b, 0, junk, 0, Math.min(junk.length, 64));
                return junk;
            }
        }
        return b;
    }

    /** {offset, size} of a random section with file data, or null. */
    private static int[] randomSection(ByteBuffer bb, Random r) {
        int shoff = (int) Math.min(bb.getLong(40), Integer.MAX_VALUE);
        int shnum = Short.toUnsignedInt(bb.getShort(60));
        if (shnum < 2 || shoff <= 0 || shoff + shnum * 64 > bb.capacity()) {
            return null;
        }
        int h = shoff + 64 * (1 + r.nextInt(shnum - 1));
        long off = bb.getLong(h + 24);
        long size = bb.getLong(h + 32);
        if (bb.getInt(h + 4) == 8 || off < 0 || size < 0 || off + size > bb.capacity()) {
            return null;
        }
        return new int[] {(int) off, (int) size};
    }
}

package io.jvisor.bpf;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad map specs get a specific exception naming the field, and leave no fd behind. */
class BadInputTest {
    private int fdsBefore;

    @BeforeEach
    void countFds() {
        fdsBefore = Fd.openCount();
    }

    @AfterEach
    void noFdLeaked() {
        assertThat(Fd.openCount()).isEqualTo(fdsBefore);
    }

    private static void refused(MapSpec spec, String field, String... words) {
        assertThatThrownBy(() -> BpfMap.create(spec).close())
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.errno()).isEqualTo(Errno.EINVAL.number());
                    for (String w : words) {
                        assertThat(e.getMessage()).contains(w);
                    }
                });
    }

    @Test
    void zeroKeySize() {
        refused(MapSpec.hash("z", 0, 8, 4), "keySize", "map 'z'", "0 must be positive");
    }

    @Test
    void valueTooLarge() {
        refused(MapSpec.hash("big", 4, 64 << 20, 4), "valueSize", "67108864", "too large");
        refused(MapSpec.of("pcbig", MapType.PERCPU_ARRAY, 4, 40000, 4), "valueSize", "at most 32768");
    }

    @Test
    void hashKeyLargerThanTheStack() {
        refused(MapSpec.hash("bigkey", 1024, 4, 4), "keySize", "1024", "at most 512");
    }

    @Test
    void negativeMaxEntries() {
        refused(MapSpec.hash("neg", 4, 4, -1), "maxEntries", "-1 must be positive");
    }

    @Test
    void wrongFlags() {
        refused(MapSpec.lpmTrie("lpm", 4, 4, 4).withFlags(0), "flags", "lpm_trie requires NO_PREALLOC");
        refused(MapSpec.array("arr", 4, 4).withFlags(MapFlags.NO_PREALLOC), "flags", "NO_PREALLOC is not allowed");
        refused(MapSpec.hash("h", 4, 4, 4).withFlags(1 << 30), "flags", "unknown bits 0x40000000");
    }

    @Test
    void wrongSizesForType() {
        refused(MapSpec.of("arr", MapType.ARRAY, 8, 4, 4), "keySize", "must be 4 for array");
        refused(MapSpec.of("pa", MapType.PROG_ARRAY, 4, 8, 4), "valueSize", "must be 4 for prog_array");
        refused(MapSpec.ringBuf("rb", 5000), "maxEntries", "power of two");
        refused(MapSpec.of("mm", MapType.HASH_OF_MAPS, 4, 4, 4), "innerMap", "needs an inner map");
        refused(MapSpec.hash("this-name-is-too-long", 4, 4, 4), "name", "at most 15 characters");
    }

    @Test
    @RequiresRoot
    void keyOfWrongLengthOrOutOfRange() {
        try (BpfMap m = BpfMap.create(MapSpec.array("r", 4, 8))) {
            assertThatThrownBy(() -> m.lookup(new byte[8])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("must be 4 bytes, got 8");
            assertThatThrownBy(() -> m.update(MapTypesTest.u32(8), MapTypesTest.u32(1)))
                    .isInstanceOfSatisfying(BpfException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.E2BIG.number());
                        assertThat(e.getMessage()).contains("index 8").contains("maxEntries 8");
                    });
            assertThatThrownBy(() -> m.update(MapTypesTest.u32(0), new byte[3]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be 4 bytes, got 3");
        }
    }

    @Test
    @RequiresRoot
    void kernelRefusalStillNamesTheMap() {
        // Validation passes, but a stack trace value must hold whole 8-byte addresses: the kernel says EINVAL.
        assertThatThrownBy(() -> BpfMap.create(MapSpec.of("st", MapType.STACK_TRACE, 4, 7, 4)).close())
                .isInstanceOfSatisfying(BpfException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EINVAL.number());
                    assertThat(e.getMessage()).contains("BPF_MAP_CREATE stack_trace 'st'").contains("valueSize=7");
                });
    }
}

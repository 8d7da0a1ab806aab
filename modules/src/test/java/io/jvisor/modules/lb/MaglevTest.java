package io.jvisor.modules.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Maglev's properties, without the kernel. Each property is checked over many generated cases
 * (seeded, so a failure reproduces): the share of the table each backend gets follows the weights,
 * and removing one backend moves its slots and only a small fraction of the others'.
 */
class MaglevTest {
    static final int CASES = 40;

    static List<Maglev.Backend> backends(Random r, int n, boolean weighted) {
        List<Maglev.Backend> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Maglev.Backend("10." + r.nextInt(256) + "." + r.nextInt(256) + "." + i + ":" + (1 + r.nextInt(65535)),
                    weighted ? 1 + r.nextInt(10) : 1));
        }
        return out;
    }

    static int[] counts(int[] table, int n) {
        int[] c = new int[n];
        for (int b : table) {
            c[b]++;
        }
        return c;
    }

    @Test
    void everySlotIsOwnedAndSharesFollowTheWeights() {
        Random r = new Random(7);
        for (int t = 0; t < CASES; t++) {
            int n = 1 + r.nextInt(50);
            int size = t % 2 == 0 ? Maglev.DEFAULT_SIZE : 5003;
            List<Maglev.Backend> bs = backends(r, n, true);
            int[] table = Maglev.table(bs, size);
            int[] c = counts(table, n);
            long total = bs.stream().mapToLong(Maglev.Backend::weight).sum();
            for (int i = 0; i < n; i++) {
                double expected = (double) size * bs.get(i).weight() / total;
                // each round hands out slots in proportion to the weights; the last round is partial: within 2 slots
                assertThat((double) c[i]).as("case %d backend %d of %d", t, i, n)
                        .isCloseTo(expected, org.assertj.core.data.Offset.offset(2.0));
            }
        }
    }

    @Test
    void equalWeightsGiveEqualShares() {
        Random r = new Random(11);
        List<Maglev.Backend> bs = backends(r, 7, false);
        int[] c = counts(Maglev.table(bs, Maglev.DEFAULT_SIZE), 7);
        for (int x : c) {
            assertThat(x).isBetween(Maglev.DEFAULT_SIZE / 7 - 1, Maglev.DEFAULT_SIZE / 7 + 1);
        }
    }

    @Test
    void removingOneBackendMovesItsSlotsAndFewOthers() {
        Random r = new Random(3);
        for (int t = 0; t < CASES; t++) {
            int n = 3 + r.nextInt(100);
            List<Maglev.Backend> bs = backends(r, n, t % 2 == 1);
            int[] before = Maglev.table(bs, Maglev.DEFAULT_SIZE);
            int gone = r.nextInt(n);
            List<Maglev.Backend> after = new ArrayList<>(bs);
            after.remove(gone);
            int[] now = Maglev.table(after, Maglev.DEFAULT_SIZE);
            int itsSlots = 0, othersMoved = 0;
            for (int s = 0; s < before.length; s++) {
                String was = bs.get(before[s]).key(), is = after.get(now[s]).key();
                if (before[s] == gone) {
                    itsSlots++;
                    assertThat(is).isNotEqualTo(was);
                } else if (!was.equals(is)) {
                    othersMoved++;
                }
            }
            // the removed backend's share (about 1/N) moves, and of the rest only a few percent
            assertThat(othersMoved).as("case %d: n=%d, its slots %d", t, n, itsSlots)
                    .isLessThanOrEqualTo((before.length - itsSlots) / 50);
        }
    }

    @Test
    void addingOneBackendTakesAboutOneNthAndMovesFewOthers() {
        Random r = new Random(5);
        for (int t = 0; t < CASES; t++) {
            int n = 2 + r.nextInt(100);
            List<Maglev.Backend> bs = backends(r, n + 1, false);
            int[] before = Maglev.table(bs.subList(0, n), Maglev.DEFAULT_SIZE);
            int[] after = Maglev.table(bs, Maglev.DEFAULT_SIZE);
            int toNew = 0, othersMoved = 0;
            for (int s = 0; s < before.length; s++) {
                if (after[s] == n) {
                    toNew++;
                } else if (after[s] != before[s]) {
                    othersMoved++;
                }
            }
            assertThat((double) toNew).isCloseTo((double) before.length / (n + 1), org.assertj.core.data.Offset.offset(2.0));
            assertThat(othersMoved).as("case %d: n=%d", t, n).isLessThanOrEqualTo(before.length / 50);
        }
    }

    @Test
    void theTableDependsOnlyOnTheBackendsNotTheirOrder() {
        Random r = new Random(9);
        List<Maglev.Backend> bs = backends(r, 20, true);
        int[] a = Maglev.table(bs, 5003);
        List<Maglev.Backend> rev = new ArrayList<>(bs.reversed());
        int[] b = Maglev.table(rev, 5003);
        int differ = 0;
        for (int s = 0; s < a.length; s++) {
            if (!bs.get(a[s]).key().equals(rev.get(b[s]).key())) {
                differ++;
            }
        }
        // turn order breaks ties between two backends wanting the same slot in the same round: few slots
        assertThat(differ).isLessThanOrEqualTo(a.length / 50);
    }

    @Test
    void drainingBackendsTakeNoSlotAndBadSizesAreRefused() {
        List<Maglev.Backend> bs = List.of(new Maglev.Backend("a", 1), new Maglev.Backend("b", 0), new Maglev.Backend("c", 3));
        int[] c = counts(Maglev.table(bs, 101), 3);
        assertThat(c[1]).isZero();
        assertThat(c[0] + c[2]).isEqualTo(101);
        assertThat(Maglev.table(List.of(new Maglev.Backend("x", 0)), 7)).containsOnly(-1);
        assertThatThrownBy(() -> Maglev.table(bs, 100)).hasMessageContaining("not a prime");
        assertThatThrownBy(() -> Maglev.table(bs, 3)).hasMessageContaining("larger");
        assertThat(Maglev.isPrime(65537)).isTrue();
        assertThat(Maglev.isPrime(65535)).isFalse();
    }
}

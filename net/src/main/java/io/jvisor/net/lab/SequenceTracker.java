package io.jvisor.net.lab;

import java.util.BitSet;

/**
 * The receiver's accounting of a sequence-numbered stream: which numbers arrived, how often, and
 * in what order. Not thread-safe; {@link UdpStream} guards it.
 */
final class SequenceTracker {
    /** Sequence numbers tracked: ample for any test, bounded for memory (a BitSet of 256 MiB at most). */
    static final long MAX_SEQ = Integer.MAX_VALUE;

    private final BitSet seen = new BitSet();
    private long received;
    private long duplicated;
    private long reordered;
    private long highest = -1;

    /** Records the arrival of {@code seq}. */
    void record(long seq) {
        received++;
        if (seq < 0 || seq >= MAX_SEQ) {
            return;
        }
        if (seen.get((int) seq)) {
            duplicated++;
            return;
        }
        seen.set((int) seq);
        if (seq < highest) {
            reordered++;
        }
        highest = Math.max(highest, seq);
    }

    /** How many distinct sequence numbers arrived. */
    long distinct() {
        return seen.cardinality();
    }

    /** The figures for a sender that sent {@code sent} datagrams, numbered 0 to sent - 1. */
    UdpStream.Report report(long sent) {
        long arrivedInRange = seen.get(0, (int) Math.min(sent, MAX_SEQ)).cardinality();
        return new UdpStream.Report(sent, received, sent - arrivedInRange, duplicated, reordered);
    }
}

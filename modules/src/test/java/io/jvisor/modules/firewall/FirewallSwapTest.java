package io.jvisor.modules.firewall;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.modules.firewall.FirewallConfig.Chain;
import io.jvisor.net.lab.Host;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Whole rule sets are swapped under a UDP stream, and every packet is judged by the old set or by
 * the new one, never by a mix.
 *
 * <p>The stream runs over 16 flows (source ports), packet {@code i} on flow {@code i % 16}. Set A
 * accepts the even flows only, set B the odd flows only, each behind 2,000 rules that match
 * nothing here. The receiver learns from each packet's flow which set judged it. The test swaps
 * A, B, A, B... while the stream runs and then checks, in sequence order: (1) the set that judged
 * changes exactly once per swap; (2) within the time one set was in force, no packet that set
 * accepts is missing (a half-written set that accepts neither flow would show as a hole); (3) in the
 * few packets between two sets, those judged by the old set all come before those judged by the new
 * one (a mix would interleave them).
 */
@RequiresRoot
class FirewallSwapTest {
    private static final int FLOWS = 16, SWAPS = 6, RATE = 20_000;

    @Test
    void swappingWholeRuleSetsUnderAUdpStreamJudgesEachPacketByTheOldSetOrTheNewNeverAMix() throws Exception {
        try (FirewallTest.Bed b = new FirewallTest.Bed()) {
            Host h1 = b.h(1), h2 = b.h(2);
            DatagramChannel rx = h2.netns().run(() -> {
                DatagramChannel c = DatagramChannel.open();
                c.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
                return c.bind(new InetSocketAddress(h2.address(), 0));
            });
            List<DatagramChannel> tx = new ArrayList<>();
            try {
                int[] sports = new int[FLOWS];
                for (int f = 0; f < FLOWS; f++) {
                    DatagramChannel c = h1.netns().run(() -> DatagramChannel.open().bind(new InetSocketAddress(h1.address(), 0)));
                    tx.add(c);
                    sports[f] = ((InetSocketAddress) c.getLocalAddress()).getPort();
                }
                FirewallConfig a = ruleSet(sports, 0), bset = ruleSet(sports, 1);
                b.apply(a);
                InetSocketAddress target = (InetSocketAddress) rx.getLocalAddress();

                // receiver: the flow of each sequence number that arrived
                int capacity = 2_000_000;
                byte[] flowOf = new byte[capacity];
                BitSet received = new BitSet();
                Thread receiver = Thread.ofPlatform().daemon().start(() -> {
                    ByteBuffer buf = ByteBuffer.allocate(64);
                    try {
                        while (true) {
                            rx.receive(buf.clear());
                            long seq = buf.getLong(0);
                            int flow = buf.getInt(8);
                            if (seq >= 0 && seq < capacity) {
                                synchronized (received) {
                                    received.set((int) seq);
                                    flowOf[(int) seq] = (byte) flow;
                                }
                            }
                        }
                    } catch (ClosedChannelException e) {
                        // done
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                AtomicBoolean running = new AtomicBoolean(true);
                AtomicLong sent = new AtomicLong();
                Thread sender = Thread.ofPlatform().daemon().start(() -> {
                    ByteBuffer buf = ByteBuffer.allocate(32);
                    long start = System.nanoTime();
                    try {
                        for (long seq = 0; running.get() && seq < capacity; seq++) {
                            long due = start + seq * 1_000_000_000L / RATE;
                            while (System.nanoTime() < due) {
                                LockSupport.parkNanos(20_000);
                            }
                            int flow = (int) (seq % FLOWS);
                            tx.get(flow).send(buf.clear().putLong(0, seq).putInt(8, flow), target);
                            sent.set(seq + 1);
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                Thread.sleep(300);
                for (int i = 0; i < SWAPS; i++) {
                    b.apply(i % 2 == 0 ? bset : a);
                    Thread.sleep(300);
                }
                running.set(false);
                sender.join();
                Thread.sleep(500);
                rx.close();
                receiver.join(2000);

                long n = sent.get();
                List<int[]> segments = new ArrayList<>(); // {parity, first seq, last seq}
                synchronized (received) {
                    for (int s = received.nextSetBit(0); s >= 0 && s < n; s = received.nextSetBit(s + 1)) {
                        int parity = flowOf[s] & 1;
                        assertThat(flowOf[s]).as("packet %d came on its own flow", s).isEqualTo((byte) (s % FLOWS));
                        if (segments.isEmpty() || segments.getLast()[0] != parity) {
                            segments.add(new int[] {parity, s, s});
                        } else {
                            segments.getLast()[2] = s;
                        }
                    }
                    assertThat(segments).as("sent %d", n).hasSize(SWAPS + 1);
                    for (int i = 0; i < segments.size(); i++) {
                        int[] seg = segments.get(i);
                        assertThat(seg[0]).as("segment %d is set %s", i, i % 2 == 0 ? "A" : "B").isEqualTo(i % 2);
                        // (2) no hole: every packet the set in force accepts arrived
                        for (int s = seg[1]; s <= seg[2]; s++) {
                            if ((s % FLOWS) % 2 == seg[0]) {
                                assertThat(received.get(s)).as("packet %d, inside segment %d (%d..%d), was lost", s, i,
                                        seg[1], seg[2]).isTrue();
                            }
                        }
                        // (3) between two sets: the old set's drops (other parity) before the new set's drops
                        if (i + 1 < segments.size()) {
                            int[] next = segments.get(i + 1);
                            boolean newSetSeen = false;
                            for (int s = seg[2] + 1; s < next[1]; s++) {
                                boolean judgedByNew = (s % FLOWS) % 2 == seg[0]; // the old set would have accepted it
                                if (judgedByNew) {
                                    newSetSeen = true;
                                } else {
                                    assertThat(newSetSeen).as("packet %d judged by the old set after one judged by the"
                                            + " new set, between segments %d and %d", s, i, i + 1).isFalse();
                                }
                            }
                        }
                    }
                }
                assertThat(n).isGreaterThan(10_000);
            } finally {
                rx.close();
                for (DatagramChannel c : tx) {
                    c.close();
                }
            }
        }
    }

    /** Egress: 2,000 rules that match nothing here, then accept the flows of one parity; policy drop. */
    private static FirewallConfig ruleSet(int[] sports, int parity) {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            rules.add(Rule.parse("accept proto udp dst 198.18." + (i / 200) + "." + (i % 200) + "/32 dport "
                    + (2000 + parity * 3000 + i)));
        }
        for (int f = parity; f < sports.length; f += 2) {
            rules.add(Rule.parse("accept proto udp sport " + sports[f]));
        }
        return FirewallConfig.EMPTY.withRules(Chain.EGRESS, rules).withPolicy(Chain.EGRESS, FirewallConfig.Policy.DROP);
    }
}

package io.jvisor.modules.firewall;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chain compiled for tuple-space search, the layout the data plane reads (docs/firewall.md).
 *
 * <p>An ICMP type match sits in the destination-port slot and a code match in the source-port slot
 * (a single value each, {@link Rule#dportSlot()}): the data plane puts an ICMP packet's type and
 * code there, and the protocol in the key keeps them apart from TCP and UDP ports.
 *
 * <p>Each rule is expanded into entries: its port ranges into prefixes of the 16-bit port space,
 * its set of conntrack states into one entry per state. An entry's <em>tuple</em> is the shape of
 * its match (prefix lengths, whether the protocol and the state are looked at, the TCP flag mask);
 * its <em>key</em> is the masked field values. Entries with the same tuple and key keep the first
 * rule only: a later one could never win there. Tuples are ordered by the best rule they hold, so
 * that a search can stop at the first tuple that cannot improve on what it has found.
 *
 * @param tuples the tuples, best rule first
 * @param entries the entries, each naming its tuple by position in {@code tuples}
 */
public record TupleSpace(List<Tuple> tuples, List<Entry> entries, int[] sportClass, int[] dportClass) {
    /** Tuples per chain the data plane searches (FW_MAX_TUPLES). */
    public static final int MAX_TUPLES = 1024;
    /** Entries per rule set, both chains (half of FW_MAX_ENTRIES, so that two versions fit). */
    public static final int MAX_ENTRIES = 262144;
    /** A port dimension matched by port class (an elementary interval) rather than by prefix. */
    public static final int CLASS = 17;

    /**
     * The shape of a match.
     *
     * @param srcLen source prefix length
     * @param dstLen destination prefix length
     * @param proto whether the protocol is part of the key
     * @param sportLen source port prefix length (0..16), or {@link #CLASS}
     * @param dportLen destination port prefix length, or {@link #CLASS}
     * @param flagMask TCP flags in the key
     * @param state whether the conntrack state is part of the key
     * @param minPrio the best (lowest) rule position among its entries
     */
    public record Tuple(int srcLen, int dstLen, boolean proto, int sportLen, int dportLen, int flagMask, boolean state,
                        int minPrio) {
        Tuple withMinPrio(int p) {
            return new Tuple(srcLen, dstLen, proto, sportLen, dportLen, flagMask, state, p);
        }

        /** The port mask of a port prefix length (0 for a class dimension, whose key holds the class). */
        static int portMask(int len) {
            return len == 0 || len == CLASS ? 0 : (0xffff << (16 - len)) & 0xffff;
        }
    }

    /**
     * One hash entry: masked field values and the rule that wins there.
     *
     * @param tuple position of its tuple
     * @param src masked source address
     * @param dst masked destination address
     * @param sport masked source port, or its class
     * @param dport masked destination port, or its class
     * @param proto protocol (0 when not in the tuple)
     * @param flags TCP flag values
     * @param state conntrack state code (0 when not in the tuple)
     * @param prio the rule's position in its chain
     * @param rule the rule's index in the list given to {@link #compile}
     */
    public record Entry(int tuple, int src, int dst, int sport, int dport, int proto, int flags, int state, int prio,
                        int rule) {}

    private record Sig(int srcLen, int dstLen, boolean proto, int sportLen, int dportLen, int flagMask, boolean state) {}

    private record Key(int src, int dst, int sport, int dport, int proto, int flags, int state) {}

    /**
     * Compiles a chain's rules, in priority order.
     *
     * @param chainName for error messages
     * @throws IllegalArgumentException when the chain needs more than {@link #MAX_TUPLES} tuples or
     *     more than {@code maxEntries} entries, naming the rule that went over
     */
    public static TupleSpace compile(List<Rule> rules, String chainName, int maxEntries) {
        int[] sclass = classes(rules, true), dclass = classes(rules, false);
        Map<Sig, Map<Key, int[]>> space = new LinkedHashMap<>();
        int count = 0;
        for (int prio = 0; prio < rules.size(); prio++) {
            Rule r = rules.get(prio);
            List<int[]> sp = expand(r.sportSlot(), sclass), dp = expand(r.dportSlot(), dclass);
            List<Integer> states = r.states().isEmpty() ? List.of(0)
                    : r.states().stream().map(s -> s.code).sorted().toList();
            for (int[] s : sp) {
                for (int[] d : dp) {
                    for (int st : states) {
                        Sig sig = new Sig(r.src().len(), r.dst().len(), r.proto() >= 0, s[1], d[1], r.flagMask(), st != 0);
                        Map<Key, int[]> m = space.computeIfAbsent(sig, x -> new HashMap<>());
                        if (space.size() > MAX_TUPLES) {
                            throw new IllegalArgumentException("chain " + chainName + ": rule " + (prio + 1)
                                    + " (" + r + ") needs tuple " + space.size() + ", more than the " + MAX_TUPLES
                                    + " the data plane searches; use fewer distinct prefix lengths or port ranges");
                        }
                        Key k = new Key(r.src().addr(), r.dst().addr(), s[0], d[0], Math.max(0, r.proto()), r.flagValue(), st);
                        if (m.putIfAbsent(k, new int[] {prio}) == null && ++count > maxEntries) {
                            throw new IllegalArgumentException("chain " + chainName + ": rule " + (prio + 1) + " (" + r
                                    + ") makes the rule set need more than " + maxEntries + " classifier entries");
                        }
                    }
                }
            }
        }
        List<Map.Entry<Sig, Map<Key, int[]>>> order = new ArrayList<>(space.entrySet());
        List<Integer> minPrio = new ArrayList<>();
        for (var e : order) {
            minPrio.add(e.getValue().values().stream().mapToInt(a -> a[0]).min().orElse(Integer.MAX_VALUE));
        }
        Integer[] idx = new Integer[order.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, Comparator.comparingInt(minPrio::get));
        List<Tuple> tuples = new ArrayList<>();
        List<Entry> entries = new ArrayList<>(count);
        for (int pos = 0; pos < idx.length; pos++) {
            var e = order.get(idx[pos]);
            Sig s = e.getKey();
            tuples.add(new Tuple(s.srcLen, s.dstLen, s.proto, s.sportLen, s.dportLen, s.flagMask, s.state,
                    minPrio.get(idx[pos])));
            for (var ke : e.getValue().entrySet()) {
                Key k = ke.getKey();
                int p = ke.getValue()[0];
                entries.add(new Entry(pos, k.src, k.dst, k.sport, k.dport, k.proto, k.flags, k.state, p, p));
            }
        }
        return new TupleSpace(List.copyOf(tuples), List.copyOf(entries), sclass, dclass);
    }

    /** True when some tuple matches source ({@code source}) or destination ports by class. */
    public boolean usesClasses(boolean source) {
        return tuples.stream().anyMatch(t -> (source ? t.sportLen() : t.dportLen()) == CLASS);
    }

    /**
     * The port classes of one field: the elementary intervals that the chain's port ranges cut the
     * port space into; {@code result[port]} is the class of {@code port}.
     */
    static int[] classes(List<Rule> rules, boolean source) {
        java.util.TreeSet<Integer> cuts = new java.util.TreeSet<>();
        cuts.add(0);
        for (Rule r : rules) {
            Rule.PortRange pr = source ? r.sportSlot() : r.dportSlot();
            if (!pr.isAny()) {
                cuts.add(pr.lo());
                if (pr.hi() < 65535) {
                    cuts.add(pr.hi() + 1);
                }
            }
        }
        int[] out = new int[65536];
        int cls = -1;
        for (int p = 0; p < 65536; p++) {
            if (cuts.contains(p)) {
                cls++;
            }
            out[p] = cls;
        }
        return out;
    }

    /**
     * A range as {value, dimension} pairs: any; the classes it spans; or its prefixes, when they are
     * fewer than its classes (then it costs a tuple per prefix length, but fewer entries).
     */
    private static List<int[]> expand(Rule.PortRange pr, int[] classOf) {
        if (pr.isAny()) {
            return List.of(new int[] {0, 0});
        }
        int lo = classOf[pr.lo()], hi = classOf[pr.hi()];
        List<int[]> prefixes = pr.prefixes();
        if (hi - lo + 1 > prefixes.size()) {
            return prefixes;
        }
        List<int[]> out = new ArrayList<>();
        for (int c = lo; c <= hi; c++) {
            out.add(new int[] {c, CLASS});
        }
        return out;
    }
}

package io.jvisor.modules.firewall;

import io.jvisor.modules.ConfigValues;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One firewall rule: what it matches and what it does. Every match field is optional; a rule with
 * none matches every IPv4 packet. Text form (the value of a {@code ingress.N} or {@code egress.N}
 * key):
 *
 * <pre>
 * accept|drop|log [log] [src A.B.C.D/LEN] [dst A.B.C.D/LEN] [proto tcp|udp|icmp|N]
 *                 [sport P[-Q]] [dport P[-Q]] [icmp-type T[/C]] [flags syn,!ack,...]
 *                 [state new,established,related,invalid]
 * </pre>
 *
 * <p>{@code log} as the action accepts and logs; {@code drop log} and {@code accept log} log too.
 * Ports need {@code proto tcp} or {@code proto udp}; flags need {@code proto tcp}; an ICMP type
 * (and code) needs {@code proto icmp}.
 *
 * @param action accept or drop
 * @param log whether a matching packet is logged (rate-limited, through the engine's module log)
 * @param src source prefix
 * @param dst destination prefix
 * @param proto IP protocol number, or -1 for any
 * @param sport source port range
 * @param dport destination port range
 * @param icmpType ICMP type matched (0..255), or -1 for any
 * @param icmpCode ICMP code matched (0..255), or -1 for any; only with a type
 * @param flagMask TCP flags looked at ({@link #FIN} ... {@link #CWR} bits)
 * @param flagValue the values those flags must have
 * @param states conntrack states matched; empty for any
 */
public record Rule(Action action, boolean log, Prefix src, Prefix dst, int proto, PortRange sport, PortRange dport,
                   int icmpType, int icmpCode, int flagMask, int flagValue, Set<State> states) {
    public static final int FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40,
            CWR = 0x80;
    private static final String[] FLAG_NAMES = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};

    /** What a rule does with a packet it matches. */
    public enum Action {
        ACCEPT, DROP
    }

    /** A conntrack state, as the data plane classifies a packet. */
    public enum State {
        /** Opens a connection: a TCP SYN, a UDP datagram or ICMP echo request with no reply seen yet. */
        NEW(1),
        /** Belongs to a tracked connection that has seen traffic both ways (or is its reply). */
        ESTABLISHED(2),
        /** An ICMP error quoting a packet of a tracked connection. */
        RELATED(3),
        /** Fits no connection: a TCP segment other than SYN with no connection, a non-first fragment... */
        INVALID(4);

        /** The number the data plane uses. */
        public final int code;

        State(int code) {
            this.code = code;
        }
    }

    /** An IPv4 prefix; {@code 0.0.0.0/0} matches everything. */
    public record Prefix(int addr, int len) {
        public static final Prefix ANY = new Prefix(0, 0);

        public Prefix {
            if (len < 0 || len > 32) {
                throw new IllegalArgumentException("prefix length must be 0..32, got " + len);
            }
            addr &= mask(len);
        }

        /** The mask of a prefix length. */
        public static int mask(int len) {
            return len == 0 ? 0 : -1 << (32 - len);
        }

        /** True when ip is inside. */
        public boolean contains(int ip) {
            return (ip & mask(len)) == addr;
        }

        /** Parses {@code A.B.C.D/LEN} or {@code A.B.C.D} (a /32). */
        public static Prefix parse(String s) {
            int slash = s.indexOf('/');
            int len = 32;
            if (slash >= 0) {
                try {
                    len = Integer.parseInt(s.substring(slash + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("'" + s + "': bad prefix length");
                }
                if (len < 0 || len > 32) {
                    throw new IllegalArgumentException("'" + s + "': prefix length must be 0..32");
                }
            }
            return new Prefix(ip(slash >= 0 ? s.substring(0, slash) : s), len);
        }

        @Override
        public String toString() {
            return ipString(addr) + "/" + len;
        }
    }

    /** An inclusive port range; {@code 0-65535} matches every port. */
    public record PortRange(int lo, int hi) {
        public static final PortRange ANY = new PortRange(0, 65535);

        public PortRange {
            if (lo < 0 || hi > 65535 || lo > hi) {
                throw new IllegalArgumentException("port range " + lo + "-" + hi + " must be within 0-65535, low first");
            }
        }

        /** True for 0-65535. */
        public boolean isAny() {
            return lo == 0 && hi == 65535;
        }

        /** True when port is inside. */
        public boolean contains(int port) {
            return port >= lo && port <= hi;
        }

        /** The range as prefixes of the 16-bit port space: each {value, prefix length}. */
        public List<int[]> prefixes() {
            List<int[]> out = new ArrayList<>();
            long p = lo;
            while (p <= hi) {
                int bits = 0;
                while (bits < 16 && (p & ((1L << (bits + 1)) - 1)) == 0 && p + (1L << (bits + 1)) - 1 <= hi) {
                    bits++;
                }
                out.add(new int[] {(int) p, 16 - bits});
                p += 1L << bits;
            }
            return out;
        }

        static PortRange parse(String s) {
            int dash = s.indexOf('-');
            try {
                return dash < 0 ? new PortRange(Integer.parseInt(s), Integer.parseInt(s))
                        : new PortRange(Integer.parseInt(s.substring(0, dash)), Integer.parseInt(s.substring(dash + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + s + "' is not a port or a port range P-Q");
            }
        }

        @Override
        public String toString() {
            return lo == hi ? Integer.toString(lo) : lo + "-" + hi;
        }
    }

    public Rule {
        if (action == null || src == null || dst == null || sport == null || dport == null || states == null) {
            throw new IllegalArgumentException("action, prefixes, port ranges and states must not be null");
        }
        if (proto < -1 || proto > 255) {
            throw new IllegalArgumentException("protocol must be 0..255, or -1 for any, got " + proto);
        }
        if ((!sport.isAny() || !dport.isAny()) && proto != 6 && proto != 17) {
            throw new IllegalArgumentException("ports need proto tcp or proto udp");
        }
        if (icmpType < -1 || icmpType > 255) {
            throw new IllegalArgumentException("icmp-type: type must be 0..255, got " + icmpType);
        }
        if (icmpCode < -1 || icmpCode > 255) {
            throw new IllegalArgumentException("icmp-type: code must be 0..255, got " + icmpCode);
        }
        if (icmpCode >= 0 && icmpType < 0) {
            throw new IllegalArgumentException("icmp-type: a code needs a type");
        }
        if (icmpType >= 0 && proto != 1) {
            throw new IllegalArgumentException("icmp-type needs proto icmp");
        }
        if (flagMask != 0 && proto != 6) {
            throw new IllegalArgumentException("flags need proto tcp");
        }
        if ((flagMask & ~0xff) != 0 || (flagValue & ~flagMask) != 0) {
            throw new IllegalArgumentException("flag values must be among the flags looked at");
        }
        states = states.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(states));
    }

    /** A rule without an ICMP type match (the form before ICMP types existed). */
    public Rule(Action action, boolean log, Prefix src, Prefix dst, int proto, PortRange sport, PortRange dport,
                int flagMask, int flagValue, Set<State> states) {
        this(action, log, src, dst, proto, sport, dport, -1, -1, flagMask, flagValue, states);
    }

    /** A rule that matches everything, with an action. */
    public static Rule of(Action action) {
        return new Rule(action, false, Prefix.ANY, Prefix.ANY, -1, PortRange.ANY, PortRange.ANY, -1, -1, 0, 0, Set.of());
    }

    /** This rule with a source prefix. */
    public Rule withSrc(Prefix p) {
        return new Rule(action, log, p, dst, proto, sport, dport, icmpType, icmpCode, flagMask, flagValue, states);
    }

    /** This rule with a destination prefix. */
    public Rule withDst(Prefix p) {
        return new Rule(action, log, src, p, proto, sport, dport, icmpType, icmpCode, flagMask, flagValue, states);
    }

    /** This rule with a protocol (-1: any). */
    public Rule withProto(int p) {
        return new Rule(action, log, src, dst, p, sport, dport, icmpType, icmpCode, flagMask, flagValue, states);
    }

    /** This rule with port ranges. */
    public Rule withPorts(PortRange s, PortRange d) {
        return new Rule(action, log, src, dst, proto, s, d, icmpType, icmpCode, flagMask, flagValue, states);
    }

    /** This rule with TCP flags. */
    public Rule withFlags(int mask, int value) {
        return new Rule(action, log, src, dst, proto, sport, dport, icmpType, icmpCode, mask, value, states);
    }

    /** This rule with conntrack states. */
    public Rule withStates(Set<State> s) {
        return new Rule(action, log, src, dst, proto, sport, dport, icmpType, icmpCode, flagMask, flagValue, s);
    }

    /** This rule with an ICMP type (-1: any) and code (-1: any); needs {@code proto icmp}. */
    public Rule withIcmp(int type, int code) {
        return new Rule(action, log, src, dst, proto, sport, dport, type, code, flagMask, flagValue, states);
    }

    /**
     * The range the classifier's source-port slot matches: the source port range, or for an ICMP
     * code match the code. For ICMP packets the data plane puts the code in that slot and the type
     * in the destination-port slot (docs/firewall.md, "ICMP types").
     */
    PortRange sportSlot() {
        return icmpCode >= 0 ? new PortRange(icmpCode, icmpCode) : sport;
    }

    /** The range the classifier's destination-port slot matches: the port range, or the ICMP type. */
    PortRange dportSlot() {
        return icmpType >= 0 ? new PortRange(icmpType, icmpType) : dport;
    }

    /** This rule, logging. */
    public Rule withLog(boolean l) {
        return new Rule(action, l, src, dst, proto, sport, dport, icmpType, icmpCode, flagMask, flagValue, states);
    }

    /**
     * True when a packet with these fields matches (the reference semantics the data plane follows).
     *
     * @param flags the TCP flags byte (0 for other protocols)
     * @param state the packet's conntrack state
     */
    public boolean matches(int srcIp, int dstIp, int protocol, int srcPort, int dstPort, int flags, State state) {
        return matches(srcIp, dstIp, protocol, srcPort, dstPort, flags, -1, -1, state);
    }

    /**
     * True when a packet with these fields matches, ICMP type and code included.
     *
     * @param type the packet's ICMP type, or -1 when it has no ICMP header (not ICMP, or a non-first
     *     fragment): then no rule with an ICMP type matches
     * @param code the packet's ICMP code (ignored when type is -1)
     */
    public boolean matches(int srcIp, int dstIp, int protocol, int srcPort, int dstPort, int flags, int type, int code,
                           State state) {
        return src.contains(srcIp) && dst.contains(dstIp) && (proto < 0 || proto == protocol)
                && sport.contains(srcPort) && dport.contains(dstPort) && (flags & flagMask) == flagValue
                && (icmpType < 0 || (type >= 0 && icmpType == type)) && (icmpCode < 0 || (type >= 0 && icmpCode == code))
                && (states.isEmpty() || states.contains(state));
    }

    /** Parses the text form; the message of the exception says what is wrong. */
    public static Rule parse(String text) {
        String[] w = text.trim().toLowerCase(Locale.ROOT).split("\\s+");
        if (w.length == 0 || w[0].isEmpty()) {
            throw new IllegalArgumentException("empty rule; expected accept, drop or log first");
        }
        Rule r;
        int i = 1;
        switch (w[0]) {
            case "accept" -> r = of(Action.ACCEPT);
            case "drop" -> r = of(Action.DROP);
            case "log" -> r = of(Action.ACCEPT).withLog(true);
            default -> throw new IllegalArgumentException("'" + w[0] + "': expected accept, drop or log first");
        }
        if (i < w.length && w[i].equals("log")) {
            r = r.withLog(true);
            i++;
        }
        Prefix src = Prefix.ANY, dst = Prefix.ANY;
        int proto = -1, fmask = 0, fvalue = 0, itype = -1, icode = -1;
        PortRange sport = PortRange.ANY, dport = PortRange.ANY;
        Set<State> states = EnumSet.noneOf(State.class);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (; i < w.length; i += 2) {
            String k = w[i];
            if (!seen.add(k)) {
                throw new IllegalArgumentException("'" + k + "' is given twice");
            }
            if (i + 1 >= w.length) {
                throw new IllegalArgumentException("'" + k + "' needs a value");
            }
            String v = w[i + 1];
            switch (k) {
                case "src" -> src = Prefix.parse(v);
                case "dst" -> dst = Prefix.parse(v);
                case "proto" -> proto = switch (v) {
                    case "tcp" -> 6;
                    case "udp" -> 17;
                    case "icmp" -> 1;
                    default -> {
                        try {
                            int n = Integer.parseInt(v);
                            if (n < 0 || n > 255) {
                                throw new NumberFormatException();
                            }
                            yield n;
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("proto '" + v + "': expected tcp, udp, icmp or 0..255");
                        }
                    }
                };
                case "sport" -> sport = PortRange.parse(v);
                case "dport" -> dport = PortRange.parse(v);
                case "icmp-type" -> {
                    int slash = v.indexOf('/');
                    itype = icmpNumber(slash < 0 ? v : v.substring(0, slash), v, "type");
                    icode = slash < 0 ? -1 : icmpNumber(v.substring(slash + 1), v, "code");
                }
                case "flags" -> {
                    for (String f : v.split(",")) {
                        boolean not = f.startsWith("!");
                        String name = not ? f.substring(1) : f;
                        int bit = List.of(FLAG_NAMES).indexOf(name);
                        if (bit < 0) {
                            throw new IllegalArgumentException("flag '" + f + "': expected [!]fin, syn, rst, psh, ack, urg,"
                                    + " ece or cwr");
                        }
                        fmask |= 1 << bit;
                        if (!not) {
                            fvalue |= 1 << bit;
                        }
                    }
                }
                case "state" -> {
                    for (String s : v.split(",")) {
                        try {
                            states.add(State.valueOf(s.toUpperCase(Locale.ROOT)));
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException("state '" + s + "': expected new, established, related or"
                                    + " invalid");
                        }
                    }
                }
                default -> throw new IllegalArgumentException("'" + k + "': expected src, dst, proto, sport, dport,"
                        + " icmp-type, flags or state");
            }
        }
        return new Rule(r.action, r.log, src, dst, proto, sport, dport, itype, icode, fmask, fvalue, states);
    }

    private static int icmpNumber(String s, String value, String what) {
        try {
            int n = Integer.parseInt(s);
            if (n >= 0 && n <= 255) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("icmp-type '" + value + "': " + what + " must be a number 0..255 (syntax: TYPE or"
                + " TYPE/CODE)");
    }

    /** The canonical text form, which {@link #parse} reads back. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(action == Action.ACCEPT ? (log ? "log" : "accept") : "drop");
        if (log && action == Action.DROP) {
            b.append(" log");
        }
        if (src.len() > 0) {
            b.append(" src ").append(src);
        }
        if (dst.len() > 0) {
            b.append(" dst ").append(dst);
        }
        if (proto >= 0) {
            b.append(" proto ").append(switch (proto) {
                case 6 -> "tcp";
                case 17 -> "udp";
                case 1 -> "icmp";
                default -> Integer.toString(proto);
            });
        }
        if (!sport.isAny()) {
            b.append(" sport ").append(sport);
        }
        if (!dport.isAny()) {
            b.append(" dport ").append(dport);
        }
        if (icmpType >= 0) {
            b.append(" icmp-type ").append(icmpType);
            if (icmpCode >= 0) {
                b.append('/').append(icmpCode);
            }
        }
        if (flagMask != 0) {
            List<String> f = new ArrayList<>();
            for (int bit = 0; bit < 8; bit++) {
                if ((flagMask & (1 << bit)) != 0) {
                    f.add(((flagValue & (1 << bit)) != 0 ? "" : "!") + FLAG_NAMES[bit]);
                }
            }
            b.append(" flags ").append(String.join(",", f));
        }
        if (!states.isEmpty()) {
            b.append(" state ").append(String.join(",", EnumSet.copyOf(states).stream()
                    .map(s -> s.name().toLowerCase(Locale.ROOT)).toList()));
        }
        return b.toString();
    }

    static int ip(String s) {
        return ConfigValues.ipv4(s).orElseThrow(() -> new IllegalArgumentException("'" + s + "' is not an IPv4 address"));
    }

    static String ipString(int ip) {
        return ConfigValues.ipString(ip);
    }
}

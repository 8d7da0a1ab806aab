package io.jvisor.modules.firewall;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A firewall's configuration, the typed form of an instance's keys:
 *
 * <ul>
 *   <li>{@code egress.N}, {@code ingress.N}: rule N of a chain ({@link Rule} text). Rules are tried
 *       in the order of N (any non-negative integers; leave gaps to insert between them later);
 *       the first that matches decides.</li>
 *   <li>{@code egress.policy}, {@code ingress.policy}: {@code accept} or {@code drop} (default
 *       {@code accept}) for packets no rule matches; {@code accept log} / {@code drop log} log them.</li>
 *   <li>{@code timeout.tcp.syn}, {@code timeout.tcp.established}, {@code timeout.tcp.fin},
 *       {@code timeout.tcp.close}, {@code timeout.udp}, {@code timeout.icmp}: conntrack timeouts in
 *       seconds (defaults 60, 7200, 120, 10, 30, 30).</li>
 * </ul>
 *
 * <p>The egress chain judges packets that enter on port 0 ("inside") and leave on port 1; the
 * ingress chain judges those that enter on port 1 ("outside") and leave on port 0.
 *
 * @param egress the egress chain's rules by index
 * @param ingress the ingress chain's rules by index
 * @param egressPolicy what happens to egress packets no rule matches
 * @param ingressPolicy same for ingress
 * @param timeouts conntrack timeouts
 */
public record FirewallConfig(NavigableMap<Integer, Rule> egress, NavigableMap<Integer, Rule> ingress, Policy egressPolicy,
                             Policy ingressPolicy, Timeouts timeouts) {
    /** At most this many rules in both chains together. */
    public static final int MAX_RULES = 32768;

    /** A chain of rules, by the direction of the packets it judges. */
    public enum Chain {
        /** Packets from port 0 (inside) to port 1 (outside). */
        EGRESS,
        /** Packets from port 1 (outside) to port 0 (inside). */
        INGRESS;

        /** The key prefix, {@code egress} or {@code ingress}. */
        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A chain's default: what happens to a packet no rule matches. */
    public record Policy(Rule.Action action, boolean log) {
        public static final Policy ACCEPT = new Policy(Rule.Action.ACCEPT, false);
        public static final Policy DROP = new Policy(Rule.Action.DROP, false);

        static Policy parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT).replaceAll("\\s+", " ")) {
                case "accept" -> ACCEPT;
                case "drop" -> DROP;
                case "accept log", "log" -> new Policy(Rule.Action.ACCEPT, true);
                case "drop log" -> new Policy(Rule.Action.DROP, true);
                default -> throw new IllegalArgumentException("expected accept, drop, accept log or drop log");
            };
        }

        @Override
        public String toString() {
            return (action == Rule.Action.ACCEPT ? "accept" : "drop") + (log ? " log" : "");
        }
    }

    /** Conntrack timeouts: how long an idle connection is remembered in each state. */
    public record Timeouts(Duration tcpSyn, Duration tcpEstablished, Duration tcpFin, Duration tcpClose, Duration udp,
                           Duration icmp) {
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(60), Duration.ofSeconds(7200),
                Duration.ofSeconds(120), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(30));
    }

    private static final String[] TIMEOUT_KEYS = {"timeout.tcp.syn", "timeout.tcp.established", "timeout.tcp.fin",
        "timeout.tcp.close", "timeout.udp", "timeout.icmp"};

    public FirewallConfig {
        egress = Collections.unmodifiableNavigableMap(new TreeMap<>(egress));
        ingress = Collections.unmodifiableNavigableMap(new TreeMap<>(ingress));
        if (egress.size() + ingress.size() > MAX_RULES) {
            throw new IllegalArgumentException((egress.size() + ingress.size()) + " rules: at most " + MAX_RULES
                    + " in both chains together");
        }
    }

    /** No rules, both policies accept, default timeouts. */
    public static final FirewallConfig EMPTY = new FirewallConfig(new TreeMap<>(), new TreeMap<>(), Policy.ACCEPT,
            Policy.ACCEPT, Timeouts.DEFAULT);

    /** The rules of a chain by index. */
    public NavigableMap<Integer, Rule> rules(Chain c) {
        return c == Chain.EGRESS ? egress : ingress;
    }

    /** The policy of a chain. */
    public Policy policy(Chain c) {
        return c == Chain.EGRESS ? egressPolicy : ingressPolicy;
    }

    /** This configuration with rule {@code index} of {@code chain} set (added, or replaced). */
    public FirewallConfig withRule(Chain chain, int index, Rule rule) {
        if (index < 0) {
            throw new IllegalArgumentException("rule index must not be negative, got " + index);
        }
        TreeMap<Integer, Rule> m = new TreeMap<>(rules(chain));
        m.put(index, rule);
        return chain == Chain.EGRESS ? new FirewallConfig(m, ingress, egressPolicy, ingressPolicy, timeouts)
                : new FirewallConfig(egress, m, egressPolicy, ingressPolicy, timeouts);
    }

    /** This configuration without rule {@code index} of {@code chain}. */
    public FirewallConfig withoutRule(Chain chain, int index) {
        TreeMap<Integer, Rule> m = new TreeMap<>(rules(chain));
        if (m.remove(index) == null) {
            throw new IllegalArgumentException("chain " + chain.key() + " has no rule " + index);
        }
        return chain == Chain.EGRESS ? new FirewallConfig(m, ingress, egressPolicy, ingressPolicy, timeouts)
                : new FirewallConfig(egress, m, egressPolicy, ingressPolicy, timeouts);
    }

    /** This configuration with a chain's whole rule list replaced (indexes 10, 20, 30...). */
    public FirewallConfig withRules(Chain chain, java.util.List<Rule> list) {
        TreeMap<Integer, Rule> m = new TreeMap<>();
        for (int i = 0; i < list.size(); i++) {
            m.put((i + 1) * 10, list.get(i));
        }
        return chain == Chain.EGRESS ? new FirewallConfig(m, ingress, egressPolicy, ingressPolicy, timeouts)
                : new FirewallConfig(egress, m, egressPolicy, ingressPolicy, timeouts);
    }

    /** This configuration with a chain's policy. */
    public FirewallConfig withPolicy(Chain chain, Policy p) {
        return chain == Chain.EGRESS ? new FirewallConfig(egress, ingress, p, ingressPolicy, timeouts)
                : new FirewallConfig(egress, ingress, egressPolicy, p, timeouts);
    }

    /** This configuration with other timeouts. */
    public FirewallConfig withTimeouts(Timeouts t) {
        return new FirewallConfig(egress, ingress, egressPolicy, ingressPolicy, t);
    }

    /** The instance keys that {@link #parse} reads back into this configuration. */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("egress.policy", egressPolicy.toString());
        m.put("ingress.policy", ingressPolicy.toString());
        Duration[] t = {timeouts.tcpSyn(), timeouts.tcpEstablished(), timeouts.tcpFin(), timeouts.tcpClose(),
            timeouts.udp(), timeouts.icmp()};
        for (int i = 0; i < t.length; i++) {
            m.put(TIMEOUT_KEYS[i], Long.toString(t[i].toSeconds()));
        }
        for (Chain c : Chain.values()) {
            rules(c).forEach((i, r) -> m.put(c.key() + "." + i, r.toString()));
        }
        return m;
    }

    /** Parses an instance's keys; throws IllegalArgumentException naming the key at fault. */
    public static FirewallConfig parse(Map<String, String> config) {
        TreeMap<Integer, Rule> egress = new TreeMap<>(), ingress = new TreeMap<>();
        Policy ep = Policy.ACCEPT, ip = Policy.ACCEPT;
        long[] t = {60, 7200, 120, 10, 30, 30};
        for (var e : config.entrySet()) {
            String k = e.getKey(), v = e.getValue() == null ? "" : e.getValue();
            try {
                if (k.equals("egress.policy")) {
                    ep = Policy.parse(v);
                } else if (k.equals("ingress.policy")) {
                    ip = Policy.parse(v);
                } else if (k.startsWith("egress.") || k.startsWith("ingress.")) {
                    String n = k.substring(k.indexOf('.') + 1);
                    int index;
                    try {
                        index = Integer.parseInt(n);
                        if (index < 0 || !n.equals(Integer.toString(index))) {
                            throw new NumberFormatException();
                        }
                    } catch (NumberFormatException x) {
                        throw new IllegalArgumentException("expected a rule index (a non-negative integer) or policy"
                                + " after the chain name");
                    }
                    (k.startsWith("egress.") ? egress : ingress).put(index, Rule.parse(v));
                } else if (k.startsWith("timeout.")) {
                    int i = java.util.List.of(TIMEOUT_KEYS).indexOf(k);
                    if (i < 0) {
                        throw new IllegalArgumentException("unknown timeout (known: " + String.join(", ", TIMEOUT_KEYS)
                                + ")");
                    }
                    try {
                        t[i] = Long.parseLong(v.trim());
                    } catch (NumberFormatException x) {
                        throw new IllegalArgumentException("expected a number of seconds");
                    }
                    if (t[i] < 1 || t[i] > 10L * 365 * 86400) {
                        throw new IllegalArgumentException("must be from 1 second to 10 years");
                    }
                } else {
                    throw new IllegalArgumentException("unknown key (known: egress.N, ingress.N, egress.policy,"
                            + " ingress.policy, timeout.*)");
                }
            } catch (IllegalArgumentException x) {
                throw new IllegalArgumentException("key '" + k + "': '" + v + "': " + x.getMessage());
            }
        }
        return new FirewallConfig(egress, ingress, ep, ip, new Timeouts(Duration.ofSeconds(t[0]), Duration.ofSeconds(t[1]),
                Duration.ofSeconds(t[2]), Duration.ofSeconds(t[3]), Duration.ofSeconds(t[4]), Duration.ofSeconds(t[5])));
    }
}

package io.jvisor.modules.firewall;

import io.jvisor.modules.firewall.FirewallConfig.Chain;
import io.jvisor.modules.firewall.Rule.State;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference model of the firewall's decisions, written from docs/firewall.md and independent of
 * the data plane's classifier: a linear first-match scan over each chain, and connection tracking
 * as a plain map with the documented state machine (timeouts are not modelled: tests that use it
 * set them long).
 */
final class FirewallModel {
    static final int SYN = Rule.SYN, ACK = Rule.ACK, RST = Rule.RST, FIN = Rule.FIN;

    /** A packet as the model sees it. */
    record Packet(int inPort, int src, int dst, int proto, int sport, int dport, int flags, int icmpType, int icmpCode,
                  int icmpId, Packet quoted, boolean fragment) {}

    private record Key(int src, int dst, int sport, int dport, int proto) {
        Key reversed() {
            return new Key(dst, src, dport, sport, proto);
        }
    }

    private static final class Conn {
        int state; // 1 syn_sent, 2 syn_recv, 3 established, 4 fin_wait, 5 closing, 6 closed; 0 not TCP
        boolean replied, finOrig, finReply;
    }

    private FirewallConfig config;
    private final Map<Key, Conn> ct = new HashMap<>();

    FirewallModel(FirewallConfig config) {
        this.config = config;
    }

    void setConfig(FirewallConfig c) {
        config = c;
    }

    /** The packet's conntrack state, as it would be classified now. */
    State state(Packet p) {
        return classify(p).state;
    }

    private record Classified(State state, Conn conn, boolean reply, boolean trackable, Key key) {}

    private Classified classify(Packet p) {
        Key k = key(p);
        if (p.fragment) {
            return new Classified(State.INVALID, null, false, false, k);
        }
        if (p.proto == 1 && isIcmpError(p.icmpType)) {
            boolean rel = false;
            if (p.quoted != null && (p.quoted.proto == 6 || p.quoted.proto == 17 || p.quoted.proto == 1)) {
                Key q = key(p.quoted);
                rel = ct.containsKey(q) || ct.containsKey(q.reversed());
            }
            return new Classified(rel ? State.RELATED : State.INVALID, null, false, false, k);
        }
        if (p.proto == 1 && p.icmpType != 8 && p.icmpType != 0) {
            return new Classified(State.NEW, null, false, false, k);
        }
        if (p.proto != 6 && p.proto != 17 && p.proto != 1) {
            return new Classified(State.NEW, null, false, false, k);
        }
        Conn c = ct.get(k);
        boolean reply = false;
        if (c == null) {
            c = ct.get(k.reversed());
            reply = c != null;
        }
        int tf = p.flags & (SYN | ACK | RST | FIN);
        if (c == null) {
            State s = p.proto == 6 ? (tf == SYN ? State.NEW : State.INVALID)
                    : p.proto == 1 ? (p.icmpType == 8 ? State.NEW : State.INVALID) : State.NEW;
            return new Classified(s, null, false, s == State.NEW, k);
        }
        if (p.proto != 6) {
            return new Classified(!reply && !c.replied ? State.NEW : State.ESTABLISHED, c, reply, false, k);
        }
        State s;
        boolean trackable = false;
        if ((tf & RST) != 0) {
            s = State.ESTABLISHED;
        } else if (c.state == 1) {
            s = !reply && tf == SYN ? State.NEW : reply && tf == (SYN | ACK) ? State.ESTABLISHED : State.INVALID;
        } else if (c.state == 6) {
            s = !reply && tf == SYN ? State.NEW : State.INVALID;
            trackable = s == State.NEW;
        } else if (c.state == 2 && reply && tf == (SYN | ACK)) {
            s = State.ESTABLISHED;
        } else if ((tf & SYN) != 0) {
            s = State.INVALID;
        } else {
            s = State.ESTABLISHED;
        }
        return new Classified(s, c, reply, trackable, k);
    }

    /** Judges a packet (ARP aside: only IPv4 here); true when it is forwarded. Updates conntrack. */
    boolean judge(Packet p) {
        Chain chain = p.inPort == 0 ? Chain.EGRESS : Chain.INGRESS;
        Classified c = classify(p);
        int sport = (p.proto == 6 || p.proto == 17) && !p.fragment ? p.sport : 0;
        int dport = (p.proto == 6 || p.proto == 17) && !p.fragment ? p.dport : 0;
        int flags = p.proto == 6 && !p.fragment ? p.flags : 0;
        // a non-first fragment has no ICMP header: no icmp-type rule matches it
        int type = p.proto == 1 && !p.fragment ? p.icmpType : -1;
        int code = p.proto == 1 && !p.fragment ? p.icmpCode : -1;
        Rule.Action action = null;
        for (Rule r : List.copyOf(config.rules(chain).values())) {
            if (r.matches(p.src, p.dst, p.proto, sport, dport, flags, type, code, c.state)) {
                action = r.action();
                break;
            }
        }
        if (action == null) {
            action = config.policy(chain).action();
        }
        if (action == Rule.Action.DROP) {
            return false;
        }
        int tf = p.flags & (SYN | ACK | RST | FIN);
        Conn conn = c.conn;
        if (c.trackable && (conn == null || conn.state == 6)) {
            Conn n = new Conn();
            n.state = p.proto == 6 ? 1 : 0;
            ct.put(c.key, n);
        } else if (conn != null) {
            if (c.reply) {
                conn.replied = true;
            }
            if (p.proto == 6) {
                if ((tf & RST) != 0) {
                    conn.state = 6;
                } else if (conn.state == 1 && c.reply && tf == (SYN | ACK)) {
                    conn.state = 2;
                } else if (conn.state == 2 && !c.reply && (tf & ACK) != 0 && (tf & SYN) == 0) {
                    conn.state = 3;
                }
                if ((tf & FIN) != 0 && conn.state != 6) {
                    if (c.reply) {
                        conn.finReply = true;
                    } else {
                        conn.finOrig = true;
                    }
                    conn.state = conn.finOrig && conn.finReply ? 5 : 4;
                }
            }
        }
        return true;
    }

    private static boolean isIcmpError(int t) {
        return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
    }

    private static Key key(Packet p) {
        if (p.proto == 1) {
            int id = p.icmpType == 8 || p.icmpType == 0 ? p.icmpId : 0;
            return new Key(p.src, p.dst, id, id, 1);
        }
        boolean ports = (p.proto == 6 || p.proto == 17) && !p.fragment;
        return new Key(p.src, p.dst, ports ? p.sport : 0, ports ? p.dport : 0, p.proto);
    }
}

package io.jvisor.modules.firewall;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.TestBed;
import io.jvisor.engine.Topology;
import io.jvisor.modules.firewall.FirewallConfig.Chain;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The data plane's decisions on random packets and random rule sets match {@link FirewallModel}, a
 * linear first-match reference with its own conntrack. The packets run through the loaded program
 * with BPF_PROG_TEST_RUN (a forwarded packet returns TC_ACT_REDIRECT, a dropped one TC_ACT_SHOT);
 * conntrack state carries over from packet to packet, and from rule set to rule set, in both.
 *
 * <p>{@code -Djvisor.firewall.diffPackets=N} sets the packet count (default 100,000) and
 * {@code -Djvisor.firewall.diffSeed=S} the seed (default: random, printed on failure).
 */
@RequiresRoot
class FirewallDifferentialTest {
    private static final int TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7;

    private final int[] addrs = {0x0a000001, 0x0a000002, 0x0a000102, 0x0a010203, 0xc0a80001, 0xc0a80164, 0x08080808};
    private final int[] ports = {53, 80, 443, 1000, 1023, 1024, 5000, 8080, 40000, 65535};

    @Test
    void decisionsMatchTheReferenceModelOnRandomPacketsAndRuleSets() {
        int total = Integer.getInteger("jvisor.firewall.diffPackets", 100_000);
        long seed = Long.getLong("jvisor.firewall.diffSeed", new Random().nextLong());
        Random rnd = new Random(seed);
        int perSet = 2000;
        try (TestBed bed = TestBed.create(2, Hook.TC)) {
            Engine e = bed.start(ModuleCatalog.discover());
            FirewallConfig base = FirewallConfig.EMPTY.withTimeouts(new FirewallConfig.Timeouts(Duration.ofHours(1),
                    Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1)));
            FirewallModel model = new FirewallModel(base);
            int done = 0, sets = 0, forwarded = 0;
            while (done < total) {
                FirewallConfig c = base;
                for (Chain ch : Chain.values()) {
                    List<Rule> rules = new ArrayList<>();
                    int n = 1 + rnd.nextInt(60);
                    for (int i = 0; i < n; i++) {
                        rules.add(randomRule(rnd));
                    }
                    c = c.withRules(ch, rules).withPolicy(ch, rnd.nextBoolean() ? FirewallConfig.Policy.ACCEPT
                            : FirewallConfig.Policy.DROP);
                }
                e.apply(Topology.builder().instance("fw", "firewall", c.toMap()).connect("fw:0", bed.dev(1))
                        .connect("fw:1", bed.dev(2)).build());
                model.setConfig(c);
                sets++;
                try (BpfProgram prog = BpfProgram.fromId(e.programId("fw"))) {
                    List<FirewallModel.Packet> recent = new ArrayList<>();
                    for (int i = 0; i < perSet && done < total; i++, done++) {
                        FirewallModel.Packet p = randomPacket(rnd, recent);
                        recent.add(p);
                        if (recent.size() > 50) {
                            recent.remove(0);
                        }
                        var state = model.state(p);
                        boolean want = model.judge(p);
                        int got = prog.testRun(new TestRun(Frames.frame(p), 0, Frames.skbContext(p.inPort()), 0, 0, 0, 0, 0))
                                .returnValue();
                        assertThat(got).as("seed %d, rule set %d, packet %d: %s (state %s)\nconfig %s", seed, sets, i, p,
                                state, c.toMap()).isEqualTo(want ? TC_ACT_REDIRECT : TC_ACT_SHOT);
                        forwarded += want ? 1 : 0;
                    }
                }
            }
            // both verdicts were exercised in earnest
            assertThat(forwarded).isBetween(total / 20, total - total / 20);
        }
    }

    private Rule randomRule(Random r) {
        Rule rule = Rule.of(r.nextInt(3) == 0 ? Rule.Action.DROP : Rule.Action.ACCEPT);
        int[] lens = {0, 8, 16, 24, 32};
        if (r.nextInt(3) > 0) {
            rule = rule.withSrc(new Rule.Prefix(addrs[r.nextInt(addrs.length)], lens[r.nextInt(lens.length)]));
        }
        if (r.nextInt(3) > 0) {
            rule = rule.withDst(new Rule.Prefix(addrs[r.nextInt(addrs.length)], lens[r.nextInt(lens.length)]));
        }
        int kind = r.nextInt(6);
        if (kind == 0 || kind == 1) {
            rule = rule.withProto(kind == 0 ? 6 : 17);
            rule = rule.withPorts(r.nextInt(3) == 0 ? randomRange(r) : Rule.PortRange.ANY,
                    r.nextInt(2) == 0 ? randomRange(r) : Rule.PortRange.ANY);
            if (kind == 0 && r.nextInt(3) == 0) {
                int mask = Rule.SYN | (r.nextBoolean() ? Rule.ACK : 0) | (r.nextInt(4) == 0 ? Rule.RST : 0);
                rule = rule.withFlags(mask, mask & r.nextInt(256));
            }
        } else if (kind == 2 || kind == 3) {
            rule = rule.withProto(kind == 3 || r.nextBoolean() ? 1 : 47);
            if (rule.proto() == 1 && r.nextInt(3) > 0) {
                // an ICMP type, sometimes with a code: they share the port slots (and classes) with
                // the TCP and UDP rules of the chain
                rule = rule.withIcmp(icmpType(r), r.nextInt(3) == 0 ? icmpCode(r) : -1);
            }
        }
        if (r.nextInt(2) == 0) {
            Set<Rule.State> s = EnumSet.noneOf(Rule.State.class);
            for (Rule.State st : Rule.State.values()) {
                if (r.nextInt(3) == 0) {
                    s.add(st);
                }
            }
            rule = rule.withStates(s);
        }
        return rule;
    }

    private Rule.PortRange randomRange(Random r) {
        // arbitrary ranges cut the port space into many classes, so that wide ranges are expanded
        // into prefixes while narrow ones are matched by class: both dimensions are exercised
        return switch (r.nextInt(6)) {
            case 4, 5 -> {
                int a = r.nextInt(65536), b = r.nextInt(65536);
                yield new Rule.PortRange(Math.min(a, b), Math.max(a, b));
            }
            case 0 -> {
                int p = ports[r.nextInt(ports.length)];
                yield new Rule.PortRange(p, p);
            }
            case 1 -> new Rule.PortRange(0, 1023);
            case 2 -> new Rule.PortRange(1024, 65535);
            default -> {
                int a = ports[r.nextInt(ports.length)], b = ports[r.nextInt(ports.length)];
                yield new Rule.PortRange(Math.min(a, b), Math.max(a, b));
            }
        };
    }

    private FirewallModel.Packet randomPacket(Random r, List<FirewallModel.Packet> recent) {
        // often the reverse of a recent packet, so that replies and established states come up
        if (!recent.isEmpty() && r.nextInt(3) == 0) {
            FirewallModel.Packet o = recent.get(r.nextInt(recent.size()));
            if (o.proto() == 1 && o.quoted() == null) {
                return new FirewallModel.Packet(o.inPort() ^ 1, o.dst(), o.src(), 1, 0, 0, 0,
                        o.icmpType() == 8 ? 0 : 8, r.nextInt(4) == 0 ? icmpCode(r) : 0, o.icmpId(), null, false);
            }
            if (o.proto() == 6 || o.proto() == 17) {
                if (r.nextInt(4) == 0) {
                    // an ICMP error quoting it, from the other side
                    return new FirewallModel.Packet(o.inPort() ^ 1, addrs[r.nextInt(addrs.length)], o.src(), 1, 0, 0, 0,
                            r.nextBoolean() ? 3 : 11, icmpCode(r), 0, o, false);
                }
                return new FirewallModel.Packet(r.nextInt(4) == 0 ? o.inPort() : o.inPort() ^ 1, o.dst(), o.src(),
                        o.proto(), o.dport(), o.sport(), tcpFlags(r), 0, 0, 0, null, false);
            }
        }
        int in = r.nextInt(2);
        int src = addrs[r.nextInt(addrs.length)], dst = addrs[r.nextInt(addrs.length)];
        int proto = switch (r.nextInt(10)) {
            case 0, 1, 2, 3 -> 6;
            case 4, 5, 6 -> 17;
            case 7, 8 -> 1;
            default -> 47;
        };
        boolean frag = r.nextInt(40) == 0;
        int sport = r.nextInt(3) == 0 ? r.nextInt(65536) : ports[r.nextInt(ports.length)];
        int dport = r.nextInt(3) == 0 ? r.nextInt(65536) : ports[r.nextInt(ports.length)];
        if (proto == 1) {
            int type = switch (r.nextInt(8)) {
                case 0, 1, 2 -> 8;
                case 3 -> 0;
                case 4 -> 13;
                case 5 -> 11;
                case 6 -> r.nextInt(256);
                default -> 3;
            };
            int code = r.nextInt(3) == 0 ? icmpCode(r) : 0;
            FirewallModel.Packet quoted = (type == 3 || type == 11) && r.nextInt(4) > 0
                    ? new FirewallModel.Packet(in ^ 1, dst, src, 1, 0, 0, 0, 8, 0, r.nextInt(4), null, false) : null;
            return new FirewallModel.Packet(in, src, dst, 1, 0, 0, 0, type, code, r.nextInt(4), quoted, frag);
        }
        return new FirewallModel.Packet(in, src, dst, proto, sport, dport, proto == 6 ? tcpFlags(r) : 0, 0, 0, 0, null,
                frag);
    }

    private static int icmpType(Random r) {
        return switch (r.nextInt(8)) {
            case 0, 1 -> 8;
            case 2, 3 -> 0;
            case 4 -> 3;
            case 5 -> 11;
            case 6 -> 13;
            default -> r.nextInt(256);
        };
    }

    private static int icmpCode(Random r) {
        return switch (r.nextInt(5)) {
            case 0, 1 -> 0;
            case 2 -> 1;
            case 3 -> 3;
            default -> r.nextInt(256);
        };
    }

    private static int tcpFlags(Random r) {
        return switch (r.nextInt(8)) {
            case 0, 1 -> Rule.SYN;
            case 2 -> Rule.SYN | Rule.ACK;
            case 3, 4 -> Rule.ACK;
            case 5 -> Rule.FIN | Rule.ACK;
            case 6 -> Rule.RST;
            default -> r.nextInt(256);
        };
    }
}

package io.jvisor.modules.firewall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The control plane's classifier compiler and the rule language. */
class TupleSpaceTest {

    @Test
    void rulesOfOneShapeShareOneTupleWhateverTheirCount() {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            rules.add(Rule.parse("drop proto udp src 198.18." + (i / 250) + "." + (i % 250) + "/32 dport 5000-5999"));
        }
        rules.add(Rule.parse("accept"));
        TupleSpace ts = TupleSpace.compile(rules, "egress", TupleSpace.MAX_ENTRIES);
        // the port range is one class: one tuple for the 9,999 rules, one for the catch-all
        assertThat(ts.tuples()).hasSize(2);
        assertThat(ts.entries()).hasSize(10_001);
        assertThat(ts.tuples().get(0).dportLen()).isEqualTo(TupleSpace.CLASS);
        assertThat(ts.tuples().get(1).minPrio()).isEqualTo(10_000);
    }

    @Test
    void aRangeSpanningManyClassesIsExpandedIntoPrefixes() {
        List<Rule> rules = new ArrayList<>();
        for (int p = 0; p < 100; p++) {
            rules.add(Rule.parse("accept proto tcp dport " + (2000 + 2 * p)));
        }
        rules.add(Rule.parse("drop proto tcp dport 1024-65535"));
        TupleSpace ts = TupleSpace.compile(rules, "egress", TupleSpace.MAX_ENTRIES);
        assertThat(ts.tuples()).anyMatch(t -> t.dportLen() == TupleSpace.CLASS);
        assertThat(ts.tuples()).anyMatch(t -> t.dportLen() == 6); // 1024-2047
        assertThat(new Rule.PortRange(1024, 65535).prefixes()).extracting(a -> a[1]).containsExactly(6, 5, 4, 3, 2, 1);
    }

    @Test
    void aShadowedEntryKeepsTheFirstRule() {
        TupleSpace ts = TupleSpace.compile(List.of(Rule.parse("accept proto udp dport 53"),
                Rule.parse("drop proto udp dport 53")), "egress", 100);
        assertThat(ts.entries()).hasSize(1);
        assertThat(ts.entries().getFirst().prio()).isZero();
    }

    @Test
    void tooManyTuplesOrEntriesAreRefusedNamingTheRule() {
        List<Rule> rules = new ArrayList<>();
        for (int s = 0; s <= 32; s++) {
            for (int d = 0; d <= 32; d++) {
                rules.add(Rule.parse("accept src 10.0.0.0/" + s + " dst 10.0.0.0/" + d));
            }
        }
        assertThatThrownBy(() -> TupleSpace.compile(rules, "ingress", TupleSpace.MAX_ENTRIES))
                .hasMessageContaining("chain ingress: rule 1025").hasMessageContaining("1024");
        assertThatThrownBy(() -> TupleSpace.compile(List.of(Rule.parse("accept"), Rule.parse("drop proto icmp")), "egress", 1))
                .hasMessageContaining("rule 2");
    }

    @Test
    void ruleTextReadsBackAndErrorsSayWhatIsWrong() {
        String text = "drop log src 10.1.0.0/16 dst 192.0.2.1/32 proto tcp sport 1024-65535 dport 443 flags syn,!ack"
                + " state new,invalid";
        assertThat(Rule.parse(text).toString()).isEqualTo(text);
        assertThat(Rule.parse("log proto icmp").log()).isTrue();
        assertThatThrownBy(() -> Rule.parse("reject")).hasMessageContaining("'reject'");
        assertThatThrownBy(() -> Rule.parse("accept proto udp dport 9-3")).hasMessageContaining("9-3");
        assertThatThrownBy(() -> Rule.parse("accept flags syn")).hasMessageContaining("flags need proto tcp");
        assertThatThrownBy(() -> Rule.parse("accept state old")).hasMessageContaining("state 'old'");
        assertThatThrownBy(() -> Rule.parse("accept src 1.2.3.4/33")).hasMessageContaining("0..32");
        assertThatThrownBy(() -> Rule.parse("accept src 1.2.3.4 src 1.2.3.5")).hasMessageContaining("twice");
    }

    @Test
    void icmpTypesAndCodesReadBackAndAreRefusedWithoutProtoIcmpOrOutOfRange() {
        String text = "drop src 10.1.0.0/16 proto icmp icmp-type 3/4 state related";
        assertThat(Rule.parse(text).toString()).isEqualTo(text);
        Rule echo = Rule.parse("accept proto icmp icmp-type 8");
        assertThat(echo.icmpType()).isEqualTo(8);
        assertThat(echo.icmpCode()).isEqualTo(-1);
        assertThat(echo.toString()).isEqualTo("accept proto icmp icmp-type 8");
        // the reference semantics: type and code must both fit; a packet without an ICMP header matches no type
        Rule unreach = Rule.parse(text);
        int a = Rule.ip("10.1.2.3"), b = Rule.ip("10.9.9.9");
        assertThat(unreach.matches(a, b, 1, 0, 0, 0, 3, 4, Rule.State.RELATED)).isTrue();
        assertThat(unreach.matches(a, b, 1, 0, 0, 0, 3, 3, Rule.State.RELATED)).isFalse();
        assertThat(echo.matches(a, b, 1, 0, 0, 0, 8, 200, Rule.State.NEW)).isTrue();
        assertThat(echo.matches(a, b, 1, 0, 0, 0, 0, 0, Rule.State.NEW)).isFalse();
        assertThat(echo.matches(a, b, 1, 0, 0, 0, -1, -1, Rule.State.INVALID)).isFalse();

        assertThatThrownBy(() -> Rule.parse("accept icmp-type 8")).hasMessageContaining("icmp-type needs proto icmp");
        assertThatThrownBy(() -> Rule.parse("accept proto tcp icmp-type 8")).hasMessageContaining("icmp-type needs proto icmp");
        assertThatThrownBy(() -> Rule.parse("accept proto icmp icmp-type 256")).hasMessageContaining("icmp-type '256'")
                .hasMessageContaining("type must be a number 0..255");
        assertThatThrownBy(() -> Rule.parse("accept proto icmp icmp-type 3/300")).hasMessageContaining("icmp-type '3/300'")
                .hasMessageContaining("code must be a number 0..255");
        assertThatThrownBy(() -> Rule.parse("accept proto icmp icmp-type -1")).hasMessageContaining("icmp-type '-1'");
        assertThatThrownBy(() -> Rule.parse("accept proto icmp icmp-type echo")).hasMessageContaining("icmp-type 'echo'");
        assertThatThrownBy(() -> Rule.parse("accept proto icmp icmp-type 8 icmp-type 0")).hasMessageContaining("twice");
        assertThatThrownBy(() -> Rule.of(Rule.Action.ACCEPT).withProto(1).withIcmp(-1, 4))
                .hasMessageContaining("a code needs a type");
        assertThatThrownBy(() -> FirewallConfig.parse(java.util.Map.of("ingress.20", "drop proto udp icmp-type 8")))
                .hasMessageContaining("key 'ingress.20'").hasMessageContaining("'drop proto udp icmp-type 8'")
                .hasMessageContaining("icmp-type needs proto icmp");
    }

    @Test
    void anIcmpTypeIsAClassOfTheDestinationPortSlotAndACodeOfTheSourcePortSlot() {
        // an ICMP type and code share the port slots with the TCP and UDP ports of the chain
        TupleSpace ts = TupleSpace.compile(List.of(Rule.parse("accept proto tcp dport 7-8"),
                Rule.parse("drop proto icmp icmp-type 8"), Rule.parse("drop proto icmp icmp-type 3/4"),
                Rule.parse("accept proto icmp")), "ingress", 100);
        // TCP 7-8 and type 8 in one tuple (protocol, destination class); 3/4 in (protocol, both classes);
        // the catch-all ICMP rule in (protocol)
        assertThat(ts.tuples()).hasSize(3);
        assertThat(ts.dportClass()[8]).isNotIn(ts.dportClass()[7], ts.dportClass()[3], ts.dportClass()[9]);
        TupleSpace.Entry echo = ts.entries().stream().filter(e -> e.prio() == 1).findFirst().orElseThrow();
        assertThat(ts.tuples().get(echo.tuple()).dportLen()).isEqualTo(TupleSpace.CLASS);
        assertThat(ts.tuples().get(echo.tuple()).sportLen()).isZero();
        assertThat(echo.proto()).isEqualTo(1);
        assertThat(echo.dport()).isEqualTo(ts.dportClass()[8]);
        TupleSpace.Entry unreach = ts.entries().stream().filter(e -> e.prio() == 2).findFirst().orElseThrow();
        assertThat(unreach.dport()).isEqualTo(ts.dportClass()[3]);
        assertThat(unreach.sport()).isEqualTo(ts.sportClass()[4]).isNotEqualTo(ts.sportClass()[3]);
        // the data plane's FW_ICMP_NONE (256, no ICMP header) is in no type's class
        assertThat(ts.dportClass()[256]).isNotIn(ts.dportClass()[8], ts.dportClass()[3]);
    }

    @Test
    void configurationReadsBackFromItsKeys() {
        FirewallConfig c = FirewallConfig.EMPTY.withPolicy(FirewallConfig.Chain.INGRESS, FirewallConfig.Policy.DROP)
                .withRule(FirewallConfig.Chain.INGRESS, 5, Rule.parse("accept state established,related"))
                .withRule(FirewallConfig.Chain.EGRESS, 70, Rule.parse("drop proto udp dport 53"));
        assertThat(FirewallConfig.parse(c.toMap())).isEqualTo(c);
        assertThatThrownBy(() -> FirewallConfig.parse(java.util.Map.of("egress.-1", "accept")))
                .hasMessageContaining("key 'egress.-1'");
        assertThatThrownBy(() -> FirewallConfig.parse(java.util.Map.of("policy", "accept")))
                .hasMessageContaining("unknown key");
    }
}

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

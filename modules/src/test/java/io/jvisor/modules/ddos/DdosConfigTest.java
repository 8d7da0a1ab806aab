package io.jvisor.modules.ddos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvisor.net.IpPrefix;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The ddos configuration's keys, and the GCRA parameters the data plane gets. */
class DdosConfigTest {
    @Test
    void keysRoundTripNormaliseAndNameTheKeyWhenWrong() {
        DdosConfig c = DdosConfig.parse(Map.of("block.src", "192.0.2.7/24, 198.51.100.1 192.0.2.0/24",
                "block.dst", "203.0.113.0/25", "rate.pps", "1000", "ports", "0,1"));
        assertThat(c.blockedSources()).containsExactly(IpPrefix.parse("192.0.2.0/24"), IpPrefix.parse("198.51.100.1/32"));
        assertThat(c.blockedDestinations()).containsExactly(IpPrefix.parse("203.0.113.0/25"));
        assertThat(c.rateLimit()).isEqualTo(new RateLimit(1000, 1000)); // burst defaults to one second's worth
        assertThat(c.ports()).isEqualTo(Set.of(0, 1));
        assertThat(DdosConfig.parse(c.toConfig())).isEqualTo(c);
        assertThat(DdosConfig.parse(Map.of())).isEqualTo(DdosConfig.NONE);
        assertThatThrownBy(() -> DdosConfig.parse(Map.of("rate.pps", "10", "rate.burst", "0")))
                .hasMessageContaining("'rate.burst'");
        assertThatThrownBy(() -> DdosConfig.parse(Map.of("block.dst", "10.0.0.1/40")))
                .hasMessageContaining("'block.dst'");
        assertThatThrownBy(() -> DdosConfig.NONE.withBlockedSources(List.of(IpPrefix.parse("::1"))))
                .hasMessageContaining("not IPv4");
    }

    @Test
    void gcraParametersAreIntervalAndTolerance() {
        RateLimit r = new RateLimit(1000, 500);
        assertThat(r.intervalNanos()).isEqualTo(1_000_000);
        assertThat(r.toleranceNanos()).isEqualTo(499L * 1_000_000);
        assertThat(new RateLimit(3, 1).intervalNanos()).isEqualTo(333_333_333);
        assertThat(new RateLimit(3, 1).toleranceNanos()).isZero();
        assertThat(new RateLimit(1_000_000_000L, 1_000_000_000L).toleranceNanos()).isEqualTo(999_999_999L);
    }
}

package io.jvisor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The {@code --generator} values, and the af-packet generator's limits. Pure: no root needed. */
class GeneratorChoiceTest {
    @Test
    void everyChoiceParsesFromItsOptionValue() {
        for (PacketGenerator.Choice c : PacketGenerator.Choice.values()) {
            assertThat(PacketGenerator.Choice.parse(c.option())).isEqualTo(c);
        }
        assertThat(PacketGenerator.Choice.parse("af-packet")).isEqualTo(PacketGenerator.Choice.AF_PACKET);
        assertThatThrownBy(() -> PacketGenerator.Choice.parse("xdp"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--generator xdp").hasMessageContaining("live, af-packet, auto");
    }

    @Test
    void afPacketDescribesItselfAndRefusesBadSizes() {
        PacketGenerator g = new PacketGenerator.AfPacket(2, 256, "forced (--generator af-packet)");
        assertThat(g.kind()).isEqualTo(PacketGenerator.Choice.AF_PACKET);
        assertThat(g.needsNapi()).isFalse();
        assertThat(g.summary()).startsWith("af-packet (2 sender threads").contains("PACKET_QDISC_BYPASS", "sendmmsg")
                .endsWith("; forced (--generator af-packet)");
        assertThatThrownBy(() -> new PacketGenerator.AfPacket(0, 256, "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PacketGenerator.AfPacket(1, 1025, "")).isInstanceOf(IllegalArgumentException.class);
    }
}

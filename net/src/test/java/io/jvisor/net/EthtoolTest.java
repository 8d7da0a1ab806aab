package io.jvisor.net;

import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** tx checksum offload through SIOCETHTOOL, checked against {@code ethtool -k}. */
@RequiresRoot
class EthtoolTest {

    @Test
    void txChecksumOffOnVeth() {
        try (Netns ns = Netns.create(Names.unique("jtk"));
             Rtnl rtnl = Rtnl.open(ns);
             Ethtool ethtool = Ethtool.open(ns)) {
            rtnl.createVeth("k0", "k1");
            assertThat(ethtool.txChecksum("k0")).isTrue();
            assertThat(txChecksumByEthtool(ns, "k0")).isEqualTo("on");

            ethtool.setTxChecksum("k0", false);
            assertThat(ethtool.txChecksum("k0")).isFalse();
            assertThat(txChecksumByEthtool(ns, "k0")).isEqualTo("off");
            assertThat(txChecksumByEthtool(ns, "k1")).as("the peer keeps its own setting").isEqualTo("on");

            ethtool.setTxChecksum("k0", true);
            assertThat(txChecksumByEthtool(ns, "k0")).isEqualTo("on");

            NetlinkException e = catchThrowableOfType(NetlinkException.class, () -> ethtool.setTxChecksum("nosuch0", false));
            assertThat(e.errno()).isEqualTo(19);
            assertThat(e.device()).isEqualTo("nosuch0");
        }
    }

    private static String txChecksumByEthtool(Netns ns, String dev) {
        String out = Ip.run(List.of("ip", "netns", "exec", ns.name(), "ethtool", "-k", dev));
        return out.lines().filter(l -> l.startsWith("tx-checksumming:")).findFirst().orElseThrow()
                .replace("tx-checksumming:", "").trim().split("\\s")[0];
    }
}

package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The link probe of a process that cannot make a private network namespace (no CAP_SYS_ADMIN, as
 * jvisord under its unit) reads the kernel's refusal of a request that attaches nothing, and must
 * give the answer that attaching in a private namespace gives.
 */
@RequiresRoot
class LinkProbeTest {
    @Test
    void probingWithoutANamespaceAgreesWithProbingInOne() {
        Map<AttachType, Support> inNetns = Features.probeLinkAttachTypes();
        for (AttachType t : Features.LINK_ATTACH_TYPES) {
            Support byRefusal = Features.probeLinkAttachTypeByRefusal(t, "test");
            assertThat(byRefusal.probed()).as(t.kernelName()).isTrue();
            assertThat(byRefusal.supported()).as(t + ": " + byRefusal + " vs " + inNetns.get(t))
                    .isEqualTo(inNetns.get(t).supported());
            assertThat(byRefusal.detail()).as(t.kernelName()).endsWith("test");
        }
    }

    @Test
    void theOneTypeProbeAgreesWithTheFullOne() {
        Map<AttachType, Support> full = Features.probeLinkAttachTypes();
        for (AttachType t : Features.LINK_ATTACH_TYPES) {
            assertThat(Features.probeLinkAttachType(t).supported()).as(t.kernelName()).isEqualTo(full.get(t).supported());
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Features.probeLinkAttachType(AttachType.CGROUP_INET_INGRESS))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void probingWithoutANamespaceAttachesNothing() throws Exception {
        String before = bpftoolNet();
        for (AttachType t : Features.LINK_ATTACH_TYPES) {
            Features.probeLinkAttachTypeByRefusal(t, "test");
        }
        assertThat(bpftoolNet()).isEqualTo(before);
    }

    /** What the loopback device has attached, as bpftool shows it. */
    private static String bpftoolNet() throws Exception {
        Process p = new ProcessBuilder("bpftool", "net", "show", "dev", "lo").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }
}

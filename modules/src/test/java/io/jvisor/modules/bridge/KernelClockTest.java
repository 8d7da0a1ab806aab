package io.jvisor.modules.bridge;

import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The control plane's view of the kernel's tick counter, which the bridge stamps FDB entries with. */
@RequiresRoot
class KernelClockTest {
    @Test
    void aMeasuredRateSnapsToAKernelHzOnlyWhenClose() {
        assertThat(KernelClock.hz(249.2)).isEqualTo(250);
        assertThat(KernelClock.hz(252.9)).isEqualTo(250);
        assertThat(KernelClock.hz(255.0)).as("nearer 256 than 250").isEqualTo(256);
        assertThat(KernelClock.hz(1003.7)).isEqualTo(1000);
        assertThat(KernelClock.hz(99.2)).isEqualTo(100);
        assertThat(KernelClock.hz(300.4)).isEqualTo(300);
        assertThat(KernelClock.hz(400.2)).as("no kernel rate near: rounded").isEqualTo(400);
        assertThatThrownBy(() -> KernelClock.hz(3.0)).hasMessageContaining("HZ");
    }

    /**
     * The jiffies the control plane computes from System.nanoTime() are the kernel's own, to a tick
     * (two of slack: on a busy VM the tick that advances jiffies may come late).
     */
    @Test
    void computedJiffiesMatchTheKernels() {
        KernelClock.Calibration c = KernelClock.calibration();
        assertThat(c.tickNs()).isEqualTo((1_000_000_000L + c.hz() / 2) / c.hz());
        for (int i = 0; i < 20; i++) {
            long before = KernelClock.now();
            long[] kernel = KernelClock.kernelSample();
            long after = KernelClock.now();
            assertThat(kernel[1]).as("the kernel's jiffies between two computed readings")
                    .isBetween(before - 2, after + 2);
            assertThat(c.jiffiesAt(kernel[0])).as("at the kernel's own monotonic time")
                    .isBetween(kernel[1] - 2, kernel[1] + 2);
        }
    }
}

package io.jvisor.bpf.btf;

import io.jvisor.bpf.BpfException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The running kernel's own BTF ({@code /sys/kernel/btf/vmlinux}), parsed once on first use. */
public final class KernelBtf {
    private KernelBtf() {}

    /** Where the kernel exposes its BTF. */
    public static final Path VMLINUX = Path.of("/sys/kernel/btf/vmlinux");

    private static volatile Btf vmlinux;

    /**
     * The kernel's BTF.
     *
     * @throws BpfException when the kernel has none (CONFIG_DEBUG_INFO_BTF off) or it cannot be parsed
     */
    public static Btf vmlinux() {
        Btf b = vmlinux;
        if (b == null) {
            synchronized (KernelBtf.class) {
                b = vmlinux;
                if (b == null) {
                    try {
                        b = Btf.parse(Files.readAllBytes(VMLINUX));
                    } catch (IOException e) {
                        throw new BpfException("read " + VMLINUX, 0, "the kernel exposes no BTF (CONFIG_DEBUG_INFO_BTF): "
                                + e.getMessage());
                    } catch (BtfFormatException e) {
                        throw new BpfException("parse " + VMLINUX, 0, e.getMessage());
                    }
                    vmlinux = b;
                }
            }
        }
        return b;
    }

    /**
     * The vmlinux BTF id that a {@code tp_btf/<event>} program attaches to: the typedef
     * {@code btf_trace_<event>}.
     *
     * @throws BpfException when the kernel has no such tracepoint
     */
    public static int rawTracepointId(String event) {
        return vmlinux().find(BtfKind.TYPEDEF, "btf_trace_" + event).orElseThrow(() -> new BpfException(
                "find tp_btf target '" + event + "'", 0, "the kernel's BTF has no typedef btf_trace_" + event
                        + "; see /sys/kernel/tracing/available_events"));
    }
}

package io.jvisor.bpf.features;

import io.jvisor.bpf.BpfException;

/**
 * bpf() refused the plainest requests (an array map, a socket filter) with EPERM: this process may
 * not use BPF at all, so no feature can be probed. It names the effective capabilities.
 */
public final class InsufficientPrivilegeException extends BpfException {
    private final transient Capabilities capabilities;

    /**
     * @param operation what was refused
     * @param errno the errno (EPERM or EACCES)
     * @param capabilities the process's effective capabilities
     */
    public InsufficientPrivilegeException(String operation, int errno, Capabilities capabilities) {
        super(operation, errno, hint(capabilities));
        this.capabilities = capabilities;
    }

    private static String hint(Capabilities caps) {
        String missing = caps.missing().isEmpty() ? "none" : String.join(" ", caps.missing());
        String sysctl = Refusals.unprivilegedBpfDisabled() && !caps.allows(Capability.BPF)
                ? " (kernel.unprivileged_bpf_disabled is set, so even array maps need CAP_BPF)" : "";
        return caps.permissionHint() + sysctl + "; effective capabilities " + caps.hex() + ", missing: " + missing;
    }

    /** The effective capabilities of the refused process. */
    public Capabilities capabilities() {
        return capabilities;
    }
}

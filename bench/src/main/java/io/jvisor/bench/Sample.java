package io.jvisor.bench;

/**
 * One measurement of one operation, per operation (per element for batch operations): wall-clock
 * time, and the process's user and system CPU time over the same stretch.
 */
public record Sample(double ns, double userNs, double sysNs) {
    /** User plus system CPU time. */
    public double cpuNs() {
        return userNs + sysNs;
    }
}

package io.jvisor.net.lab;

/**
 * Run in a child JVM by {@link LabShutdownTest}: brings a lab up under the given prefix, says so
 * on stdout, and exits without closing it, leaving tear-down to the shutdown hook.
 */
public final class LabExitProbe {
    private LabExitProbe() {}

    /** {@code PREFIX NET} where NET is "10.x.y.". */
    public static void main(String[] args) {
        Lab.up(LabSetupBenchmark.spec(2, args[1]), args[0]);
        System.out.println("up");
        System.out.flush();
        System.exit(0);
    }
}

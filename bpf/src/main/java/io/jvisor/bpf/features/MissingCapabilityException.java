package io.jvisor.bpf.features;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A process lacks capabilities that a piece of work needs; thrown before the work starts, so that
 * the error names the capabilities instead of the first EPERM they would cause.
 */
public final class MissingCapabilityException extends RuntimeException {
    private final String work;
    private final List<Capability> missing;
    private final transient Capabilities effective;

    /**
     * @param work what needs them, such as {@code "jvisord"}
     * @param needed everything the work needs
     * @param missing those of {@code needed} the process lacks (at least one)
     * @param effective the process's effective set
     * @param hint how to grant them, or empty
     */
    public MissingCapabilityException(String work, List<Capability> needed, List<Capability> missing,
                                      Capabilities effective, String hint) {
        super(message(work, needed, missing, effective, hint));
        if (missing.isEmpty()) {
            throw new IllegalArgumentException("a MissingCapabilityException needs a missing capability");
        }
        this.work = work;
        this.missing = List.copyOf(missing);
        this.effective = effective;
    }

    /** What needs the capabilities. */
    public String work() {
        return work;
    }

    /** The capabilities the process lacks. */
    public List<Capability> missing() {
        return missing;
    }

    /** The process's effective set. */
    public Capabilities effective() {
        return effective;
    }

    private static String message(String work, List<Capability> needed, List<Capability> missing,
                                  Capabilities effective, String hint) {
        return work + " needs " + join(needed) + "; this process lacks " + join(missing) + " (effective: "
                + effective.describe() + ")" + (hint == null || hint.isEmpty() ? "" : ". " + hint);
    }

    private static String join(List<Capability> caps) {
        return caps.stream().map(Capability::capName).collect(Collectors.joining(", "));
    }
}

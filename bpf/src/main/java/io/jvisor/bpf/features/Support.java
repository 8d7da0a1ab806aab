package io.jvisor.bpf.features;

/**
 * The outcome of one probe.
 *
 * @param supported whether the kernel accepted it
 * @param probed false when the feature cannot be probed without a target (BTF id, device)
 * @param detail the errno or reason when not supported, or empty
 */
public record Support(boolean supported, boolean probed, String detail) {
    /** Supported. */
    public static final Support YES = new Support(true, true, "");

    /** Not supported, with the kernel's reason. */
    public static Support no(String detail) {
        return new Support(false, true, detail);
    }

    /** Not probed, with the reason. */
    public static Support notProbed(String why) {
        return new Support(false, false, why);
    }

    /** "yes", "no" or "not probed". */
    public String word() {
        return !probed ? "not probed" : supported ? "yes" : "no";
    }
}

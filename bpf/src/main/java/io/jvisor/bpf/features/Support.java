package io.jvisor.bpf.features;

import io.jvisor.bpf.Errno;

/**
 * The outcome of one probe.
 *
 * @param supported whether the kernel accepted it
 * @param probed false when the feature cannot be probed without a target (BTF id, device)
 * @param detail the errno's name or the reason when not supported, or empty
 * @param errno the positive errno the kernel answered with, or 0 (supported, not probed, or no syscall failed)
 * @param hint for a refusal, what it wants: the capability or kernel setting, or what is known of
 *     why this kernel refuses it; empty when supported or unknown
 */
public record Support(boolean supported, boolean probed, String detail, int errno, String hint) {
    /** Supported. */
    public static final Support YES = new Support(true, true, "", 0, "");

    public Support {
        detail = detail == null ? "" : detail;
        hint = hint == null ? "" : hint;
        if (errno < 0) {
            throw new IllegalArgumentException("errno must be positive, got " + errno);
        }
    }

    /** Not supported, with the kernel's reason. */
    public static Support no(String detail) {
        return new Support(false, true, detail, 0, "");
    }

    /** Refused with {@code errno}; the detail is the errno's name. */
    public static Support refused(int errno, String hint) {
        return new Support(false, true, Errno.name(errno), errno, hint);
    }

    /** Refused with {@code errno}, with a detail of its own (e.g. the verifier's words). */
    public static Support refused(int errno, String detail, String hint) {
        return new Support(false, true, detail, errno, hint);
    }

    /** Not probed, with the reason. */
    public static Support notProbed(String why) {
        return new Support(false, false, why, 0, "");
    }

    /** The same outcome with another hint. */
    public Support withHint(String newHint) {
        return new Support(supported, probed, detail, errno, newHint);
    }

    /** The errno as a constant, or null when 0 or unknown. */
    public Errno errnoConstant() {
        return Errno.of(errno);
    }

    /** "yes", "no" or "not probed". */
    public String word() {
        return !probed ? "not probed" : supported ? "yes" : "no";
    }

    /** The detail, then the hint: {@code EPERM: refused by this kernel ...}. */
    public String explanation() {
        if (hint.isEmpty()) {
            return detail;
        }
        return detail.isEmpty() ? hint : detail + ": " + hint;
    }
}

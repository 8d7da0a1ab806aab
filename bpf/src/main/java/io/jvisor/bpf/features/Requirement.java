package io.jvisor.bpf.features;

/**
 * One thing jvisor itself relies on, as this kernel answers it: a row of the "jvisor needs" section
 * of {@code jvisor features}.
 *
 * @param key a stable name for scripts and tests, e.g. {@code xdp.metadata}, {@code link.tcx},
 *     {@code helpers.bridge.tc}
 * @param feature what it is, for people, e.g. {@code XDP metadata (bpf_xdp_adjust_meta)}
 * @param usedBy what in jvisor uses it
 * @param support the kernel's answer; for a refusal, {@link Support#hint()} says what it wants
 * @param fallback what jvisor does without it, or empty when nothing replaces it
 */
public record Requirement(String key, String feature, String usedBy, Support support, String fallback) {
    public Requirement {
        if (key == null || !key.matches("[a-z0-9_]+(\\.[a-z0-9_]+)*")) {
            throw new IllegalArgumentException("a requirement key is dotted lower-case words, got " + key);
        }
        fallback = fallback == null ? "" : fallback;
    }

    /** True when the kernel offers it. */
    public boolean met() {
        return support.supported();
    }

    /** For a refusal, the capability or kernel setting it wants, or what is known of why; else empty. */
    public String needs() {
        return support.hint();
    }
}

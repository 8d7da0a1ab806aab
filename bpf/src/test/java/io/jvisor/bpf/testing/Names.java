package io.jvisor.bpf.testing;

import java.util.concurrent.ThreadLocalRandom;

/** Unique short names for kernel objects made by tests, so that parallel runs never collide. */
public final class Names {
    private Names() {}

    /**
     * {@code prefix} plus 6 random hex digits; keep the prefix at most 8 characters so the result
     * fits a 15-byte device or object name.
     */
    public static String unique(String prefix) {
        return prefix + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    }
}

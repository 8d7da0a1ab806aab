package io.jvisor.engine;

import java.util.regex.Pattern;

/**
 * One configuration key a module type accepts, as {@link ModuleType#configKeys()} publishes it: for
 * people (the REST types resource, {@code jvisor describe type}) and for tools that check a
 * configuration before sending it.
 *
 * <p>{@code pattern} is the key, in which a dot-separated segment written in capitals is a
 * placeholder: {@code N} stands for a non-negative decimal integer (indexed keys such as
 * {@code port.N.vlan} or {@code route.N}), any other capitalised word ({@code NAME}, {@code ID}) for
 * a name of letters, digits, {@code -} and {@code _} (as in {@code backend.NAME.ID}).
 *
 * @param pattern the key, with placeholders
 * @param syntax a short grammar of the value, e.g. {@code 1..4094}, {@code A.B.C.D/LEN [mac MAC]},
 *     {@code accept|drop}: literal words as written, capitals stand for a value, {@code [...]} is
 *     optional, {@code |} separates alternatives, {@code A..B} is an inclusive integer range
 * @param defaultValue the value in effect when the key is absent, or null when absence means
 *     "none" (no such port, rule, route...)
 * @param required whether every configuration must have the key
 * @param description what the key does, in one or two sentences
 */
public record ConfigKey(String pattern, String syntax, String defaultValue, boolean required, String description) {
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-]+");

    /** Validates: a non-empty dot-separated pattern, and a syntax and description. */
    public ConfigKey {
        if (pattern == null || pattern.isEmpty()) {
            throw new IllegalArgumentException("a config key needs a pattern");
        }
        for (String s : pattern.split("\\.", -1)) {
            if (!SEGMENT.matcher(s).matches()) {
                throw new IllegalArgumentException("config key pattern '" + pattern
                        + "': segments are letters, digits, - and _, separated by single dots");
            }
        }
        if (syntax == null || syntax.isBlank()) {
            throw new IllegalArgumentException("config key '" + pattern + "' needs a syntax");
        }
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("config key '" + pattern + "' needs a description");
        }
    }

    /** An optional key. */
    public static ConfigKey optional(String pattern, String syntax, String defaultValue, String description) {
        return new ConfigKey(pattern, syntax, defaultValue, false, description);
    }

    /** A key every configuration must have. */
    public static ConfigKey required(String pattern, String syntax, String description) {
        return new ConfigKey(pattern, syntax, null, true, description);
    }

    /** Whether the pattern has a placeholder, so that it stands for many keys. */
    public boolean indexed() {
        for (String s : pattern.split("\\.")) {
            if (placeholder(s)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code key} is an instance of this pattern ({@code port.3.vlan} of {@code port.N.vlan}). */
    public boolean matches(String key) {
        if (key == null) {
            return false;
        }
        String[] p = pattern.split("\\.", -1);
        String[] k = key.split("\\.", -1);
        if (p.length != k.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (p[i].equals("N")) {
                if (!k[i].matches("\\d{1,10}")) {
                    return false;
                }
            } else if (placeholder(p[i])) {
                if (!SEGMENT.matcher(k[i]).matches()) {
                    return false;
                }
            } else if (!p[i].equals(k[i])) {
                return false;
            }
        }
        return true;
    }

    private static boolean placeholder(String segment) {
        return segment.matches("[A-Z][A-Z0-9_]*");
    }
}

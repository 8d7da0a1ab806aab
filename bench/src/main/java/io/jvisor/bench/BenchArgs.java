package io.jvisor.bench;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A benchmark main's command line: words and flags ({@code cost}, {@code --smoke}) and options
 * followed by a value ({@code --rounds 5}), in any order; a later option overrides an earlier one.
 */
final class BenchArgs {
    private final Set<String> given;
    private final Map<String, String> values;

    private BenchArgs(Set<String> given, Map<String, String> values) {
        this.given = given;
        this.values = values;
    }

    /**
     * Parses {@code args} for the main {@code main}. For {@code -h}/{@code --help} prints
     * {@code usage: MAIN USAGE} and returns null (the main returns); for an argument that is neither in
     * {@code flags} nor in {@code options}, or an option without its value, says so on stderr and exits
     * with status 2.
     */
    static BenchArgs parse(String main, String usage, String[] args, List<String> flags, List<String> options) {
        Set<String> given = new HashSet<>();
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: " + main + " " + usage);
                return null;
            } else if (flags.contains(a)) {
                given.add(a);
            } else if (options.contains(a) && i + 1 < args.length) {
                values.put(a, args[++i]);
            } else {
                System.err.println(main + ": " + (options.contains(a) ? "option " + a + " needs a value"
                        : "unknown argument " + a));
                System.exit(2);
            }
        }
        return new BenchArgs(given, values);
    }

    /** Whether the word or flag was given. */
    boolean has(String flag) {
        return given.contains(flag);
    }

    /** The option's value as an int, or {@code otherwise} when it was not given. */
    int intOr(String option, int otherwise) {
        String v = values.get(option);
        return v == null ? otherwise : Integer.parseInt(v);
    }

    /**
     * The {@code --generator live|af-packet|auto} option ({@link PacketGenerator.Choice}), auto when
     * it was not given; another value says so on stderr and exits with status 2.
     */
    PacketGenerator.Choice generator() {
        try {
            return PacketGenerator.Choice.parse(stringOr("--generator", "auto"));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return null;
        }
    }

    /** The option's value, or {@code otherwise} when it was not given. */
    String stringOr(String option, String otherwise) {
        return values.getOrDefault(option, otherwise);
    }
}

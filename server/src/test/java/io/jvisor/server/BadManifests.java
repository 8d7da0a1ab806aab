package io.jvisor.server;

import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestProblem;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The corpus of bad topology files (test resources {@code io/jvisor/server/bad/*.yaml}). The first
 * line of each says what must be reported: {@code # expect: FIELD | REASON FRAGMENT}. Files named
 * {@code engine-*} are faults only the engine finds (loops, missing devices).
 */
public final class BadManifests {
    private BadManifests() {}

    /**
     * One bad file.
     *
     * @param name the file name
     * @param field the field the report must name
     * @param fragment text the reason must contain (may be empty)
     * @param text the file's content
     */
    public record Case(String name, String field, String fragment, String text) {
        /** Only the engine finds this fault. */
        public boolean engineLevel() {
            return name.contains("-engine-");
        }

        /** Whether {@code e} names this case's field and reason. */
        public boolean matches(List<ManifestProblem> problems) {
            return problems.stream().anyMatch(p -> p.field().equals(field) && p.reason().contains(fragment));
        }

        /** Whether CLI output names the field and reason. */
        public boolean matches(String output) {
            return output.contains(field) && output.contains(fragment);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Every case, by file name (listed in bad/INDEX, so that they read from a jar too). */
    public static List<Case> all() {
        try (InputStream index = open("INDEX")) {
            List<Case> out = new ArrayList<>();
            for (String name : new String(index.readAllBytes(), StandardCharsets.UTF_8).lines().sorted().toList()) {
                if (name.isBlank() || name.equals("INDEX")) {
                    continue;
                }
                String text;
                try (InputStream in = open(name)) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                String first = text.lines().findFirst().orElseThrow();
                String[] fr = first.substring("# expect: ".length()).split(" \\| ", -1);
                out.add(new Case(name, fr[0].trim(), fr.length > 1 ? fr[1].trim() : "", text));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The problems of a failed read, for assertion messages. */
    public static String describe(ManifestException e) {
        return e.getMessage();
    }

    static InputStream open(String name) {
        return BadManifests.class.getResourceAsStream("bad/" + name);
    }
}

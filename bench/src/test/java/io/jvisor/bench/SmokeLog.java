package io.jvisor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.net.Netns;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the benchmark smoke tests share: a log to read back, and the checks that a run left nothing behind. */
final class SmokeLog {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    /** Where the harness under test writes its log and report. */
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    /** Everything written to {@link #out} so far. */
    String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * The lab the log names ({@code MARKER PREFIX (...}, e.g. {@code == lab jv1a2b3c (10.x...}) left no
     * namespace behind.
     */
    void assertLabGone(String marker) {
        Matcher m = Pattern.compile(Pattern.quote(marker) + " (\\S+) ").matcher(text());
        assertThat(m.find()).as("the lab's prefix is logged after '" + marker + "'").isTrue();
        String prefix = m.group(1);
        assertThat(Netns.list()).as("namespaces of lab " + prefix + " left").noneMatch(n -> n.startsWith(prefix + "-"));
    }

    /** No engine pins and no namespaces whose names start with {@code prefix} remain. */
    static void assertNothingLeft(String prefix) {
        Path pins = Path.of("/sys/fs/bpf/jvisor");
        if (Files.isDirectory(pins)) {
            try (var s = Files.list(pins)) {
                assertThat(s.map(p -> p.getFileName().toString()).toList()).as("engine pins left")
                        .noneMatch(n -> n.startsWith(prefix));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        assertThat(Netns.list()).as("namespaces left").noneMatch(n -> n.startsWith(prefix));
    }
}

package io.jvisor.bpf.features;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The running kernel's version.
 *
 * @param major major version
 * @param minor minor version
 * @param patch patch level
 * @param release the full release string, e.g. {@code 6.18.4-amd64}
 */
public record KernelVersion(int major, int minor, int patch, String release) implements Comparable<KernelVersion> {
    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)(?:\\.(\\d+))?");

    /** Parses a release string such as {@code 6.18.44-fc}. */
    public static KernelVersion parse(String release) {
        Matcher m = VERSION.matcher(release.trim());
        if (!m.find()) {
            throw new IllegalArgumentException("not a kernel release: " + release);
        }
        return new KernelVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)), release.trim());
    }

    /** The running kernel, from /proc/sys/kernel/osrelease. */
    public static KernelVersion current() {
        try {
            return parse(Capabilities.readProc(Path.of("/proc/sys/kernel/osrelease")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/sys/kernel/osrelease", e);
        }
    }

    /** True when this version is at least {@code major.minor}. */
    public boolean atLeast(int maj, int min) {
        return major > maj || (major == maj && minor >= min);
    }

    @Override
    public int compareTo(KernelVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() {
        return release;
    }
}

package io.jvisor.bpf.features;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A process's effective capability set: what the kernel checks when it decides whether a bpf(),
 * netlink or namespace operation is allowed. Root is not the same as every capability: a container
 * or a systemd unit can run as uid 0 with fewer, and a non-root user can hold some (ambient
 * capabilities).
 *
 * @param effective the bit mask, bit {@link Capability#bit()} set for each capability held
 */
public record Capabilities(long effective) {
    /** The effective set of this process, from {@code /proc/self/status}. */
    public static Capabilities current() {
        try {
            return parse(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status", e);
        }
    }

    /**
     * The effective set from the text of a {@code /proc/PID/status} file (its {@code CapEff:} line,
     * in hex).
     *
     * @throws IllegalArgumentException when the text has no well-formed CapEff line
     */
    public static Capabilities parse(String procStatus) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith("CapEff:")) {
                String hex = line.substring("CapEff:".length()).strip();
                try {
                    return new Capabilities(Long.parseUnsignedLong(hex, 16));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("CapEff is not hex: '" + hex + "'", e);
                }
            }
        }
        throw new IllegalArgumentException("no CapEff line in the status text");
    }

    /** A set holding exactly {@code caps}. */
    public static Capabilities of(Collection<Capability> caps) {
        long m = 0;
        for (Capability c : caps) {
            m |= 1L << c.bit();
        }
        return new Capabilities(m);
    }

    /** Whether the set holds {@code c} itself. */
    public boolean has(Capability c) {
        return (effective & (1L << c.bit())) != 0;
    }

    /**
     * Whether the kernel lets this set do what needs {@code c}. CAP_SYS_ADMIN also passes the
     * kernel's checks for CAP_BPF and CAP_PERFMON (bpf_capable(), perfmon_capable()); kernels before
     * 5.8 know only CAP_SYS_ADMIN for both.
     */
    public boolean allows(Capability c) {
        return has(c) || ((c == Capability.CAP_BPF || c == Capability.CAP_PERFMON) && has(Capability.CAP_SYS_ADMIN));
    }

    /** Those of {@code needed} that this set does not {@link #allows allow}, in the order given. */
    public List<Capability> missing(Collection<Capability> needed) {
        List<Capability> out = new ArrayList<>();
        for (Capability c : needed) {
            if (!allows(c) && !out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** The capabilities held, in bit order (bits the enum does not know are left out). */
    public Set<Capability> set() {
        Set<Capability> out = EnumSet.noneOf(Capability.class);
        for (Capability c : Capability.values()) {
            if (has(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** Whether every capability the enum knows is held (root with nothing taken away). */
    public boolean full() {
        return set().size() == Capability.values().length;
    }

    /**
     * The set for people: {@code "all"} (or {@code "all but cap_sys_resource"} when one to three are
     * missing), {@code "none"}, or the names, as {@code "cap_net_admin,cap_perfmon,cap_bpf"}.
     */
    public String describe() {
        Set<Capability> held = set();
        if (held.isEmpty()) {
            return "none";
        }
        Set<Capability> lacking = EnumSet.complementOf(EnumSet.copyOf(held));
        if (lacking.isEmpty()) {
            return "all";
        }
        if (lacking.size() <= 3) {
            return "all but " + names(lacking);
        }
        return names(held);
    }

    private static String names(Set<Capability> s) {
        return s.stream().map(Capability::lowerName).collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return String.format("%016x (%s)", effective, describe());
    }
}

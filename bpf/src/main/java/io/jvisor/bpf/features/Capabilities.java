package io.jvisor.bpf.features;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A process's effective capability set, as {@code CapEff} in {@code /proc/<pid>/status} gives it.
 * Root is not the same as every capability: a container, a systemd unit or the machine's own
 * configuration may run root with a reduced set, and the kernel checks the set, not the user id.
 *
 * @param effective the effective set, one bit per capability number
 * @param lastCap the highest capability number this kernel knows ({@code /proc/sys/kernel/cap_last_cap});
 *     the full set is every capability from 0 to it
 */
public record Capabilities(long effective, int lastCap) {
    /** The capabilities the kernel's bpf() checks: loading, networking programs, tracing, and their stand-in. */
    public static final List<Capability> BPF_RELATED =
            List.of(Capability.BPF, Capability.NET_ADMIN, Capability.PERFMON, Capability.SYS_ADMIN);

    public Capabilities {
        if (lastCap < 0 || lastCap > 63) {
            throw new IllegalArgumentException("cap_last_cap must be 0..63, got " + lastCap);
        }
    }

    /** This process's effective set, from /proc/self/status and /proc/sys/kernel/cap_last_cap. */
    public static Capabilities current() {
        try {
            return parseStatus(readProc(Path.of("/proc/self/status")), kernelLastCap());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the capabilities of this process", e);
        }
    }

    /**
     * The highest capability number the running kernel knows ({@code /proc/sys/kernel/cap_last_cap}),
     * or the highest this enum knows where that file cannot be read.
     */
    public static int kernelLastCap() {
        Path lastCapFile = Path.of("/proc/sys/kernel/cap_last_cap");
        try {
            return Files.isReadable(lastCapFile) ? Integer.parseInt(readProc(lastCapFile).trim())
                    : Capability.values().length - 1;
        } catch (IOException | NumberFormatException e) {
            return Capability.values().length - 1;
        }
    }

    /**
     * The effective set of a {@code /proc/PID/status} text (its {@code CapEff:} line), on this
     * kernel's capability range.
     *
     * @throws IllegalArgumentException when the text has no well-formed CapEff line
     */
    public static Capabilities parse(String procStatus) {
        return parseStatus(procStatus, kernelLastCap());
    }

    /** A set holding exactly {@code caps}, on this kernel's capability range. */
    public static Capabilities of(Collection<Capability> caps) {
        long m = 0;
        for (Capability c : caps) {
            m |= 1L << c.number();
        }
        return new Capabilities(m, kernelLastCap());
    }

    /**
     * Reads a /proc file to its end. Files.readString trusts the file's size, which /proc reports as 0,
     * and on some machines it then returns a truncated read ("4" for a cap_last_cap of 40).
     */
    static String readProc(Path p) throws IOException {
        try (var in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /**
     * Reads the {@code CapEff:} line of a {@code /proc/<pid>/status} text.
     *
     * @throws IllegalArgumentException when the text has no well-formed CapEff line
     */
    public static Capabilities parseStatus(String procStatus, int lastCap) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith("CapEff:")) {
                return new Capabilities(parseHex(line.substring("CapEff:".length()).trim()), lastCap);
            }
        }
        throw new IllegalArgumentException("no CapEff line in the process status");
    }

    /** A set from its hex form, as in {@code CapEff} ({@code 000001fffeffffff}). */
    public static Capabilities ofHex(String hex, int lastCap) {
        return new Capabilities(parseHex(hex), lastCap);
    }

    private static long parseHex(String hex) {
        if (!hex.matches("[0-9a-fA-F]{1,16}")) {
            throw new IllegalArgumentException("not a capability mask: '" + hex + "'");
        }
        return Long.parseUnsignedLong(hex, 16);
    }

    /** True when the set holds {@code c}. */
    public boolean has(Capability c) {
        return (effective & (1L << c.number())) != 0;
    }

    /** True when the set holds every capability up to {@link #lastCap()}. */
    public boolean full() {
        return missingNumbers().isEmpty();
    }

    /** The capabilities in the set that this enum knows, in number order. */
    public List<Capability> present() {
        List<Capability> out = new ArrayList<>();
        for (Capability c : Capability.values()) {
            if (has(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * The names of the capabilities from 0 to {@link #lastCap()} that the set lacks, e.g.
     * {@code CAP_SYS_RESOURCE}; a number this enum does not know is named {@code CAP_<n>}.
     */
    public List<String> missing() {
        return missingNumbers().stream().map(Capabilities::nameOf).toList();
    }

    private List<Integer> missingNumbers() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i <= lastCap; i++) {
            if ((effective & (1L << i)) == 0) {
                out.add(i);
            }
        }
        return out;
    }

    private static String nameOf(int number) {
        Capability c = Capability.of(number);
        return c == null ? "CAP_" + number : c.capName();
    }

    /**
     * True when the kernel lets this set do what needs {@code c} anywhere: CAP_SYS_ADMIN also passes
     * the checks for CAP_BPF and CAP_PERFMON (bpf_capable(), perfmon_capable()), but not for
     * CAP_NET_ADMIN outside bpf() (rtnetlink checks it itself).
     */
    public boolean allows(Capability c) {
        return has(c) || ((c == Capability.BPF || c == Capability.PERFMON) && has(Capability.SYS_ADMIN));
    }

    /**
     * True when the set satisfies bpf()'s own check for {@code c}: inside bpf() CAP_SYS_ADMIN stands in
     * for CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (kernel/bpf/syscall.c, bpf_token_capable).
     */
    public boolean bpfAllows(Capability c) {
        return has(c) || (BPF_RELATED.contains(c) && has(Capability.SYS_ADMIN));
    }

    /** Of {@code wanted}, those bpf() would refuse ({@link #bpfAllows}), as names. */
    public List<String> lacking(List<Capability> wanted) {
        return wanted.stream().filter(c -> !bpfAllows(c)).map(Capability::capName).toList();
    }

    /** Of {@code needed}, those this set does not {@link #allows allow}, in the order given, once each. */
    public List<Capability> missing(Collection<Capability> needed) {
        List<Capability> out = new ArrayList<>();
        for (Capability c : needed) {
            if (!allows(c) && !out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** The capabilities held that the enum knows, as a set. */
    public Set<Capability> set() {
        Set<Capability> out = EnumSet.noneOf(Capability.class);
        out.addAll(present());
        return out;
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
        List<String> lacking = missing();
        if (lacking.isEmpty()) {
            return "all";
        }
        if (lacking.size() <= 3) {
            return "all but " + lacking.stream().map(n -> n.toLowerCase(java.util.Locale.ROOT))
                    .collect(Collectors.joining(","));
        }
        return held.stream().map(Capability::lowerName).collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return hex() + " (" + describe() + ")";
    }

    /** The set as 16 hex digits, as /proc shows it. */
    public String hex() {
        return HexFormat.of().toHexDigits(effective);
    }

    /**
     * What an EPERM from bpf() most likely means for a process with this set: the capabilities it
     * lacks, or, when it has them all, that the refusal comes from this kernel or a security policy.
     */
    public String permissionHint() {
        List<String> lacking = lacking(List.of(Capability.BPF, Capability.NET_ADMIN));
        if (!lacking.isEmpty()) {
            return "grant CAP_BPF (plus CAP_NET_ADMIN for networking programs; root has both unless a container or "
                    + "a service unit dropped them); this process lacks " + String.join(" and ", lacking);
        }
        return "this process has CAP_BPF and CAP_NET_ADMIN, so no capability is missing: this kernel build or a "
                + "security policy refuses the request ('jvisor features' lists what this kernel refuses)";
    }

    /**
     * Three lines for people: the set in hex with how many of the full set it holds, the missing
     * ones, and the state of the capabilities bpf() checks.
     */
    public String render() {
        StringBuilder sb = new StringBuilder();
        List<String> missing = missing();
        sb.append("Capabilities: ").append(hex()).append(" (").append(lastCap + 1 - missing.size()).append(" of ")
                .append(lastCap + 1).append(")").append('\n');
        sb.append("  missing: ").append(missing.isEmpty() ? "none (the full set)" : String.join(" ", missing))
                .append('\n');
        sb.append("  for bpf: ").append(BPF_RELATED.stream()
                .map(c -> c.capName() + (has(c) ? " yes" : " no")).collect(Collectors.joining(", "))).append('\n');
        return sb.toString();
    }
}

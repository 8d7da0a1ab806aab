package io.jvisor.bench;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.elf.ObjectProgram;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.bpf.toolchain.CompileException;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;
import io.jvisor.net.lab.HostSpec;
import io.jvisor.net.lab.InterfaceSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What the engine benchmarks share: names, BPF sources, scratch namespaces, lab hosts, statistics,
 * clean-up.
 */
final class EngineBenchSupport {
    private EngineBenchSupport() {}

    /** {@code prefix} plus 6 random hex digits: short enough for engine, namespace and device names. */
    static String unique(String prefix) {
        return prefix + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    }

    /** A C source of this module ({@code src/main/resources/io/jvisor/bench/bpf/NAME}). */
    static String bpfSource(String name) {
        try (InputStream in = EngineBenchSupport.class.getResourceAsStream("bpf/" + name)) {
            if (in == null) {
                throw new IllegalStateException("resource io/jvisor/bench/bpf/" + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compiles one of this module's BPF sources with the toolchain the engine uses (clang, cached). */
    static CollectionSpec compile(String name) {
        try {
            return ObjectFile.read(Clang.find().compileString(bpfSource(name), name, List.of()).object());
        } catch (CompileException e) {
            throw new IllegalStateException(name + " does not compile: " + e.getMessage(), e);
        }
    }

    /** The spec with only program {@code program} (the others are neither loaded nor verified). */
    static CollectionSpec only(CollectionSpec spec, String program) {
        List<ObjectProgram> progs = spec.programs().stream().filter(p -> p.name().equals(program)).toList();
        if (progs.isEmpty()) {
            throw new IllegalArgumentException(spec.name() + " has no program " + program);
        }
        return new CollectionSpec(spec.name(), progs, spec.maps(), spec.btf(), spec.license());
    }

    /**
     * Options for a throw-away benchmark engine: a unique name and a fresh state directory. The environment variable JVISOR_BENCH_PEER_REDIRECT=off turns
     * peer redirects off, to compare against the plain bpf_redirect path (docs/benchmarks.md, "Peer
     * redirect").
     */
    static EngineOptions engineOptions(String prefix) {
        try {
            Path state = Files.createTempDirectory("jvisor-bench-engine");
            boolean peer = !"off".equals(System.getenv("JVISOR_BENCH_PEER_REDIRECT"));
            System.err.println("engine peer redirects: " + (peer ? "on" : "off"));
            return EngineOptions.named(unique(prefix)).withStateDir(state).withPeerRedirect(peer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Removes whatever an engine left: its kernel objects when it still runs ({@link Engine#destroy}),
     * then its pins and state by name ({@link Engine#purge}). Never throws.
     */
    static void destroyQuietly(Engine engine, EngineOptions options, PrintStream log) {
        if (engine != null) {
            try {
                engine.destroy();
            } catch (RuntimeException e) {
                log.println("== engine " + options.name() + ": destroy failed (" + e.getMessage() + "); purging");
                try {
                    engine.close();
                } catch (RuntimeException ignored) {
                    // purged below
                }
            }
        }
        if (options != null) {
            try {
                Engine.purge(options);
                deleteTree(options.stateDir());
            } catch (RuntimeException e) {
                log.println("== engine " + options.name() + ": purge failed: " + e.getMessage());
            }
        }
    }

    /**
     * Removes an engine and then the lab or scratch namespace it was attached to (the engine first:
     * it detaches from their devices, then they go); either may be null.
     */
    static void tearDown(Engine engine, EngineOptions options, AutoCloseable devices, PrintStream log) {
        destroyQuietly(engine, options, log);
        if (devices != null) {
            try {
                devices.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("cannot remove " + devices, e);
            }
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }

    /**
     * A network namespace of our own holding {@code pairs} veth pairs ({@code a0/b0, a1/b1, ...}),
     * for the engine to attach to. No traffic is ever sent through them. Closing deletes the
     * namespace, and the kernel removes every device in it.
     */
    static final class ScratchNetns implements AutoCloseable {
        final Netns netns;
        final int pairs;

        private ScratchNetns(Netns netns, int pairs) {
            this.netns = netns;
            this.pairs = pairs;
        }

        static ScratchNetns create(String prefix, int pairs) {
            Netns ns = Netns.create(unique(prefix));
            try (Rtnl rtnl = Rtnl.open(ns)) {
                for (int i = 0; i < pairs; i++) {
                    rtnl.createVeth("a" + i, "b" + i);
                }
            } catch (RuntimeException e) {
                ns.close();
                throw e;
            }
            return new ScratchNetns(ns, pairs);
        }

        String name() {
            return netns.name();
        }

        /** The engine's endpoint text for device {@code dev} in this namespace. */
        String endpoint(String dev) {
            return "dev:" + name() + "/" + dev;
        }

        /** The ifindex of {@code dev} in this namespace. */
        int ifindex(String dev) {
            try (Rtnl rtnl = Rtnl.open(netns)) {
                return rtnl.ifindex(dev);
            }
        }

        @Override
        public void close() {
            netns.close();
        }
    }

    /**
     * The pinned device-entry program of an engine's connection to {@code dev} in namespace
     * {@code netns} (null: the engine's own). The path follows the engine's layout,
     * {@code bpffs/jvisor/NAME/dev/NETNS_DEV/prog} with {@code -} for the root namespace
     * (Engine.deviceKey).
     */
    static Path entryPin(EngineOptions options, String netns, String dev) {
        return options.pinRoot().resolve("dev").resolve((netns == null ? "-" : netns) + "_" + dev).resolve("prog");
    }

    /**
     * Closes each of {@code closeables} that is not null, the last one first; a failure is logged as
     * {@code PREFIXclose failed: E} and the others are still closed.
     */
    static void closeAll(List<? extends AutoCloseable> closeables, PrintStream log, String prefix) {
        for (AutoCloseable c : closeables.reversed()) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                log.println(prefix + "close failed: " + e);
            }
        }
    }

    /**
     * Each subject's program size ({@link #programSize}) under its {@code key}, in subject order; the
     * first subject of a key names its size.
     */
    static <S> Map<String, String> programSizes(List<S> subjects, Function<S, String> key, Function<S, BpfProgram> program) {
        Map<String, String> sizes = new LinkedHashMap<>();
        for (S s : subjects) {
            sizes.putIfAbsent(key.apply(s), programSize(program.apply(s)));
        }
        return sizes;
    }

    /** A loaded program's size as the kernel sees it: {@code N insns, M B JITed}. */
    static String programSize(BpfProgram program) {
        var info = program.info();
        return info.xlatedLength() / 8 + " insns, " + info.jitedLength() + " B JITed";
    }

    /**
     * Times every subject once a round, {@code rounds} times, in an order shuffled each round (seeded,
     * so runs shuffle alike): {@code time} runs one measurement (a BPF_PROG_TEST_RUN, its ns per run).
     * Returns the figures per subject name, one per round, in subject order. With a {@code verbose}
     * log, each round's figures are printed there.
     */
    static <S> Map<String, double[]> shuffledRounds(List<S> subjects, Function<S, String> name, ToLongFunction<S> time,
                                                    int rounds, PrintStream verbose) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (S s : subjects) {
            out.put(name.apply(s), new double[rounds]);
        }
        Random random = new Random(42);
        List<S> order = new ArrayList<>(subjects);
        for (int r = 0; r < rounds; r++) {
            Collections.shuffle(order, random);
            for (S s : order) {
                out.get(name.apply(s))[r] = time.applyAsLong(s);
            }
            if (verbose != null) {
                StringBuilder sb = new StringBuilder("   round " + (r + 1) + ":");
                for (S s : subjects) {
                    sb.append(' ').append(name.apply(s)).append('=').append((long) out.get(name.apply(s))[r]);
                }
                verbose.println(sb);
            }
        }
        return out;
    }

    // ---- lab hosts -----------------------------------------------------------------------------

    /** {@code 10.N.} with N random in 100 to 249: the first two bytes of one lab's addresses. */
    static String labNet() {
        return "10." + ThreadLocalRandom.current().nextInt(100, 250) + ".";
    }

    /** A lab host with eth0 at {@code address} (CIDR), IPv6 off, routed via {@code gateway} (null: none). */
    static HostSpec host(String name, String address, String gateway) {
        HostSpec h = HostSpec.named(name).withInterface(InterfaceSpec.of("eth0", address))
                .withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                .withSysctl("net.ipv6.conf.default.disable_ipv6", "1");
        return gateway == null ? h : h.withGateway(gateway);
    }

    /** A Linux router namespace: eth0 and eth1 at the two addresses (CIDR), ip_forward on, IPv6 off. */
    static HostSpec router(String name, String eth0, String eth1) {
        return HostSpec.named(name).withInterface(InterfaceSpec.of("eth0", eth0)).withInterface(InterfaceSpec.of("eth1", eth1))
                .withSysctl("net.ipv4.ip_forward", "1")
                .withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                .withSysctl("net.ipv6.conf.default.disable_ipv6", "1");
    }

    // ---- statistics ----------------------------------------------------------------------------

    /** {@code x[i] / y[i]}, round by round. */
    static double[] ratios(double[] x, double[] y) {
        double[] r = new double[x.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = x[i] / y[i];
        }
        return r;
    }

    static double median(double[] xs) {
        return CompareMapOps.median(xs);
    }

    static double min(double[] xs) {
        return Arrays.stream(xs).min().orElse(Double.NaN);
    }

    static double max(double[] xs) {
        return Arrays.stream(xs).max().orElse(Double.NaN);
    }

    /** The least-squares slope of y over x. */
    static double slope(double[] x, double[] y) {
        double mx = Arrays.stream(x).average().orElse(0);
        double my = Arrays.stream(y).average().orElse(0);
        double num = 0;
        double den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - mx) * (y[i] - my);
            den += (x[i] - mx) * (x[i] - mx);
        }
        return num / den;
    }

    /** The 25th and 75th percentiles (linear interpolation). */
    static double[] quartiles(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return new double[] {percentile(s, 0.25), percentile(s, 0.75)};
    }

    private static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    static String list(double[] xs, String format) {
        return Arrays.stream(xs).mapToObj(x -> String.format(Locale.ROOT, format, x)).collect(Collectors.joining(" "));
    }

    static double[] toArray(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** {@code TITLE: name size; name size.}: the programs' sizes, as a report line. */
    static String sizesLine(String title, Map<String, String> sizes) {
        return title + ": " + sizes.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining("; ")) + ".";
    }

    /** Each check as a report line: {@code Check: CHECK.} */
    static void printChecks(PrintStream out, List<String> checks) {
        for (String check : checks) {
            out.println("Check: " + check + ".");
        }
    }

    /** The header every engine report starts with. */
    static void printMachine(PrintStream out, String loadBefore, String loadAfter) {
        out.println("== machine: " + CompareMapOps.machine());
        out.println("== load average (1, 5, 15 min) before: " + loadBefore + ", after: " + loadAfter
                + " (other processes on the machine)");
    }

    static String loadAverage() {
        return CompareMapOps.loadAverage();
    }

    static List<String> argsList(String[] args) {
        return new ArrayList<>(Arrays.asList(args));
    }
}

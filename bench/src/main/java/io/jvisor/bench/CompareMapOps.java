package io.jvisor.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs {@link MapOpsBench} (JMH) and its C peer {@code map_ops.c} (libbpf, built here with gcc) in
 * the same run, each operation as a pair of back-to-back runs (one JMH fork, one C process), and
 * prints Java ns/op, C ns/op and Java/C for each operation, the CPU time of each side (user and
 * system, from {@link CpuTimeProfiler} and the C peer's getrusage), then batch per element against
 * single operations.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.CompareMapOps \
 *     [--smoke] [--rounds N] [--work-dir DIR] [--verbose]
 * </pre>
 *
 * Needs root (BPF maps), gcc and libbpf-dev. {@code bench/run-map-bench.sh} builds and runs it.
 */
public final class CompareMapOps {
    /** The operations, in the C peer's names; batch operations carry their batch size. */
    static final List<String> SINGLE_OPS = List.of("lookup", "update");

    /** How long each side runs. */
    public record Config(boolean smoke, int rounds, Path workDir, List<Integer> batches, int jmhWarmupIterations,
                         int jmhWarmupMs, int jmhMeasureIterations, int jmhMeasureMs, int cWarmupMs,
                         int cMeasureMs, boolean verbose) {
        /** The full comparison: a few minutes on 2 cores. */
        public static Config full(Path workDir) {
            return new Config(false, 5, workDir, List.of(256, 1024), 1, 1000, 2, 1000, 500, 2000, false);
        }

        /** A harness check for CI: seconds, numbers not meant to be compared. */
        public static Config smoke(Path workDir) {
            return new Config(true, 1, workDir, List.of(256, 1024), 1, 500, 1, 500, 200, 300, false);
        }

        /** This configuration with other batch sizes (each must divide {@link MapOpsBench#ENTRIES}). */
        public Config withBatches(List<Integer> sizes) {
            return new Config(smoke, rounds, workDir, List.copyOf(sizes), jmhWarmupIterations, jmhWarmupMs,
                    jmhMeasureIterations, jmhMeasureMs, cWarmupMs, cMeasureMs, verbose);
        }

        /** This configuration with {@code n} rounds. */
        public Config withRounds(int n) {
            return new Config(smoke, n, workDir, batches, jmhWarmupIterations, jmhWarmupMs, jmhMeasureIterations,
                    jmhMeasureMs, cWarmupMs, cMeasureMs, verbose);
        }

        /** This configuration, printing JMH's own output and each run's figures. */
        public Config withVerbose(boolean v) {
            return new Config(smoke, rounds, workDir, batches, jmhWarmupIterations, jmhWarmupMs, jmhMeasureIterations,
                    jmhMeasureMs, cWarmupMs, cMeasureMs, v);
        }

        /** This configuration building and running the C peer in {@code dir}. */
        public Config withWorkDir(Path dir) {
            return new Config(smoke, rounds, dir, batches, jmhWarmupIterations, jmhWarmupMs, jmhMeasureIterations,
                    jmhMeasureMs, cWarmupMs, cMeasureMs, verbose);
        }
    }

    /** One round: the figures of each operation on each side, measured back to back. */
    public record Round(Map<String, Sample> java, Map<String, Sample> c) {}

    /** Every round, plus what the C peer said about itself. */
    public record Result(List<String> ops, List<Round> rounds, List<String> cComments, String loadBefore,
                         String loadAfter) {
        private double median(boolean java, String op, ToDoubleFunction<Sample> f) {
            return CompareMapOps.median(rounds.stream()
                    .mapToDouble(r -> f.applyAsDouble((java ? r.java() : r.c()).get(op))).toArray());
        }

        /** Median over rounds of Java's wall-clock ns/op for {@code op}. */
        public double javaNs(String op) {
            return median(true, op, Sample::ns);
        }

        /** Median over rounds of C's wall-clock ns/op for {@code op}. */
        public double cNs(String op) {
            return median(false, op, Sample::ns);
        }

        /** Median over rounds of a figure of Java's. */
        public double java(String op, ToDoubleFunction<Sample> f) {
            return median(true, op, f);
        }

        /** Median over rounds of a figure of C's. */
        public double c(String op, ToDoubleFunction<Sample> f) {
            return median(false, op, f);
        }

        /** Java/C of each round, in order: Java and C ran back to back, so each pair shares the machine's state. */
        public double[] ratios(String op, ToDoubleFunction<Sample> f) {
            return rounds.stream().mapToDouble(r -> f.applyAsDouble(r.java().get(op)) / f.applyAsDouble(r.c().get(op)))
                    .toArray();
        }

        /** The median of the per-round wall-clock ratios. */
        public double ratio(String op) {
            return CompareMapOps.median(ratios(op, Sample::ns));
        }

        /**
         * Java's best round over C's best round (wall clock). Interference from other processes only
         * adds time, so on a shared machine the fastest round is the closest to the code's own cost.
         */
        public double bestRatio(String op) {
            double j = rounds.stream().mapToDouble(r -> r.java().get(op).ns()).min().orElse(Double.NaN);
            double c = rounds.stream().mapToDouble(r -> r.c().get(op).ns()).min().orElse(Double.NaN);
            return j / c;
        }
    }

    private CompareMapOps() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("CompareMapOps", "[--smoke] [--rounds N] [--work-dir DIR] [--verbose]", args,
                List.of("--smoke", "--verbose"), List.of("--rounds", "--work-dir"));
        if (a == null) {
            return;
        }
        Path workDir = Path.of(a.stringOr("--work-dir", Path.of("bench", "target").toString()));
        Config config = a.has("--smoke") ? Config.smoke(workDir) : Config.full(workDir);
        config = config.withRounds(a.intOr("--rounds", config.rounds())).withVerbose(a.has("--verbose"));
        Result result = run(config, System.out);
        printTable(result, config, System.out);
    }

    /**
     * Builds the C peer, then measures every operation {@code config.rounds()} times as a pair: the
     * C loop and the JMH benchmark back to back, alternating which goes first. Pairs are short and
     * adjacent so that both sides of a ratio see the same machine (these machines are shared and
     * noisy); the per-pair ratios are what the report's Java/C summarises.
     */
    public static Result run(Config config, PrintStream log) throws RunnerException {
        String loadBefore = loadAverage();
        log.println("== building the C peer: " + CPeer.compileCommand("map_ops") + "  (in " + config.workDir() + ")");
        CPeer peer = CPeer.build("map_ops", config.workDir());
        List<String> ops = new ArrayList<>(SINGLE_OPS);
        for (int b : config.batches()) {
            ops.add("update_batch/" + b);
            ops.add("lookup_batch/" + b);
        }
        List<Map<String, Sample>> java = new ArrayList<>();
        List<Map<String, Sample>> c = new ArrayList<>();
        for (int r = 1; r <= config.rounds(); r++) {
            Map<String, Sample> j = new LinkedHashMap<>();
            Map<String, Sample> n = new LinkedHashMap<>();
            int pair = 0;
            for (String op : ops) {
                // Alternate the order, so that a drift of the machine favours neither side.
                if ((r + pair++) % 2 == 1) {
                    n.put(op, runC(peer, op, config, log, r));
                    j.put(op, runJava(op, config, log, r));
                } else {
                    j.put(op, runJava(op, config, log, r));
                    n.put(op, runC(peer, op, config, log, r));
                }
                Sample js = j.get(op);
                Sample cs = n.get(op);
                log.printf(Locale.ROOT, "   round %d %-18s Java %8.1f  C %8.1f ns/op  Java/C %.3f"
                        + "   (CPU user+sys: Java %.1f+%.1f  C %.1f+%.1f)%n", r, op, js.ns(), cs.ns(), js.ns() / cs.ns(),
                        js.userNs(), js.sysNs(), cs.userNs(), cs.sysNs());
            }
            java.add(j);
            c.add(n);
        }
        List<Round> rounds = new ArrayList<>();
        for (int r = 0; r < java.size(); r++) {
            rounds.add(new Round(java.get(r), c.get(r)));
        }
        return new Result(ops, rounds, List.copyOf(peer.comments()), loadBefore, loadAverage());
    }

    private static Sample runC(CPeer peer, String op, Config config, PrintStream log, int round) {
        int slash = op.indexOf('/');
        List<String> args = new ArrayList<>(List.of("--entries", Integer.toString(MapOpsBench.ENTRIES),
                "--warmup-ms", Integer.toString(config.cWarmupMs()),
                "--measure-ms", Integer.toString(config.cMeasureMs()),
                "--ops", slash < 0 ? op : op.substring(0, slash)));
        if (slash >= 0) {
            args.add("--batch");
            args.add(op.substring(slash + 1));
        }
        if (config.verbose()) {
            log.println("== round " + round + ": C    " + peer.binary().getFileName() + " " + String.join(" ", args));
        }
        Sample sample = peer.run(args, 600).get(op);
        if (sample == null) {
            throw new IllegalStateException("the C peer printed no result for " + op);
        }
        return sample;
    }

    private static Sample runJava(String op, Config config, PrintStream log, int round) throws RunnerException {
        int slash = op.indexOf('/');
        String method = switch (slash < 0 ? op : op.substring(0, slash)) {
            case "lookup" -> "lookup";
            case "update" -> "update";
            case "update_batch" -> "updateBatch";
            case "lookup_batch" -> "lookupBatch";
            default -> throw new IllegalArgumentException("unknown operation " + op);
        };
        ChainedOptionsBuilder opts = new OptionsBuilder()
                .include("^" + Pattern.quote(MapOpsBench.class.getName() + "." + method) + "$")
                .forks(1)
                .warmupIterations(config.jmhWarmupIterations())
                .warmupTime(TimeValue.milliseconds(config.jmhWarmupMs()))
                .measurementIterations(config.jmhMeasureIterations())
                .measurementTime(TimeValue.milliseconds(config.jmhMeasureMs()))
                .shouldFailOnError(true)
                .addProfiler(CpuTimeProfiler.class)
                .verbosity(config.verbose() ? VerboseMode.NORMAL : VerboseMode.SILENT);
        if (slash >= 0) {
            opts.param("batch", op.substring(slash + 1));
        }
        if (config.verbose()) {
            log.printf("== round %d: Java JMH %s.%s, 1 fork, warmup %dx%d ms, measurement %dx%d ms%n", round,
                    MapOpsBench.class.getSimpleName(), method, config.jmhWarmupIterations(), config.jmhWarmupMs(),
                    config.jmhMeasureIterations(), config.jmhMeasureMs());
        }
        Collection<RunResult> results = new Runner(opts.build()).run();
        if (results.size() != 1) {
            throw new IllegalStateException("JMH gave " + results.size() + " results for " + op + ", expected 1");
        }
        RunResult rr = results.iterator().next();
        var secondary = rr.getSecondaryResults();
        if (!secondary.containsKey("cpu.user") || !secondary.containsKey("cpu.sys")) {
            throw new IllegalStateException("JMH gave no CPU time for " + op + ": " + secondary.keySet());
        }
        return new Sample(rr.getPrimaryResult().getScore(), secondary.get("cpu.user").getScore(),
                secondary.get("cpu.sys").getScore());
    }

    /** The report: wall clock Java against C, CPU time Java against C, batch against single. */
    public static void printTable(Result result, Config config, PrintStream out) {
        out.println();
        out.println("== machine: " + machine());
        out.println("== load average (1, 5, 15 min) before: " + result.loadBefore() + ", after: " + result.loadAfter()
                + " (other processes on the machine)");
        out.println("== C peer: " + String.join("; ", result.cComments()));
        out.printf("== %d round(s)%s. Figures are medians over rounds; Java/C is the median of the per-round ratios"
                + " (each round runs Java and C back to back); best/best is Java's fastest round over C's fastest.%n",
                result.rounds().size(), config.smoke() ? " (SMOKE RUN: too short to compare, checks the harness only)" : "");
        out.println();
        out.println("Wall clock (what a caller waits):");
        out.println();
        out.println("| operation | Java ns/op | C ns/op | Java/C | best/best | Java/C per round |");
        out.println("| --- | ---: | ---: | ---: | ---: | --- |");
        for (String op : result.ops()) {
            out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.3f | %.3f | %s |%n", label(op), result.javaNs(op),
                    result.cNs(op), result.ratio(op), result.bestRatio(op), list(result.ratios(op, Sample::ns)));
        }
        out.println();
        out.println("CPU time (getrusage; sys is the kernel's work, user is the caller's: jvisor + FFM, or libbpf + libc):");
        out.println();
        out.println("| operation | Java user | Java sys | C user | C sys | Java/C (user+sys) | per round |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
        for (String op : result.ops()) {
            double[] ratios = result.ratios(op, Sample::cpuNs);
            out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.3f | %s |%n", label(op),
                    result.java(op, Sample::userNs), result.java(op, Sample::sysNs), result.c(op, Sample::userNs),
                    result.c(op, Sample::sysNs), median(ratios), list(ratios));
        }
        out.println();
        out.println("Batch against single operations (speed-up = single ns/op / batch ns per element):");
        out.println();
        out.println("| batch operation | Java ns/elem | Java speed-up | (CPU) | C ns/elem | C speed-up | (CPU) |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String op : result.ops()) {
            if (!op.contains("/")) {
                continue;
            }
            String single = op.startsWith("update") ? "update" : "lookup";
            out.printf(Locale.ROOT, "| %s vs %s | %.1f | %.2fx | %.2fx | %.1f | %.2fx | %.2fx |%n", label(op), single,
                    result.javaNs(op), result.javaNs(single) / result.javaNs(op),
                    result.java(single, Sample::cpuNs) / result.java(op, Sample::cpuNs), result.cNs(op),
                    result.cNs(single) / result.cNs(op), result.c(single, Sample::cpuNs) / result.c(op, Sample::cpuNs));
        }
    }

    private static String list(double[] xs) {
        return Arrays.stream(xs).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x)).collect(Collectors.joining(" "));
    }

    private static String label(String op) {
        int slash = op.indexOf('/');
        return slash < 0 ? op : op.substring(0, slash) + " (" + op.substring(slash + 1) + "/call, per element)";
    }

    static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("?");
        } catch (IOException e) {
            // not Linux: keep "?"
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs (" + cpu + "), Linux "
                + System.getProperty("os.version") + ", Java " + Runtime.version() + " ("
                + System.getProperty("java.vm.name") + ")";
    }

    /** The first three fields of /proc/loadavg, or "?". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    static double median(double[] xs) {
        if (xs.length == 0) {
            return Double.NaN;
        }
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}

package io.jvisor.bench;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.engine.Sdk;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How long the kernel takes to load (verify and JIT) one instance's program: each module's
 * {@code jv_tc} and {@code jv_xdp}, loaded the way the engine loads an instance (its own maps new,
 * the framework's shared maps given), {@code --times} times each; the median wall time of
 * {@code BPF_PROG_LOAD} plus the module's own map creation is reported, with the kernel's count of
 * verified instructions. Where the engine has an engine-wide flood program (entry.c), it is
 * timed too: an engine loads it once, at start.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.ModuleLoadTimeBench [--times N]
 * </pre>
 */
public final class ModuleLoadTimeBench {
    /** Class-path resources: the bench's flooding hub and forwarder, then the modules' data planes. */
    private static final List<String> SOURCES = List.of("/io/jvisor/bench/bpf/hub8.c", "/io/jvisor/bench/bpf/forwarder.c",
            "/io/jvisor/modules/bridge/bridge.c", "/io/jvisor/modules/router/router.c",
            "/io/jvisor/modules/firewall/firewall.c", "/io/jvisor/modules/nat/nat.c", "/io/jvisor/modules/lb/lb.c",
            "/io/jvisor/modules/ddos/ddos.c", "/io/jvisor/modules/capture/capture.c");

    private static final String ENTRY = "/io/jvisor/engine/entry.c";

    private ModuleLoadTimeBench() {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("ModuleLoadTimeBench", "[--times N]", args, List.of(), List.of("--times"));
        if (a == null) {
            return;
        }
        run(a.intOr("--times", 5), System.out);
    }

    static void run(int times, PrintStream out) {
        List<AutoCloseable> closeLater = new ArrayList<>();
        try {
            CollectionSpec entry = compile(ENTRY);
            CollectionOptions opts = CollectionOptions.DEFAULT;
            for (String name : Sdk.SHARED_MAPS) {
                BpfMap m = BpfMap.create(entry.map(name).orElseThrow().spec());
                closeLater.add(m);
                opts = opts.withReplacement(name, m);
            }
            out.println("| module | tc: load ms (median of " + times + ") | verified insns | xdp: load ms | verified insns |");
            out.println("| --- | ---: | ---: | ---: | ---: |");
            List<String> sources = new ArrayList<>(SOURCES);
            if (entry.program("jv_flood_tc").isPresent()) {
                sources.add(ENTRY); // the engine-wide flood program, loaded once per engine
            }
            for (String src : sources) {
                CollectionSpec spec = src.equals(ENTRY) ? entry : compile(src);
                String prefix = src.equals(ENTRY) ? "jv_flood" : "jv";
                StringBuilder row = new StringBuilder("| " + src.substring(src.lastIndexOf('/') + 1)
                        + (src.equals(ENTRY) ? " (" + prefix + "_tc/xdp, once per engine)" : "") + " |");
                for (String prog : List.of(prefix + "_tc", prefix + "_xdp")) {
                    CollectionSpec one = EngineBenchSupport.only(spec, prog).withConstant(Sdk.SLOT_CONSTANT, 1);
                    double[] ms = new double[times];
                    long verified = 0;
                    for (int i = 0; i < times; i++) {
                        long t0 = System.nanoTime();
                        try (Collection c = Collection.load(one, opts)) {
                            ms[i] = (System.nanoTime() - t0) / 1e6;
                            verified = c.program(prog).info().verifiedInstructions();
                        }
                    }
                    row.append(String.format(Locale.ROOT, " %.1f | %d |", EngineBenchSupport.median(ms), verified));
                }
                out.println(row);
            }
        } finally {
            EngineBenchSupport.closeAll(closeLater, out, "== ");
        }
    }

    private static CollectionSpec compile(String resource) {
        try (InputStream in = ModuleLoadTimeBench.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " is missing");
            }
            String name = resource.substring(resource.lastIndexOf('/') + 1);
            return ObjectFile.read(Clang.find().compileString(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    name, List.of()).object());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (io.jvisor.bpf.toolchain.CompileException e) {
            throw new IllegalStateException(resource + " does not compile: " + e.getMessage(), e);
        }
    }
}

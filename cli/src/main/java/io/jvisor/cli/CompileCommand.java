package io.jvisor.cli;

import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.bpf.toolchain.CompileException;
import io.jvisor.bpf.toolchain.Diagnostic;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code jvisor compile FILE.c -o FILE.o}: C to a BPF object with the jvisor toolchain. */
@Command(name = "compile", mixinStandardHelpOptions = true, description = "Compile a C file to a BPF object (clang -target bpf -O2 -g, libbpf and "
        + "jvisor SDK headers, cached by content).")
public final class CompileCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", paramLabel = "FILE.c", description = "The C source file.")
    Path source;

    @CommandLine.Option(names = {"-o", "--output"}, paramLabel = "FILE.o",
            description = "Where to write the object (default: FILE.o beside the source).")
    Path output;

    @CommandLine.Option(names = "-D", paramLabel = "NAME[=VALUE]", description = "Define a macro (repeatable).")
    List<String> defines = new ArrayList<>();

    @CommandLine.Option(names = "-I", paramLabel = "DIR", description = "Add an include directory (repeatable).")
    List<Path> includes = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path target = output != null ? output : defaultOutput(source);
        List<String> flags = new ArrayList<>();
        defines.forEach(d -> flags.add("-D" + d));
        includes.forEach(i -> {
            flags.add("-I");
            flags.add(i.toAbsolutePath().toString());
        });
        try {
            Clang clang = Clang.find();
            Clang.Result r = clang.compile(source, target, flags);
            for (Diagnostic d : r.diagnostics()) {
                err.println(d);
            }
            out.println("compiled " + source + " -> " + target + (r.cached() ? " (cached)" : "") + " with "
                    + clang.version());
            out.flush();
            err.flush();
            return 0;
        } catch (CompileException e) {
            if (e.diagnostics().isEmpty()) {
                err.println("jvisor: " + e.getMessage());
            } else {
                for (Diagnostic d : e.diagnostics()) {
                    err.println(d);
                }
                err.println("jvisor: " + e.errors().size() + " error(s); " + source + " was not compiled");
            }
            err.flush();
            return 1;
        }
    }

    private static Path defaultOutput(Path source) {
        String name = source.getFileName().toString();
        String base = name.endsWith(".c") ? name.substring(0, name.length() - 2) : name;
        Path parent = source.getParent();
        return parent == null ? Path.of(base + ".o") : parent.resolve(base + ".o");
    }
}

package io.jvisor.cli;

import io.jvisor.bpf.asm.Assembler;
import io.jvisor.bpf.asm.AssemblyException;
import io.jvisor.bpf.asm.Instruction;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jvisor asm FILE.s -o FILE.bin}: assembly text to raw little-endian instructions. */
@Command(name = "asm", description = {
        "Assemble eBPF assembly into raw little-endian instructions (struct bpf_insn).",
        "Reads the llvm syntax of llvm-objdump -d (whole listings too) and the bpf_conformance '-- asm' dialect."})
public final class AsmCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", paramLabel = "FILE.s", description = "The assembly source.")
    Path source;

    @CommandLine.Option(names = {"-o", "--output"}, paramLabel = "FILE.bin",
            description = "Where to write the instructions (default: FILE.bin beside the source).")
    Path output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path target = output != null ? output : defaultOutput(source);
        String text;
        try {
            text = Files.readString(source);
        } catch (IOException e) {
            err.println("jvisor: cannot read " + source + ": " + e.getMessage());
            return 1;
        }
        byte[] code;
        try {
            code = Assembler.assembleBytes(text);
        } catch (AssemblyException e) {
            err.println(source + ":" + e.line() + ": " + e.reason() + ": " + e.text().strip());
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("jvisor: " + source + ": " + e.getMessage());
            return 1;
        }
        try {
            Files.write(target, code);
        } catch (IOException e) {
            err.println("jvisor: cannot write " + target + ": " + e.getMessage());
            return 1;
        }
        out.println("assembled " + source + " -> " + target + " (" + code.length / Instruction.SLOT + " slots, "
                + code.length + " bytes)");
        out.flush();
        return 0;
    }

    private static Path defaultOutput(Path source) {
        String name = source.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String base = dot > 0 ? name.substring(0, dot) : name;
        Path parent = source.getParent();
        return parent == null ? Path.of(base + ".bin") : parent.resolve(base + ".bin");
    }
}

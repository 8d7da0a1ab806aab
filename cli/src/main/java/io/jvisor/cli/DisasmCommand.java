package io.jvisor.cli;

import io.jvisor.bpf.asm.Disassembler;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code jvisor disasm FILE.o [SECTION]}: the code of a BPF object, as {@code llvm-objdump -d} prints it. */
@Command(name = "disasm", description = {
        "Disassemble the executable sections of a BPF object in the syntax of llvm-objdump -d.",
        "bpf-to-bpf and kfunc calls print as 'call local' and 'call kfunc'; 'jvisor asm' reads the output back."})
public final class DisasmCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", paramLabel = "FILE.o", description = "The BPF ELF object.")
    Path object;

    @CommandLine.Parameters(index = "1", arity = "0..1", paramLabel = "SECTION",
            description = "Only this section (default: every executable section).")
    String section;

    @CommandLine.Option(names = {"-r", "--reloc"}, description = "Show relocations, like llvm-objdump -dr.")
    boolean relocations;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Disassembler.Section> sections;
        try {
            sections = Disassembler.Section.fromElf(Files.readAllBytes(object));
        } catch (IOException e) {
            err.println("jvisor: cannot read " + object + ": " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("jvisor: " + object + ": " + e.getMessage());
            return 1;
        }
        if (section != null) {
            List<Disassembler.Section> chosen = sections.stream().filter(s -> s.name().equals(section)).toList();
            if (chosen.isEmpty()) {
                err.println("jvisor: " + object + " has no executable section '" + section + "'; it has: "
                        + String.join(", ", sections.stream().map(Disassembler.Section::name).toList()));
                return 1;
            }
            sections = chosen;
        }
        out.print(Disassembler.objdump(object.toString(), sections, relocations));
        out.flush();
        return 0;
    }
}

package io.jvisor.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** Runs the real {@code jvisor} entry point in this JVM and captures its output. */
record CliRun(int exit, String out, String err) {
    static CliRun run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }

    static CliRun run(List<String> engine, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(engine);
        return run(all.toArray(String[]::new));
    }

    @Override
    public String toString() {
        return "exit " + exit + "\n--- out:\n" + out + "--- err:\n" + err;
    }
}

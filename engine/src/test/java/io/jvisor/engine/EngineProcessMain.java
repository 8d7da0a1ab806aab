package io.jvisor.engine;

import java.nio.file.Path;

/**
 * An engine in a process of its own, for the restart test: applies the chain given on the command
 * line, prints READY, and runs until it is killed.
 * Arguments: engine name, state directory, then connections as {@code a=b} pairs after the instances
 * as {@code name/type}.
 */
public final class EngineProcessMain {
    private EngineProcessMain() {}

    public static void main(String[] args) throws Exception {
        EngineOptions options = TestBed.withForcedFallbacks(EngineOptions.named(args[0]).withStateDir(Path.of(args[1])));
        Topology.Builder t = Topology.builder();
        for (int i = 2; i < args.length; i++) {
            if (args[i].contains("=")) {
                String[] ab = args[i].split("=", 2);
                t.connect(ab[0], ab[1]);
            } else {
                String[] nt = args[i].split("/", 2);
                t.instance(nt[0], nt[1]);
            }
        }
        Engine engine = Engine.start(options, TestModules.catalog());
        engine.apply(t.build());
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}

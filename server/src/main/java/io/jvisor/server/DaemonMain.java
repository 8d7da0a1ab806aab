package io.jvisor.server;

import io.jvisor.engine.EngineOptions;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs jvisord without the CLI: {@code DaemonMain ENGINE STATE_DIR [PORT [ADDRESS]]}. Prints
 * {@code LISTENING URL} once it answers; stops (leaving the network running) on SIGTERM. Without a
 * capability it needs ({@link DaemonCapabilities}) it prints one line naming it and exits with 77.
 */
public final class DaemonMain {
    private DaemonMain() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 2) {
            System.err.println("usage: DaemonMain ENGINE STATE_DIR [PORT [ADDRESS]]");
            System.exit(2);
        }
        EngineOptions e = EngineOptions.named(args[0]).withStateDir(Path.of(args[1]));
        int port = args.length > 2 ? Integer.parseInt(args[2]) : DaemonOptions.DEFAULT_PORT;
        String host = args.length > 3 ? args[3] : null;
        Daemon d;
        try {
            d = Daemon.start(new DaemonOptions(e, host, port, 0));
        } catch (io.jvisor.bpf.features.MissingCapabilityException ex) {
            System.err.println(ex.getMessage()); // "jvisord needs CAP_BPF, ...; this process lacks ..."
            System.exit(77); // EX_NOPERM, as the CLI
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            d.close();
            stopped.countDown();
        }));
        System.out.println("LISTENING " + d.url());
        System.out.flush();
        stopped.await();
    }
}

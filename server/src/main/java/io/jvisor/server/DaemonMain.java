package io.jvisor.server;

import io.jvisor.engine.EngineOptions;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs jvisord without the CLI: {@code DaemonMain ENGINE STATE_DIR [PORT [ADDRESS]]}. Prints
 * {@code LISTENING URL} once it answers; stops (leaving the network running) on SIGTERM.
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
        Daemon d = Daemon.start(new DaemonOptions(e, host, port, 0));
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

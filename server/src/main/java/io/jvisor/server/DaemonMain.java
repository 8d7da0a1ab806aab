package io.jvisor.server;

import io.jvisor.engine.EngineOptions;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs jvisord without the CLI: {@code DaemonMain ENGINE STATE_DIR SOCKET [ADDRESS[:PORT]]}, where
 * SOCKET is the control socket's path ({@code -} for none) and the optional address opens a TCP
 * listener that takes the bearer token. Prints {@code LISTENING unix:PATH} (or {@code LISTENING URL}
 * without a socket) once it answers; stops (leaving the network running) on SIGTERM. Without a
 * capability it needs ({@link DaemonCapabilities}) it prints one line naming it and exits with 77.
 */
public final class DaemonMain {
    private DaemonMain() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            System.err.println("usage: DaemonMain ENGINE STATE_DIR SOCKET|- [ADDRESS[:PORT]]");
            System.exit(2);
        }
        EngineOptions e = EngineOptions.named(args[0]).withStateDir(Path.of(args[1]));
        DaemonOptions o = DaemonOptions.of(e).withSocket(args[2].equals("-") ? null : Path.of(args[2]))
                .withTcp(args.length > 3 ? DaemonOptions.Tcp.parse(args[3]) : null);
        Daemon d;
        try {
            d = Daemon.start(o);
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
        System.out.println("LISTENING " + d.socket().map(p -> "unix:" + p).orElseGet(() -> d.url().orElseThrow()));
        System.out.flush();
        stopped.await();
    }
}

package io.jvisor.cli;

import java.io.PrintWriter;

/**
 * Shows that a long operation is under way: on a terminal, the elapsed seconds after the label,
 * redrawn every second on stderr; elsewhere (pipes, logs, tests) nothing, so output stays clean.
 */
final class Progress implements AutoCloseable {
    private final Thread thread;

    private Progress(Thread thread) {
        this.thread = thread;
    }

    /** Starts showing {@code label}. */
    static Progress start(PrintWriter err, String label) {
        if (System.console() == null || !System.console().isTerminal()) {
            return new Progress(null);
        }
        long t0 = System.nanoTime();
        Thread t = Thread.ofPlatform().daemon().name("jvisor-progress").start(() -> {
            try {
                while (true) {
                    Thread.sleep(1000);
                    err.print("\r" + label + " " + (System.nanoTime() - t0) / 1_000_000_000 + " s");
                    err.flush();
                }
            } catch (InterruptedException done) {
                err.print("\r\033[K");
                err.flush();
            }
        });
        return new Progress(t);
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

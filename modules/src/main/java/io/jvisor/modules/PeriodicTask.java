package io.jvisor.modules;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A control plane's background work (sweeping idle mappings, aging neighbours, probing backends):
 * one daemon thread that runs a task again and again, with a fixed delay between the end of one run
 * and the start of the next, until it is closed with its instance.
 */
public final class PeriodicTask implements AutoCloseable {
    private final ScheduledExecutorService executor;

    private PeriodicTask(ScheduledExecutorService executor) {
        this.executor = executor;
    }

    /**
     * Starts running {@code task} on a daemon thread named {@code threadName}: first after
     * {@code initialDelayMillis}, then {@code periodMillis} after each run ends. The task catches its
     * own exceptions: one that escapes ends the repetition.
     */
    public static PeriodicTask start(String threadName, Runnable task, long initialDelayMillis, long periodMillis) {
        ScheduledExecutorService e = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        e.scheduleWithFixedDelay(task, initialDelayMillis, periodMillis, TimeUnit.MILLISECONDS);
        return new PeriodicTask(e);
    }

    /** Stops the repetition, interrupts a run in progress and waits up to 2 s for it to end. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

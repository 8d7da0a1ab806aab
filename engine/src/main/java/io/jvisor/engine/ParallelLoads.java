package io.jvisor.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The new instances of one apply, loaded ahead from a few threads. A load is mostly the verifier's
 * work, CPU-bound and independent of every other load (the kernel verifies privileged programs in
 * parallel), so n new instances take about n / threads loads' time instead of n. The executor
 * takes each result when it reaches the instance in plan order, and so keeps its order and its
 * transaction; whatever it never takes (after a failure) is closed here.
 */
final class ParallelLoads implements AutoCloseable {
    private final Map<String, Future<ModuleLoader.Loaded>> pending = new LinkedHashMap<>();
    private final ExecutorService pool;
    /** Set by close: loads that have not started yet make nothing. */
    private volatile boolean closing;

    /** @param threads at most this many loads at once; 1 loads each when it is taken */
    ParallelLoads(int threads, String engineName) {
        AtomicInteger n = new AtomicInteger();
        this.pool = threads <= 1 ? null : Executors.newFixedThreadPool(threads, r -> Thread.ofPlatform()
                .name("jvisor-" + engineName + "-load-" + n.incrementAndGet()).daemon().unstarted(r));
    }

    /** The threads an apply with jobs loads uses: one per CPU, no more than there are loads. */
    static int threadsFor(int jobs) {
        return Math.max(1, Math.min(jobs, Runtime.getRuntime().availableProcessors()));
    }

    /** Starts loading instance name (or, without threads, remembers to load it when taken). */
    void submit(String name, Supplier<ModuleLoader.Loaded> load) {
        if (pool == null) {
            pending.put(name, new Deferred(load));
        } else {
            pending.put(name, pool.submit(() -> closing ? null : load.get()));
        }
    }

    /** Whether instance name was submitted and not taken yet. */
    boolean has(String name) {
        return pending.containsKey(name);
    }

    /**
     * The loaded instance, waiting for it if need be; the caller owns it from here.
     *
     * @throws RuntimeException what the load threw (a TopologyException naming the instance)
     */
    ModuleLoader.Loaded take(String name) {
        Future<ModuleLoader.Loaded> f = pending.remove(name);
        if (f == null) {
            throw new IllegalStateException("instance '" + name + "' was not loaded ahead");
        }
        return await(f);
    }

    private static ModuleLoader.Loaded await(Future<ModuleLoader.Loaded> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true; // a load cannot be abandoned half-way: its descriptors must be closed
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Stops loads that have not started, waits for those that have, and closes what was not taken.
     * (Not Future.cancel: a running load that is cancelled goes on and makes descriptors no one
     * would close.)
     */
    @Override
    public void close() {
        closing = true;
        for (Future<ModuleLoader.Loaded> f : pending.values()) {
            if (f instanceof Deferred) {
                continue; // never run: nothing was made
            }
            try {
                ModuleLoader.Loaded l = await(f);
                if (l != null) {
                    l.program().close();
                    l.maps().values().forEach(io.jvisor.bpf.BpfMap::close);
                }
            } catch (RuntimeException | Error failed) {
                // nothing was made, or the load closed what it made
            }
        }
        pending.clear();
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    /** A load run by whoever takes it (no threads). */
    private static final class Deferred extends java.util.concurrent.FutureTask<ModuleLoader.Loaded> {
        Deferred(Supplier<ModuleLoader.Loaded> load) {
            super(load::get);
        }

        @Override
        public ModuleLoader.Loaded get() throws InterruptedException, ExecutionException {
            run(); // runs once; later calls see the result
            return super.get();
        }
    }
}

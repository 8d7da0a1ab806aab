package io.jvisor.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The undo and commit actions of one apply. Every step that changes the kernel or the engine's
 * books registers how to undo it; steps that cannot be undone (detaching, closing, unpinning) are
 * deferred to commit, which runs only after every step succeeded.
 */
final class Transaction {
    private static final Logger LOG = LoggerFactory.getLogger(Transaction.class);
    private final Deque<Runnable> undo = new ArrayDeque<>();
    private final List<Runnable> commit = new ArrayList<>();

    /** Registers how to undo a step that has been done; undone last-in, first-out. */
    void onUndo(Runnable r) {
        undo.push(r);
    }

    /** Registers a step to run once everything has succeeded. */
    void onCommit(Runnable r) {
        commit.add(r);
    }

    /** Undoes every step, newest first; a failing undo step is logged and the rest still run. */
    void rollback() {
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (RuntimeException e) {
                LOG.error("rollback step failed; the kernel may differ from the saved state", e);
            }
        }
    }

    /** Runs the deferred steps; a failing one is logged (the apply has happened already). */
    void commit() {
        for (Runnable r : commit) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("clean-up after apply failed", e);
            }
        }
    }
}

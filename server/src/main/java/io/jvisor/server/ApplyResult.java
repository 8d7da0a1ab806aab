package io.jvisor.server;

import java.util.List;

/**
 * What an apply did, or would do for a dry run.
 *
 * @param name the topology's name
 * @param changes the plan as diff lines: {@code +} creates, {@code ~} changes, {@code -} removes
 * @param dryRun true when nothing was changed
 * @param millis how long it took
 */
public record ApplyResult(String name, List<String> changes, boolean dryRun, long millis) {
    public ApplyResult {
        changes = List.copyOf(changes);
    }

    /** The diff, one change a line, or "no changes". */
    public String diff() {
        return changes.isEmpty() ? "no changes\n" : String.join("\n", changes) + "\n";
    }
}

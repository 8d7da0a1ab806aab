package io.jvisor.bpf.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Implements {@link RequiresRoot}. */
public final class RootCondition implements ExecutionCondition, BeforeAllCallback {
    private static final String MESSAGE = "needs root (bpf(), network namespaces): run 'sudo ./mvnw -B verify'";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (Privileges.isRoot() || Privileges.isCi()) {
            return ConditionEvaluationResult.enabled("root, or CI where privileged tests must run");
        }
        return ConditionEvaluationResult.disabled(MESSAGE);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!Privileges.isRoot()) {
            throw new IllegalStateException("CI=true but not root: privileged tests must not skip in CI; " + MESSAGE);
        }
    }
}

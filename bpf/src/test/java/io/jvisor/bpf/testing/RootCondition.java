package io.jvisor.bpf.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Implements {@link RequiresRoot}: fails the class (or the method) before it runs when the process is
 * not root. Never a skip: a suite that skipped its kernel tests would pass without proving anything,
 * in CI or anywhere else.
 */
public final class RootCondition implements BeforeAllCallback, BeforeEachCallback {
    static final String MESSAGE = "needs root (bpf(), network namespaces): run 'sudo ./mvnw -B verify'; "
            + "as another user, run only the tests that need no root: './mvnw -B verify -DexcludedGroups="
            + RequiresRoot.TAG + "'";

    @Override
    public void beforeAll(ExtensionContext context) {
        require(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        require(context);
    }

    private static void require(ExtensionContext context) {
        if (!Privileges.isRoot()) {
            throw new IllegalStateException(context.getDisplayName() + " " + MESSAGE + " (uid "
                    + Privileges.effectiveUid() + ")");
        }
    }
}

package io.jvisor.bpf.testing;

import io.jvisor.bpf.Fd;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Fails a test class that leaves jvisor-owned file descriptors open. Registered for every test
 * class through extension auto-detection (junit-platform.properties), so no class can forget it.
 * Test classes run one after another in a JVM, so the before/after sets compare cleanly.
 */
public final class FdLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(FdLeakCheck.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("before", Fd.openDescriptions());
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterAll(ExtensionContext context) {
        List<String> before = context.getStore(NS).get("before", List.class);
        List<String> leaked = new ArrayList<>(Fd.openDescriptions());
        if (before != null) {
            leaked.removeAll(before);
        }
        if (!leaked.isEmpty()) {
            throw new AssertionError(context.getDisplayName() + " leaked " + leaked.size() + " fd(s): " + leaked);
        }
    }
}

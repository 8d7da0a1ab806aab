package io.jvisor.bpf.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether this process may use bpf() and create namespaces: effectively root. */
public final class Privileges {
    private Privileges() {}

    /** The effective uid, from /proc/self/status. */
    public static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.split("\\s+")[2]);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status", e);
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }

    /** True when running as root. */
    public static boolean isRoot() {
        return effectiveUid() == 0;
    }

    /** True under CI (CI=true), where privileged tests must run and never skip. */
    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }
}

package io.jvisor.net;

/**
 * A network namespace could not be created, opened, entered or deleted, or is gone. It names the
 * namespace as well as the operation and errno.
 */
public final class NetnsException extends NetException {
    private final String namespace;

    /**
     * @param operation what was being attempted, e.g. {@code "open"}
     * @param namespace the namespace name
     * @param errno the positive errno, or 0
     * @param detail more text; may be empty
     */
    public NetnsException(String operation, String namespace, int errno, String detail) {
        this(operation, namespace, errno, detail, null);
    }

    /** Same, with a cause (may be null). */
    public NetnsException(String operation, String namespace, int errno, String detail, Throwable cause) {
        super(operation + " netns '" + namespace + "'", errno, detail, cause);
        this.namespace = namespace;
    }

    /** The namespace name. */
    public String namespace() {
        return namespace;
    }
}

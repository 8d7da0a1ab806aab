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
        super(operation + " netns '" + namespace + "'", errno, detail);
        this.namespace = namespace;
    }

    /** Same, with a cause. */
    public NetnsException(String operation, String namespace, int errno, String detail, Throwable cause) {
        this(operation, namespace, errno, detail);
        initCause(cause);
    }

    /** The namespace name. */
    public String namespace() {
        return namespace;
    }
}

package io.jvisor.engine;

/**
 * An apply or a validation failed. {@link #element()} names the instance, connection, path or
 * field at fault; the message says why. When an apply fails, the kernel is back where it was.
 */
public final class TopologyException extends RuntimeException {
    private final String element;

    /**
     * @param element the element at fault, e.g. {@code instance 'fw1'} or {@code connection fw1:0 -> dev eth0}
     * @param reason what is wrong
     */
    public TopologyException(String element, String reason) {
        super(element + ": " + reason);
        this.element = element;
    }

    /** Same, with a cause (the kernel's error, the verifier's log, ...). */
    public TopologyException(String element, String reason, Throwable cause) {
        super(element + ": " + reason, cause);
        this.element = element;
    }

    /** The element at fault. */
    public String element() {
        return element;
    }
}

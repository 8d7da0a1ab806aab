package io.jvisor.net.lab;

/**
 * A lab description is invalid. The message starts with the field at fault, for example
 * {@code hosts[1].interfaces[0].addresses[0]: not an IP address: '10.1.2/24'}.
 */
public final class LabSpecException extends IllegalArgumentException {
    private final String field;

    /**
     * @param field the path of the offending field, e.g. {@code wires[2].b}
     * @param message what is wrong with it
     */
    public LabSpecException(String field, String message) {
        this(field, message, null);
    }

    /** Same, with a cause (may be null). */
    public LabSpecException(String field, String message, Throwable cause) {
        super(field + ": " + message, cause);
        this.field = field;
    }

    /** The path of the offending field. */
    public String field() {
        return field;
    }
}

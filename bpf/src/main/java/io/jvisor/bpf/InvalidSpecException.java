package io.jvisor.bpf;

/**
 * A spec (map, program, link or pin request) was refused before any syscall because one of its
 * fields is wrong. {@link #field()} names the field; the message says what value is wrong and why.
 */
public final class InvalidSpecException extends BpfException {
    private final String field;

    /**
     * @param what the object being described, e.g. {@code "map 'counts'"}
     * @param field the offending field, e.g. {@code "keySize"}
     * @param problem what is wrong with it
     */
    public InvalidSpecException(String what, String field, String problem) {
        super("invalid " + what, Errno.EINVAL.number(), field + ": " + problem);
        this.field = field;
    }

    /** The name of the offending field. */
    public String field() {
        return field;
    }
}

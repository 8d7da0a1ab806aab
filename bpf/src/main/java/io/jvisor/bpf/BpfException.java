package io.jvisor.bpf;

/**
 * A kernel or validation failure in the bpf layer. It carries the errno (0 when the failure was
 * found before any syscall), the operation that was being attempted, and a hint that names the
 * likely culprit.
 */
public class BpfException extends RuntimeException {
    private final int errno;
    private final String operation;
    private final String hint;

    /**
     * @param operation what was being attempted, e.g. {@code "BPF_MAP_CREATE hash 'counts'"}
     * @param errno the positive errno, or 0 when no syscall failed
     * @param hint what probably caused it; may be empty
     */
    public BpfException(String operation, int errno, String hint) {
        super(format(operation, errno, hint));
        this.errno = errno;
        this.operation = operation;
        this.hint = hint == null ? "" : hint;
    }

    /** Same, with a cause. */
    public BpfException(String operation, int errno, String hint, Throwable cause) {
        this(operation, errno, hint);
        initCause(cause);
    }

    private static String format(String operation, int errno, String hint) {
        StringBuilder sb = new StringBuilder(operation);
        if (errno != 0) {
            sb.append(": ").append(Errno.name(errno)).append(" (").append(Errno.describe(errno)).append(')');
        }
        if (hint != null && !hint.isEmpty()) {
            sb.append(": ").append(hint);
        }
        return sb.toString();
    }

    /** The positive errno, or 0 when the failure was detected before any syscall. */
    public int errno() {
        return errno;
    }

    /** The errno as a constant, or null when unknown or 0. */
    public Errno errnoConstant() {
        return Errno.of(errno);
    }

    /** What was being attempted. */
    public String operation() {
        return operation;
    }

    /** The hint, possibly empty. */
    public String hint() {
        return hint;
    }

    /**
     * The standard hint for an errno, used when the caller has nothing more specific. EPERM explains
     * privileges by this process's effective capabilities: the ones it lacks, or, when it has CAP_BPF
     * and CAP_NET_ADMIN, that no capability is missing and the kernel refuses the request itself.
     */
    public static String defaultHint(int errno) {
        return switch (Errno.name(errno)) {
            case "EPERM" -> permissionHint();
            case "ENOMEM" -> "the kernel could not allocate the object; check memlock limits and max_entries";
            case "EBADF" -> "a file descriptor in the request is closed or not a bpf object";
            case "ENOSPC" -> "the map is full (max_entries reached)";
            default -> "";
        };
    }

    private static String permissionHint() {
        try {
            return io.jvisor.bpf.features.Capabilities.current().permissionHint();
        } catch (RuntimeException e) { // no /proc: say what is usually true
            return "run as root, or grant CAP_BPF (plus CAP_NET_ADMIN for networking programs)";
        }
    }
}

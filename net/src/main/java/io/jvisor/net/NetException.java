package io.jvisor.net;

import io.jvisor.bpf.Errno;
import io.jvisor.net.sys.Libc;

/**
 * A failure in the net layer. It carries the errno (0 when the failure was found before any system
 * call) and the operation that was being attempted, for example {@code "create veth 'a' (peer 'b')"}.
 * Subtypes add what the kernel said ({@link NetlinkException}) or which namespace was involved
 * ({@link NetnsException}).
 */
public class NetException extends RuntimeException {
    private final int errno;
    private final String operation;

    /**
     * @param operation what was being attempted
     * @param errno the positive errno, or 0 when no system call failed
     * @param detail more text for the message; may be empty
     */
    public NetException(String operation, int errno, String detail) {
        this(operation, errno, detail, null);
    }

    /** Same, with a cause (may be null). */
    public NetException(String operation, int errno, String detail, Throwable cause) {
        super(format(operation, errno, detail), cause);
        this.errno = errno;
        this.operation = operation;
    }

    static String format(String operation, int errno, String detail) {
        StringBuilder sb = new StringBuilder(operation);
        if (errno != 0) {
            sb.append(": ").append(errnoName(errno)).append(" (").append(Libc.strerror(errno)).append(')');
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append(": ").append(detail);
        }
        return sb.toString();
    }

    /** The symbolic name of {@code errno} when known (e.g. {@code EEXIST}), else {@code "errno N"}. */
    public static String errnoName(int errno) {
        return switch (errno) {
            case 90 -> "EMSGSIZE";
            case 97 -> "EAFNOSUPPORT";
            case 99 -> "EADDRNOTAVAIL";
            case 100 -> "ENETDOWN";
            case 101 -> "ENETUNREACH";
            case 113 -> "EHOSTUNREACH";
            default -> Errno.name(errno);
        };
    }

    /** The positive errno, or 0 when the failure was detected before any system call. */
    public int errno() {
        return errno;
    }

    /** What was being attempted. */
    public String operation() {
        return operation;
    }
}

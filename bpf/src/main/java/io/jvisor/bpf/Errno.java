package io.jvisor.bpf;

/**
 * The Linux errno values the bpf layer meets, with their symbolic names and the C library's text.
 * Unknown numbers are kept as {@code errno N}.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "Input/output error"),
    ENXIO(6, "No such device or address"),
    E2BIG(7, "Argument list too long"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    EXDEV(18, "Invalid cross-device link"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    EMFILE(24, "Too many open files"),
    ENOSPC(28, "No space left on device"),
    ERANGE(34, "Numerical result out of range"),
    ENAMETOOLONG(36, "File name too long"),
    ENOSYS(38, "Function not implemented"),
    ELOOP(40, "Too many levels of symbolic links"),
    ENOLINK(67, "Link has been severed"),
    ENOTSUP(95, "Operation not supported"),
    EADDRINUSE(98, "Address already in use"),
    ENOTSUPP(524, "Operation is not supported (kernel-internal ENOTSUPP)");

    private final int number;
    private final String text;

    Errno(int number, String text) {
        this.number = number;
        this.text = text;
    }

    /** The numeric errno. */
    public int number() {
        return number;
    }

    /** The C library's description. */
    public String text() {
        return text;
    }

    /** The symbolic name for {@code errno}, or {@code "errno N"} when unknown. */
    public static String name(int errno) {
        Errno e = of(errno);
        return e == null ? "errno " + errno : e.name();
    }

    /** The description for {@code errno}, or {@code "unknown error"}. */
    public static String describe(int errno) {
        Errno e = of(errno);
        return e == null ? "unknown error" : e.text;
    }

    /** The constant for {@code errno}, or null. */
    public static Errno of(int errno) {
        for (Errno e : values()) {
            if (e.number == errno) {
                return e;
            }
        }
        return null;
    }
}

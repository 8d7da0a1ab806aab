package io.jvisor.cli;

/**
 * Exit codes: 0 success; 1 the operation failed (the kernel refused, traffic did not pass); 2 bad
 * usage (picocli); 65 bad input data (an invalid topology or request, BSD sysexits EX_DATAERR); 66 an
 * input file is missing (EX_NOINPUT); 69 the daemon is unreachable (EX_UNAVAILABLE); 77 not root, or
 * not allowed on the daemon's control socket (EX_NOPERM).
 */
final class Exit {
    private Exit() {}

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int DATA = 65;
    static final int NO_INPUT = 66;
    static final int UNAVAILABLE = 69;
    static final int NO_PERMISSION = 77;
}

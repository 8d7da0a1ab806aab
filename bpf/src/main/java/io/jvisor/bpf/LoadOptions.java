package io.jvisor.bpf;

/**
 * How to load a program.
 *
 * @param logLevel verifier log level: 0 (log only on failure), 1 (instructions and verdict), 2 (verbose,
 *     with register states)
 * @param logSize initial size of the log buffer in bytes; it grows when the kernel says it is too small
 * @param ifindex device to bind the program to (XDP hints, offload), or 0
 */
public record LoadOptions(int logLevel, int logSize, int ifindex) {
    /** Largest log buffer the kernel accepts (UINT_MAX >> 2). */
    public static final int MAX_LOG_SIZE = Integer.MAX_VALUE >> 1;

    public LoadOptions {
        if (logLevel < 0 || logLevel > 2) {
            throw new IllegalArgumentException("logLevel must be 0, 1 or 2, got " + logLevel);
        }
        if (logSize < 128) {
            throw new IllegalArgumentException("logSize must be at least 128 bytes, got " + logSize);
        }
    }

    /** No log unless the load fails; then a level-1 log is captured. */
    public static final LoadOptions DEFAULT = new LoadOptions(0, 64 * 1024, 0);

    /** These options with another log level. */
    public LoadOptions withLogLevel(int level) {
        return new LoadOptions(level, logSize, ifindex);
    }
}

package io.jvisor.bench;

/**
 * The kernel refused a traffic generator the benchmark was told to use ({@code --generator live} where
 * BPF_F_TEST_XDP_LIVE_FRAMES is refused). The message names the feature, the errno and what the kernel
 * still allows; {@code --generator af-packet} or {@code auto} runs anyway.
 */
final class GeneratorRefusedException extends RuntimeException {
    private final int errno;

    GeneratorRefusedException(String message, int errno, Throwable cause) {
        super(message, cause);
        this.errno = errno;
    }

    /** The errno of the refusal. */
    int errno() {
        return errno;
    }
}

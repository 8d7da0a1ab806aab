package io.jvisor.modules.ddos;

/**
 * A per-source token bucket: each source address may send {@code burst} packets at once, and
 * {@code packetsPerSecond} more every second after that. Over a flood of T seconds from one
 * source, about {@code burst + packetsPerSecond * T} packets pass.
 *
 * @param packetsPerSecond the refill rate R, 1..1 000 000 000
 * @param burst the bucket's size B, at least 1
 */
public record RateLimit(long packetsPerSecond, long burst) {
    /** Validates. */
    public RateLimit {
        if (packetsPerSecond < 1 || packetsPerSecond > 1_000_000_000L) {
            throw new IllegalArgumentException("packets per second must be 1..1000000000, got " + packetsPerSecond);
        }
        if (burst < 1 || burst > 1_000_000_000L) {
            throw new IllegalArgumentException("burst must be 1..1000000000, got " + burst);
        }
    }

    /** T: nanoseconds per token (1e9 / R, rounded to the nearest nanosecond). */
    public long intervalNanos() {
        return Math.max(1, Math.round(1e9 / packetsPerSecond));
    }

    /** tau: how far ahead of now a source's theoretical arrival time may run, (B - 1) * T. */
    public long toleranceNanos() {
        return (burst - 1) * intervalNanos();
    }
}

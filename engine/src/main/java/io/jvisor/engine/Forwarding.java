package io.jvisor.engine;

/**
 * How a module type forwards what it receives, as far as loops in a topology are concerned
 * ({@link ModuleType#forwarding()}). The engine accepts a loop of instances only when something on
 * it ends a packet that goes round: see {@link PathCheck}.
 */
public enum Forwarding {
    /**
     * Forwards frames as they are (a bridge, a firewall, a capture point): nothing in a frame counts
     * the instances it has crossed, so a frame on a loop of such instances would circle until the
     * kernel's tail-call limit drops it. The default.
     */
    L2(false),
    /**
     * Forwards only IP packets whose TTL (hop limit) it decrements, dropping them at zero (a router):
     * a packet that goes round a loop through such an instance ends.
     */
    L3(true);

    private final boolean endsLoops;

    Forwarding(boolean endsLoops) {
        this.endsLoops = endsLoops;
    }

    /**
     * True when a loop through an instance of this kind is safe, because the instance ends a packet
     * that goes round. A bridge running a spanning tree protocol, whose blocked ports break loops,
     * would be one more kind with this set.
     */
    public boolean endsLoops() {
        return endsLoops;
    }
}

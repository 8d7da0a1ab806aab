package io.jvisor.modules.capture;

/**
 * What a capture session did, from its start until now (or until it stopped).
 *
 * @param written frames written to the pcap output
 * @param kernel the capture point's kernel counters over the session: {@code kernel.lost()} frames
 *     matched the filter but were lost because the ring buffer was full
 * @param failure why writing stopped early (for example the reader of a pipe went away), or null
 */
public record CaptureSummary(long written, CaptureStats kernel, String failure) {
    /** Frames lost in the kernel (ring buffer full). */
    public long lost() {
        return kernel.lost();
    }

    /** In the words of tcpdump's own summary, plus the failure when there was one. */
    @Override
    public String toString() {
        String s = written + " packets captured\n" + kernel.matched() + " packets received by filter\n"
                + kernel.lost() + " packets dropped by kernel (ring buffer full, " + kernel.lostBytes() + " bytes)";
        if (kernel.errors() > 0) {
            s += "\n" + kernel.errors() + " packets unreadable";
        }
        return failure == null ? s : s + "\nstopped: " + failure;
    }
}

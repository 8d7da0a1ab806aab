package io.jvisor.modules.capture;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;

/**
 * An output that takes the pcap file header, then blocks every write until {@link #release()}: a
 * reader that falls behind, so the capture ring fills up behind it.
 */
final class StalledOutput extends OutputStream {
    private final CountDownLatch release = new CountDownLatch(1);
    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();

    /** Lets the blocked writes through. */
    void release() {
        release.countDown();
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (sink.size() > 24) {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
        sink.write(b, off, len);
    }
}

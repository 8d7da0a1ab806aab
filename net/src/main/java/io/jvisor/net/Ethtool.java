package io.jvisor.net;

import io.jvisor.bpf.Fd;
import io.jvisor.net.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Device offload settings through the SIOCETHTOOL ioctl, in the namespace the object was opened
 * in. Today it covers transmit checksum offload, which XDP on veth needs off: a frame redirected
 * by XDP skips the checksum completion that offload would leave to a (virtual) NIC, so TCP segments
 * arrive with bad checksums and are dropped.
 */
public final class Ethtool implements AutoCloseable {
    // linux/ethtool.h: legacy get/set commands for one feature, with struct ethtool_value {u32 cmd, data}.
    private static final int ETHTOOL_GTXCSUM = 0x16, ETHTOOL_STXCSUM = 0x17;
    /** struct ifreq is 40 bytes on 64-bit Linux; ifr_data (a pointer) sits after the 16-byte name. */
    private static final int IFREQ_SIZE = 40, IFR_DATA = 16, IFNAMSIZ = 16;

    private final Fd fd;
    private final String where;

    private Ethtool(Fd fd, String where) {
        this.fd = fd;
        this.where = where;
    }

    /** Opens an ethtool handle (a datagram socket) in the calling thread's namespace. */
    public static Ethtool open() {
        int s = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM, 0);
        if (s < 0) {
            throw new NetException("open ethtool socket", -s, "");
        }
        return new Ethtool(Fd.adopt(s, "ethtool socket"), "");
    }

    /** Opens an ethtool handle inside {@code ns}. */
    public static Ethtool open(Netns ns) {
        return ns.run(() -> {
            int s = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM, 0);
            if (s < 0) {
                throw new NetException("open ethtool socket in netns " + ns.name(), -s, "");
            }
            return new Ethtool(Fd.adopt(s, "ethtool socket in netns '" + ns.name() + "'"), ns.name());
        });
    }

    /** Whether transmit checksum offload is on for device {@code dev} ({@code ethtool -k}'s tx-checksumming). */
    public boolean txChecksum(String dev) {
        return call(dev, ETHTOOL_GTXCSUM, 0, "get tx checksum offload") != 0;
    }

    /** Turns transmit checksum offload on or off for device {@code dev} ({@code ethtool -K dev tx on|off}). */
    public void setTxChecksum(String dev, boolean on) {
        call(dev, ETHTOOL_STXCSUM, on ? 1 : 0, "set tx checksum offload " + (on ? "on" : "off"));
    }

    private int call(String dev, int cmd, int data, String operation) {
        byte[] name = dev.getBytes(StandardCharsets.UTF_8);
        String op = where.isEmpty() ? operation : operation + " (netns " + where + ")";
        if (name.length >= IFNAMSIZ) {
            throw new NetlinkException(op, dev, 0, "a device name has at most 15 bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(8, 4);
            value.set(ValueLayout.JAVA_INT, 0, cmd);
            value.set(ValueLayout.JAVA_INT, 4, data);
            MemorySegment ifr = arena.allocate(IFREQ_SIZE, 8);
            MemorySegment.copy(name, 0, ifr, ValueLayout.JAVA_BYTE, 0, name.length);
            ifr.set(ValueLayout.ADDRESS, IFR_DATA, value);
            int r = Libc.ioctl(fd.get(), Libc.SIOCETHTOOL, ifr);
            if (r < 0) {
                throw new NetlinkException(op, dev, -r, "");
            }
            return value.get(ValueLayout.JAVA_INT, 4);
        }
    }

    /** Closes the socket. */
    @Override
    public void close() {
        fd.close();
    }
}

package io.jvisor.net;

import java.util.EnumSet;
import java.util.Set;

/** The interface flags (IFF_*) the net layer reports, named as {@code ip link} prints them. */
public enum LinkFlag {
    /** Administratively up. */
    UP(0x1),
    /** Has a broadcast address. */
    BROADCAST(0x2),
    /** Loopback device. */
    LOOPBACK(0x8),
    /** Point-to-point link. */
    POINTOPOINT(0x10),
    /** Operationally running (the kernel's RFC 2863 view). */
    RUNNING(0x40),
    /** No ARP on this device. */
    NOARP(0x80),
    /** Receives all packets. */
    PROMISC(0x100),
    /** Supports multicast. */
    MULTICAST(0x1000),
    /** The driver signals carrier (L1 up). */
    LOWER_UP(0x10000);

    private final int bit;

    LinkFlag(int bit) {
        this.bit = bit;
    }

    /** The IFF_* bit. */
    public int bit() {
        return bit;
    }

    /** The flags set in {@code bits}. */
    public static Set<LinkFlag> of(int bits) {
        EnumSet<LinkFlag> s = EnumSet.noneOf(LinkFlag.class);
        for (LinkFlag f : values()) {
            if ((bits & f.bit) != 0) {
                s.add(f);
            }
        }
        return s;
    }
}

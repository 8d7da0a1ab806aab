package io.jvisor.net;

/**
 * An address assigned to an interface (RTM_NEWADDR).
 *
 * @param ifindex the interface it is on
 * @param prefix the address and prefix length (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6)
 * @param scope the scope: 0 universe ("global"), 253 link, 254 host
 * @param flags the IFA_F_* flags (IFA_FLAGS when present, else the 8-bit header flags)
 * @param label the IPv4 label (usually the interface name); empty for IPv6
 */
public record Address(int ifindex, IpPrefix prefix, int scope, int flags, String label) {
    /** IFA_F_PERMANENT: configured, not learned. */
    public static final int PERMANENT = 0x80;
    /** IFA_F_TENTATIVE: IPv6 duplicate address detection has not finished. */
    public static final int TENTATIVE = 0x40;

    /** The scope as {@code ip} prints it: global, link, host, or the number. */
    public String scopeName() {
        return Route.scopeName(scope);
    }
}

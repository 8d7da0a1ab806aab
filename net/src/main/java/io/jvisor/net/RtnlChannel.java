package io.jvisor.net;

import io.jvisor.net.sys.Libc;
import io.jvisor.net.sys.NetlinkSocket;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * The rtnetlink socket that every part of {@link Rtnl} sends its requests on, and the namespace it
 * speaks for, which every operation's name carries into its errors.
 *
 * @param socket the socket; one request is in flight at a time, as {@link Rtnl} synchronizes
 * @param where the namespace's name, or empty for the opener's own
 */
record RtnlChannel(NetlinkSocket socket, String where) {
    /** {@code operation}, with the namespace when it is not the opener's. */
    String op(String operation) {
        return where.isEmpty() ? operation : operation + " (netns " + where + ")";
    }

    /** The address family (AF_INET or AF_INET6) of {@code a}. */
    static int family(InetAddress a) {
        return a instanceof Inet4Address ? Libc.AF_INET : Libc.AF_INET6;
    }
}

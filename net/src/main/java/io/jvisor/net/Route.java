package io.jvisor.net;

import java.net.InetAddress;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A route as the kernel reports it (RTM_NEWROUTE).
 *
 * @param destination the destination prefix (0.0.0.0/0 or ::/0 for a default route)
 * @param gateway the next hop, if any
 * @param outputIfindex the output interface, if any
 * @param table the routing table (254 main, 255 local)
 * @param protocol who installed it (2 kernel, 3 boot: what {@code ip route add} uses, 4 static)
 * @param scope 0 universe, 253 link, 254 host
 * @param type 1 unicast, 2 local, 3 broadcast, 6 blackhole, 7 unreachable, ...
 * @param metric the priority (RTA_PRIORITY), if set
 * @param preferredSource the preferred source address (RTA_PREFSRC), if set
 */
public record Route(IpPrefix destination, Optional<InetAddress> gateway, OptionalInt outputIfindex, int table,
                    int protocol, int scope, int type, OptionalInt metric, Optional<InetAddress> preferredSource) {
    /** The main table. */
    public static final int TABLE_MAIN = 254;
    /** The local table, where the kernel puts routes to local and broadcast addresses. */
    public static final int TABLE_LOCAL = 255;
    /** rtm_type unicast. */
    public static final int TYPE_UNICAST = 1;

    /** True for 0.0.0.0/0 and ::/0. */
    public boolean isDefault() {
        return destination.length() == 0;
    }

    /** The scope as {@code ip} prints it. */
    public String scopeName() {
        return scopeName(scope);
    }

    static String scopeName(int scope) {
        return switch (scope) {
            case 0 -> "global";
            case 200 -> "site";
            case 253 -> "link";
            case 254 -> "host";
            case 255 -> "nowhere";
            default -> Integer.toString(scope);
        };
    }
}

package io.jvisor.net;

import io.jvisor.net.sys.Libc;
import io.jvisor.net.sys.NetlinkSocket;

import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * An rtnetlink socket: links, addresses, routes, neighbours, tc filters (clsact and cls_bpf) and
 * XDP programs (IFLA_XDP) of one network namespace, the one
 * the socket was opened in ({@link #open()} for the calling thread's, {@link #open(Netns)} for a
 * named one). It speaks the kernel's protocol directly; nothing here runs {@code ip}.
 *
 * <p>Devices are named by their interface name, except in the tc and XDP methods, which take the
 * ifindex a datapath works with (their errors still name the device). Every refusal is a {@link NetlinkException} with
 * the operation, the device, the errno and the kernel's own explanation when it gives one. Methods
 * are synchronized: one request is in flight at a time.
 *
 * <p>Each kind of kernel object has its own part, with its messages and operations: {@link RtnlLinks},
 * {@link RtnlAddresses}, {@link RtnlRoutes}, {@link RtnlNeighbours}, {@link RtnlTc} and {@link RtnlXdp},
 * all on one {@link RtnlChannel}. This class is what callers see.
 */
public final class Rtnl implements AutoCloseable {
    /** IFA_F_NODAD: skip IPv6 duplicate address detection. */
    public static final int NO_DAD = 0x02;

    private final RtnlChannel channel;
    private final RtnlLinks links;
    private final RtnlAddresses addresses;
    private final RtnlRoutes routes;
    private final RtnlNeighbours neighbours;
    private final RtnlTc tc;
    private final RtnlXdp xdp;

    private Rtnl(NetlinkSocket socket, String where) {
        this.channel = new RtnlChannel(socket, where);
        this.links = new RtnlLinks(channel);
        this.addresses = new RtnlAddresses(channel, links);
        this.routes = new RtnlRoutes(channel, links);
        this.neighbours = new RtnlNeighbours(channel, links);
        this.tc = new RtnlTc(channel, links);
        this.xdp = new RtnlXdp(channel, links);
    }

    /** Opens an rtnetlink socket in the calling thread's network namespace. */
    public static Rtnl open() {
        return new Rtnl(NetlinkSocket.open(Libc.NETLINK_ROUTE, "rtnetlink socket"), "");
    }

    /** Opens an rtnetlink socket inside {@code ns} (on its thread, since sockets keep the opener's). */
    public static Rtnl open(Netns ns) {
        return ns.run(() -> new Rtnl(NetlinkSocket.open(Libc.NETLINK_ROUTE,
                "rtnetlink socket in netns '" + ns.name() + "'"), ns.name()));
    }

    // ---------------------------------------------------------------- links

    /** Every device in the namespace, in ifindex order. */
    public synchronized List<Link> links() {
        return links.links();
    }

    /**
     * The device called {@code name}.
     *
     * @throws NetlinkException ENODEV when there is none
     */
    public synchronized Link link(String name) {
        return links.link(name);
    }

    /** The device with index {@code ifindex}. */
    public synchronized Link link(int ifindex) {
        return links.link(ifindex);
    }

    /**
     * The device with index {@code ifindex} in the namespace that this one knows by the id
     * {@code netnsId} (IFLA_TARGET_NETNSID), e.g. a veth's peer as {@link Link#linkIfindex()} and
     * {@link Link#linkNetnsId()} name it.
     *
     * @throws NetlinkException ENODEV when there is none, EINVAL when no namespace has that id
     */
    public synchronized Link link(int ifindex, int netnsId) {
        return links.link(ifindex, netnsId);
    }

    /** The device called {@code name}, or empty when there is none. */
    public synchronized Optional<Link> findLink(String name) {
        return links.findLink(name);
    }

    /** The ifindex of device {@code name}. */
    public synchronized int ifindex(String name) {
        return links.ifindex(name);
    }

    /**
     * Creates a veth pair. Either end may be created straight in another namespace, and the first
     * end may be created up and enslaved: a wire to a bridge in one request.
     */
    public synchronized void createVeth(VethSpec spec) {
        links.createVeth(spec);
    }

    /** Creates veth pair {@code name} &lt;-&gt; {@code peerName} in this namespace. */
    public synchronized void createVeth(String name, String peerName) {
        createVeth(VethSpec.of(name, peerName));
    }

    /** Creates a vxlan device. */
    public synchronized void createVxlan(VxlanSpec spec) {
        links.createVxlan(spec);
    }

    /** Creates a Linux bridge. */
    public synchronized void createBridge(String name) {
        links.createSimple(name, "bridge");
    }

    /** Creates a dummy device. */
    public synchronized void createDummy(String name) {
        links.createSimple(name, "dummy");
    }

    /** Deletes device {@code name} (and a veth's peer with it). */
    public synchronized void delete(String name) {
        links.delete(name);
    }

    /** Sets device {@code name} administratively up. */
    public synchronized void setUp(String name) {
        links.setUp(name);
    }

    /** Sets device {@code name} administratively down. */
    public synchronized void setDown(String name) {
        links.setDown(name);
    }

    /** Sets the MTU of device {@code name}. */
    public synchronized void setMtu(String name, int mtu) {
        links.setMtu(name, mtu);
    }

    /** Sets the MAC address of device {@code name}. */
    public synchronized void setMac(String name, MacAddress mac) {
        links.setMac(name, mac);
    }

    /** Enslaves device {@code name} to {@code master} (e.g. a bridge). */
    public synchronized void setMaster(String name, String master) {
        links.setMaster(name, master);
    }

    /** Releases device {@code name} from its master. */
    public synchronized void clearMaster(String name) {
        links.clearMaster(name);
    }

    /**
     * Moves device {@code name} into namespace {@code target}. It arrives down, without addresses.
     *
     * @throws NetnsException ENOENT when {@code target} has been deleted
     */
    public synchronized void moveToNamespace(String name, Netns target) {
        links.moveToNamespace(name, target);
    }

    // ---------------------------------------------------------------- addresses

    /** Every address in the namespace, IPv4 and IPv6. */
    public synchronized List<Address> addresses() {
        return addresses.addresses();
    }

    /** The addresses on device {@code dev}. */
    public synchronized List<Address> addresses(String dev) {
        return addresses.addresses(dev);
    }

    /** Adds {@code prefix} (address and prefix length) to device {@code dev}. */
    public synchronized void addAddress(String dev, IpPrefix prefix) {
        addresses.addAddress(dev, prefix, 0);
    }

    /**
     * Adds {@code prefix} to device {@code dev} with IFA_F_* {@code flags}, e.g.
     * {@link #NO_DAD} so that an IPv6 address is usable at once.
     */
    public synchronized void addAddress(String dev, IpPrefix prefix, int flags) {
        addresses.addAddress(dev, prefix, flags);
    }

    /** Deletes {@code prefix} from device {@code dev}. */
    public synchronized void deleteAddress(String dev, IpPrefix prefix) {
        addresses.deleteAddress(dev, prefix);
    }

    // ---------------------------------------------------------------- routes

    /** Every route of {@code family} in every table, cached clones excluded. */
    public synchronized List<Route> routes(StandardProtocolFamily family) {
        return routes.routes(family);
    }

    /** The routes of {@code family} in the main table, as {@code ip route} shows them. */
    public synchronized List<Route> mainRoutes(StandardProtocolFamily family) {
        return routes(family).stream().filter(r -> r.table() == Route.TABLE_MAIN).toList();
    }

    /** Adds a route. A route without a gateway gets link scope, as with {@code ip route add}. */
    public synchronized void addRoute(RouteSpec spec) {
        routes.addRoute(spec);
    }

    /** Deletes the route matching {@code spec} (unset parts match anything, as with {@code ip route del}). */
    public synchronized void deleteRoute(RouteSpec spec) {
        routes.deleteRoute(spec);
    }

    // ---------------------------------------------------------------- neighbours

    /** Every neighbour entry (ARP and NDP) in the namespace. */
    public synchronized List<Neighbour> neighbours() {
        return neighbours.neighbours();
    }

    /** Adds a permanent neighbour entry: {@code address} is at {@code mac} on device {@code dev}. */
    public synchronized void addNeighbour(String dev, InetAddress address, MacAddress mac) {
        neighbours.addNeighbour(dev, address, mac);
    }

    /** Deletes the neighbour entry for {@code address} on device {@code dev}. */
    public synchronized void deleteNeighbour(String dev, InetAddress address) {
        neighbours.deleteNeighbour(dev, address);
    }

    // ---------------------------------------------------------------- tc: clsact and cls_bpf

    /**
     * Adds a clsact qdisc to device {@code ifindex} ({@code tc qdisc add dev DEV clsact}): the
     * ingress and egress hooks for {@link #attachTcFilter} filters.
     *
     * @throws NetlinkException EEXIST when the device already has a clsact or ingress qdisc
     */
    public synchronized void addClsact(int ifindex) {
        tc.addClsact(ifindex);
    }

    /**
     * Makes sure device {@code ifindex} has a clsact qdisc, adding one when it has none. Safe to
     * call when another process (tc, cilium, a previous run) added it already.
     *
     * @return true when this call added it, false when it was there
     * @throws NetlinkException EEXIST when the device has a plain ingress qdisc instead, which
     *     takes the same slot (delete it first: {@code tc qdisc del dev DEV ingress})
     */
    public synchronized boolean ensureClsact(int ifindex) {
        return tc.ensureClsact(ifindex);
    }

    /** Whether device {@code ifindex} has a clsact qdisc. */
    public synchronized boolean hasClsact(int ifindex) {
        return tc.hasClsact(ifindex);
    }

    /**
     * Deletes the clsact qdisc of device {@code ifindex}, and with it every filter on both hooks.
     * A plain ingress qdisc is left alone (the kernel refuses: the kind does not match).
     *
     * @throws NetlinkException when there is no clsact qdisc
     */
    public synchronized void deleteClsact(int ifindex) {
        tc.deleteClsact(ifindex);
    }

    /**
     * Attaches a cls_bpf filter to a clsact hook, or atomically swaps the program of an existing
     * one, according to {@link TcFilterSpec#mode()}. The device needs a clsact qdisc
     * ({@link #ensureClsact}). This is the attach path for kernels without tcx (before 6.6).
     *
     * <p>A {@link TcFilterSpec.Mode#REPLACE} swaps the program in one RCU step: every packet runs
     * either the old or the new program, none runs neither.
     *
     * @return the filter as the kernel reports it afterwards (with the program's id)
     * @throws NetlinkException EEXIST when creating a filter that exists, ENOENT when replacing one
     *     that does not, EINVAL with "Parent Qdisc doesn't exists" without a clsact qdisc
     */
    public synchronized TcFilter attachTcFilter(TcFilterSpec spec) {
        return tc.attachTcFilter(spec);
    }

    /** Same as {@link #attachTcFilter} with {@link TcFilterSpec.Mode#REPLACE}: an atomic program swap. */
    public synchronized TcFilter replaceTcFilter(TcFilterSpec spec) {
        return tc.replaceTcFilter(spec);
    }

    /**
     * The filters on one clsact hook of device {@code ifindex}, in every chain, as
     * {@code tc filter show dev DEV ingress|egress} lists them. Empty when the device has no
     * clsact qdisc.
     */
    public synchronized List<TcFilter> tcFilters(int ifindex, TcDirection direction) {
        return tc.tcFilters(ifindex, direction);
    }

    /** The filter at (priority, handle) on one clsact hook of {@code ifindex}, if there is one. */
    public synchronized Optional<TcFilter> tcFilter(int ifindex, TcDirection direction, int priority, int handle) {
        return tc.tcFilter(ifindex, direction, priority, handle);
    }

    /**
     * Deletes the cls_bpf filter at (priority, handle) on one clsact hook of {@code ifindex}.
     * Packets stop reaching its program at once. A filter of another kind is left alone.
     *
     * @throws NetlinkException ENOENT when there is no such filter
     */
    public synchronized void deleteTcFilter(int ifindex, TcDirection direction, int priority, int handle) {
        tc.deleteTcFilter(ifindex, direction, priority, handle);
    }

    // ---------------------------------------------------------------- XDP through rtnetlink

    /**
     * Attaches XDP program {@code programFd} to device {@code ifindex} in {@code mode} through
     * rtnetlink (IFLA_XDP), the path for kernels without XDP links (before 5.9) and for programs
     * that must outlive the process without a bpffs pin: the device holds the program.
     *
     * <p>With {@code expectedProgramFd} of -1 whatever program runs in that mode is replaced. With
     * a descriptor, the swap is atomic and conditional (XDP_FLAGS_REPLACE with
     * IFLA_XDP_EXPECTED_FD): it happens only if that very program is still attached, so a live
     * swap or an adoption after a restart cannot clobber a program someone else put there since.
     *
     * @throws NetlinkException EEXIST when the expected program is no longer attached (the message
     *     says what is), or when a program runs in the other mode; EBUSY when a bpf link holds the
     *     hook; EOPNOTSUPP for {@link XdpAttachMode#DRIVER} on a driver without XDP
     */
    public synchronized void attachXdp(int ifindex, int programFd, XdpAttachMode mode, int expectedProgramFd) {
        xdp.attachXdp(ifindex, programFd, mode, expectedProgramFd);
    }

    /**
     * Attaches XDP program {@code programFd} only if no program runs on the device in
     * {@code mode} (XDP_FLAGS_UPDATE_IF_NOEXIST), so as not to clobber one.
     *
     * @throws NetlinkException EBUSY when a program is attached already
     */
    public synchronized void attachXdpIfNone(int ifindex, int programFd, XdpAttachMode mode) {
        xdp.attachXdpIfNone(ifindex, programFd, mode);
    }

    /** Detaches whatever XDP program runs on device {@code ifindex} in {@code mode}; nothing there is fine. */
    public synchronized void detachXdp(int ifindex, XdpAttachMode mode) {
        xdp.detachXdp(ifindex, mode);
    }

    /**
     * Detaches the XDP program of device {@code ifindex} in {@code mode} only if it is still the
     * program of {@code expectedProgramFd} (atomic check and detach).
     *
     * @throws NetlinkException EEXIST when another program (or none) is attached
     */
    public synchronized void detachXdp(int ifindex, XdpAttachMode mode, int expectedProgramFd) {
        xdp.detachXdp(ifindex, mode, expectedProgramFd);
    }

    /** The XDP programs of device {@code ifindex}, in every mode (IFLA_XDP of RTM_GETLINK). */
    public synchronized XdpStatus xdp(int ifindex) {
        return xdp.xdp(ifindex);
    }

    /**
     * The id of the one XDP program on device {@code ifindex}, whatever its mode; empty when none
     * is attached, or when several modes are in use (see {@link #xdp}).
     */
    public synchronized OptionalInt xdpProgramId(int ifindex) {
        return xdp.xdpProgramId(ifindex);
    }

    /** Closes the socket. */
    @Override
    public void close() {
        channel.socket().close();
    }
}

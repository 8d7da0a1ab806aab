package io.jvisor.engine;

import io.jvisor.net.Link;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The devices of one apply, looked up over one handle per network namespace: one {@link Netns}
 * (one thread inside it) and one rtnetlink socket per namespace for the whole apply, instead of a
 * new thread, {@code setns} calls and a socket for every question about every device. Validation
 * (the ifindex), the peer values (a veth's other end) and attaching (tcx links are created from a
 * thread inside the device's namespace) all go through it. Each device is looked up once; closing
 * releases the handles (the namespaces themselves are borrowed, never deleted).
 */
final class DeviceDirectory implements AutoCloseable {
    /** One namespace's handles; ns is null for the engine's own namespace. */
    private record Space(Netns ns, Rtnl rtnl) {}

    /** Thrown when a device's namespace does not exist. */
    static final class NoSuchNamespace extends RuntimeException {
        NoSuchNamespace(String netns) {
            super("there is no network namespace '" + netns + "'");
        }
    }

    private final Map<String, Space> spaces = new HashMap<>();
    private final Map<Endpoint.Device, Link> links = new HashMap<>();

    private synchronized Space space(Endpoint.Device d) {
        String key = d.netns() == null ? "" : d.netns();
        Space s = spaces.get(key);
        if (s == null) {
            if (d.netns() == null) {
                s = new Space(null, Rtnl.open());
            } else {
                if (!Netns.exists(d.netns())) {
                    throw new NoSuchNamespace(d.netns());
                }
                Netns ns = Netns.open(d.netns());
                try {
                    s = new Space(ns, Rtnl.open(ns));
                } catch (RuntimeException e) {
                    ns.close();
                    throw e;
                }
            }
            spaces.put(key, s);
        }
        return s;
    }

    /** The device d, as its namespace lists it (looked up once). */
    synchronized Link link(Endpoint.Device d) {
        Link l = links.get(d);
        if (l == null) {
            l = space(d).rtnl().link(d.name());
            links.put(d, l);
        }
        return l;
    }

    /** The ifindex of d, in its namespace. @throws TopologyException naming element when there is none */
    int ifindex(Endpoint.Device d, String element) {
        try {
            return link(d).ifindex();
        } catch (NoSuchNamespace e) {
            throw new TopologyException(element, e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new TopologyException(element, "no device '" + d.name() + "'"
                    + (d.netns() == null ? "" : " in namespace '" + d.netns() + "'") + ": " + e.getMessage(), e);
        }
    }

    /**
     * The MAC of the other end of veth d when that end is in another namespace, else null
     * (module.h jv_tc_redirect).
     */
    byte[] vethPeerMac(Endpoint.Device d, int ifindex) {
        Link l = link(d);
        if (l.ifindex() != ifindex) { // the name now belongs to another device: ask for the one meant
            l = space(d).rtnl().link(ifindex);
        }
        if (!"veth".equals(l.kind()) || l.linkNetnsId().isEmpty() || l.linkIfindex().isEmpty()) {
            return null;
        }
        return space(d).rtnl().link(l.linkIfindex().getAsInt(), l.linkNetnsId().getAsInt()).mac()
                .map(m -> m.bytes()).orElse(null);
    }

    /** The rtnetlink socket of d's namespace (shared: do not close it). */
    Rtnl rtnl(Endpoint.Device d) {
        return space(d).rtnl();
    }

    /** Runs task in d's namespace: on the namespace's thread, or here for the engine's own namespace. */
    <T> T inNamespace(Endpoint.Device d, Callable<T> task) {
        Space s = space(d);
        if (s.ns() == null) {
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return s.ns().run(task);
    }

    @Override
    public synchronized void close() {
        for (Space s : spaces.values()) {
            s.rtnl().close();
            if (s.ns() != null) {
                s.ns().close();
            }
        }
        spaces.clear();
        links.clear();
    }
}

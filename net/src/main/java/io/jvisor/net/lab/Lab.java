package io.jvisor.net.lab;

import io.jvisor.net.IpPrefix;
import io.jvisor.net.Link;
import io.jvisor.net.NetException;
import io.jvisor.net.Netns;
import io.jvisor.net.RouteSpec;
import io.jvisor.net.Rtnl;
import io.jvisor.net.VethSpec;

import java.net.Inet6Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A running lab: hosts as network namespaces, wires as veth pairs, bridges in the root namespace,
 * all named with one unique prefix so that labs of parallel tests never collide. {@link #up}
 * builds it from a {@link LabSpec}; {@link #close()} tears all of it down.
 *
 * <p>Tear-down always happens: a failed {@link #up} removes whatever it made before rethrowing; a
 * JVM shutdown hook closes every lab still up; and {@link #down(String)} removes the leftovers of a
 * lab by its prefix alone, for a JVM that was killed.
 *
 * <p>Names: host {@code h1} is namespace {@code PREFIX-h1}; root device {@code br0} is
 * {@code PREFIXbr0}. The prefix is {@value #PREFIX_LENGTH} characters: {@code j} and five random
 * lower-case letters or digits.
 */
public final class Lab implements AutoCloseable {
    /** Length of a lab prefix. */
    public static final int PREFIX_LENGTH = 6;

    private static final Set<Lab> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("lab-teardown").unstarted(() -> {
            for (Lab lab : List.copyOf(LIVE)) {
                try {
                    lab.close();
                } catch (RuntimeException e) {
                    System.err.println("jvisor lab " + lab.prefix + ": tear-down at exit failed: " + e.getMessage());
                }
            }
        }));
    }

    private final String prefix;
    private final LabSpec spec;
    private final Rtnl root;
    private final Map<String, Host> hosts = new LinkedHashMap<>();
    private final List<String> rootBridges = new ArrayList<>();
    private final List<String> rootWireEnds = new ArrayList<>();
    private Duration setUpTime = Duration.ZERO;
    private volatile boolean closed;

    private Lab(String prefix, LabSpec spec, Rtnl root) {
        this.prefix = prefix;
        this.spec = spec;
        this.root = root;
    }

    /** A fresh random prefix: {@code j} and five random lower-case letters or digits. */
    public static String uniquePrefix() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder("j");
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 1; i < PREFIX_LENGTH; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /** Brings up {@code spec} under a fresh prefix that nothing on the machine uses. */
    public static Lab up(LabSpec spec) {
        for (int attempt = 0; ; attempt++) {
            String prefix = uniquePrefix();
            if (!inUse(prefix) || attempt >= 10) {
                return up(spec, prefix);
            }
        }
    }

    /** Whether any namespace or root device carries {@code prefix}. */
    private static boolean inUse(String prefix) {
        if (Netns.list().stream().anyMatch(n -> n.startsWith(prefix + "-"))) {
            return true;
        }
        try (Rtnl rtnl = Rtnl.open()) {
            return rtnl.links().stream().anyMatch(l -> l.name().startsWith(prefix));
        }
    }

    /**
     * Brings up {@code spec} with names under {@code prefix}: namespaces first, then root bridges,
     * then each wire as one veth request with both ends placed, then each host's links up, addresses,
     * routes and sysctls. On any failure everything made so far is removed and the failure rethrown.
     *
     * @throws LabSpecException when the spec is invalid (nothing is created)
     * @throws IllegalStateException when namespaces or devices with {@code prefix} exist already:
     *     tear-down sweeps by prefix, so a lab never shares one
     * @throws NetException when the kernel refuses a step
     */
    public static Lab up(LabSpec spec, String prefix) {
        if (prefix.length() != PREFIX_LENGTH || !prefix.matches("[a-z0-9]+")) {
            throw new IllegalArgumentException("a lab prefix is " + PREFIX_LENGTH + " lower-case letters or digits: '" + prefix + "'");
        }
        spec.validate();
        if (inUse(prefix)) {
            throw new IllegalStateException("lab prefix " + prefix + " is in use (namespaces " + prefix
                    + "-* or devices " + prefix + "*); remove leftovers with Lab.down(\"" + prefix + "\")");
        }
        long t0 = System.nanoTime();
        Lab lab = new Lab(prefix, spec, Rtnl.open());
        LIVE.add(lab);
        try {
            lab.build();
        } catch (RuntimeException | Error e) {
            try {
                lab.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        lab.setUpTime = Duration.ofNanos(System.nanoTime() - t0);
        return lab;
    }

    private void build() {
        // Namespaces are independent: create them concurrently (each creation runs on the new
        // namespace's own platform thread; these virtual threads only wait for it).
        try (ExecutorService waiters = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Host>> made = new ArrayList<>();
            for (HostSpec h : spec.hosts()) {
                made.add(waiters.submit(() -> newHost(h)));
            }
            RuntimeException failure = null;
            for (Future<Host> f : made) {
                try {
                    Host h = f.get();
                    hosts.put(h.name(), h);
                } catch (ExecutionException e) {
                    failure = failure == null ? unwrap(e) : failure;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = failure == null ? new NetException("create lab hosts", 4, "interrupted") : failure;
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
        for (String b : spec.bridges()) {
            String name = rootDevice(b);
            root.createBridge(name);
            rootBridges.add(name);
            root.setUp(name);
        }
        for (WireSpec w : spec.wires()) {
            Host a = hosts.get(w.a().host());
            InterfaceSpec ia = a.spec().iface(w.a().device());
            if (w.b().isRoot()) {
                // The root end is the first device, so it can be enslaved in the same request.
                String name = rootDevice(w.b().device());
                VethSpec v = VethSpec.of(name, ia.name()).withPeerNamespace(a.netns()).withPeerMac(ia.mac())
                        .withMtu(ia.mtu()).withUp(true);
                if (w.bridge() != null) {
                    v = v.withMaster(rootDevice(w.bridge()));
                }
                root.createVeth(v);
                rootWireEnds.add(name);
            } else {
                Host b = hosts.get(w.b().host());
                InterfaceSpec ib = b.spec().iface(w.b().device());
                root.createVeth(VethSpec.of(ia.name(), ib.name()).withNamespace(a.netns()).withPeerNamespace(b.netns())
                        .withMac(ia.mac()).withPeerMac(ib.mac()).withMtu(Math.max(ia.mtu(), ib.mtu())).withUp(true));
            }
        }
        try (ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (Host h : hosts.values()) {
                done.add(workers.submit(() -> configure(h)));
            }
            for (Future<?> f : done) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw unwrap(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new NetException("configure lab hosts", 4, "interrupted");
                }
            }
        }
    }

    private Host newHost(HostSpec h) {
        Netns ns = Netns.create(namespaceName(h.name()));
        try {
            return new Host(h, ns, Rtnl.open(ns));
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    private static RuntimeException unwrap(ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException re) {
            return re;
        }
        if (c instanceof Error err) {
            throw err;
        }
        return new IllegalStateException(c);
    }

    private static void configure(Host h) {
        Rtnl r = h.rtnl();
        r.setUp("lo");
        for (InterfaceSpec i : h.spec().interfaces()) {
            r.setUp(i.name()); // a veth peer cannot be created up (see VethSpec#up)
            for (IpPrefix p : i.addresses()) {
                // No duplicate address detection: an IPv6 address is usable at once, as tests expect.
                r.addAddress(i.name(), p, p.address() instanceof Inet6Address ? Rtnl.NO_DAD : 0);
            }
        }
        if (h.spec().gateway() != null) {
            r.addRoute(RouteSpec.defaultVia(h.spec().gateway()));
        }
        if (h.spec().gateway6() != null) {
            r.addRoute(RouteSpec.defaultVia(h.spec().gateway6()));
        }
        h.spec().sysctls().forEach((k, v) -> h.netns().sysctl(k, v));
    }

    /** The lab's unique prefix. */
    public String prefix() {
        return prefix;
    }

    /** What the lab was built from. */
    public LabSpec spec() {
        return spec;
    }

    /** How long {@link #up} took. */
    public Duration setUpTime() {
        return setUpTime;
    }

    /** The running host called {@code name}. */
    public Host host(String name) {
        Host h = hosts.get(name);
        if (h == null) {
            throw new IllegalArgumentException("no host '" + name + "' in lab " + prefix + "; hosts: " + hosts.keySet());
        }
        return h;
    }

    /** The running hosts, in spec order. */
    public List<Host> hosts() {
        return List.copyOf(hosts.values());
    }

    /**
     * Lets go of this lab without removing it: closes this process's handles (namespaces, sockets)
     * and leaves the hosts and wires running, also when the JVM exits. For a lab that outlives the
     * process that made it (e.g. {@code jvisor up}); {@link #down(String)} with its prefix removes it.
     * After this, {@link #close()} does nothing.
     *
     * @return the prefix, for {@link #down(String)}
     */
    public String detach() {
        if (closed) {
            return prefix;
        }
        closed = true;
        LIVE.remove(this);
        for (Host h : hosts.values()) {
            h.rtnl().close();
            h.netns().detach();
        }
        root.close();
        return prefix;
    }

    /** The namespace name of host {@code host}: {@code PREFIX-HOST}. */
    public String namespaceName(String host) {
        return prefix + "-" + host;
    }

    /** The actual root-namespace name of lab device {@code name} (a bridge or root wire end): {@code PREFIXname}. */
    public String rootDevice(String name) {
        return prefix + name;
    }

    /** The rtnetlink socket of the root namespace the lab uses (shared; do not close). */
    public Rtnl root() {
        return root;
    }

    /**
     * Tears the lab down and returns once nothing of it is left: the hosts' namespaces first, which
     * lets the kernel unregister all their veth pairs (root ends included) in one batch, a wait for
     * the root wire ends to go, then explicit deletes for any still there and for the bridges.
     * Deleting each root end instead costs an RCU grace period per device (about 20 ms).
     * Continues past failures and reports the first, with the others suppressed. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RuntimeException> failures = new ArrayList<>();
        for (Host h : hosts.values()) {
            try {
                h.rtnl().close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
            try {
                h.netns().delete();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        try {
            awaitGone(rootWireEnds, TEARDOWN_WAIT);
        } catch (RuntimeException e) {
            failures.add(e);
        }
        List<String> devices = new ArrayList<>(rootWireEnds);
        devices.addAll(rootBridges);
        for (String d : devices) {
            deleteQuietly(root, d, failures);
        }
        try {
            root.close();
        } catch (RuntimeException e) {
            failures.add(e);
        }
        // Anything a failed step created but did not record still carries the prefix.
        try {
            down(prefix);
        } catch (RuntimeException e) {
            failures.add(e);
        }
        LIVE.remove(this);
        if (!failures.isEmpty()) {
            RuntimeException first = failures.getFirst();
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    /** How long tear-down waits for the kernel to remove root wire ends with their namespaces. */
    private static final Duration TEARDOWN_WAIT = Duration.ofSeconds(5);

    /**
     * Waits until none of {@code names} exists in the root namespace, or {@code limit} passes (a
     * namespace kept alive by a socket or process someone left open keeps its wires too).
     */
    private void awaitGone(List<String> names, Duration limit) {
        if (names.isEmpty()) {
            return;
        }
        Set<String> wanted = Set.copyOf(names);
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (root.links().stream().noneMatch(l -> wanted.contains(l.name()))) {
                return;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Removes every leftover of the lab with {@code prefix}, by name: namespaces {@code PREFIX-*}
     * under /run/netns and root-namespace devices {@code PREFIX*}. For labs whose JVM died.
     *
     * @return how many namespaces and devices were removed
     */
    public static int down(String prefix) {
        if (prefix.length() != PREFIX_LENGTH) {
            throw new IllegalArgumentException("a lab prefix is " + PREFIX_LENGTH + " characters: '" + prefix + "'");
        }
        int removed = 0;
        List<RuntimeException> failures = new ArrayList<>();
        try (Rtnl rtnl = Rtnl.open()) {
            for (Link l : rtnl.links()) {
                if (l.name().startsWith(prefix) && !l.kind().equals("bridge")) {
                    removed += deleteQuietly(rtnl, l.name(), failures);
                }
            }
            for (Link l : rtnl.links()) {
                if (l.name().startsWith(prefix)) {
                    removed += deleteQuietly(rtnl, l.name(), failures);
                }
            }
        }
        for (String ns : Netns.list()) {
            if (ns.startsWith(prefix + "-")) {
                try {
                    Netns.delete(ns);
                    removed++;
                } catch (NetException e) {
                    failures.add(e);
                }
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.getFirst();
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
        return removed;
    }

    private static int deleteQuietly(Rtnl rtnl, String name, List<RuntimeException> failures) {
        try {
            rtnl.delete(name);
            return 1;
        } catch (NetException e) {
            if (e.errno() != 19) { // ENODEV: gone with its peer meanwhile
                failures.add(e);
            }
            return 0;
        }
    }

    @Override
    public String toString() {
        return "lab " + prefix + " (" + hosts.size() + " hosts)";
    }
}

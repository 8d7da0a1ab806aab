package io.jvisor.net;

import io.jvisor.bpf.Fd;
import io.jvisor.net.sys.Libc;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A named network namespace, compatible with iproute2: it is bound at {@code /run/netns/NAME}, so
 * {@code ip netns exec NAME ...} works on namespaces made here and {@link #open} works on those made
 * by {@code ip netns add}.
 *
 * <p>Each instance owns one dedicated platform thread. Java code runs on it, inside the namespace,
 * through {@link #run(Callable)}; sockets opened there belong to the namespace for life. setns
 * applies to one OS thread, which is why this is never a virtual thread (a virtual thread may move
 * between carriers).
 *
 * <p>The thread enters the namespace for each task only, and returns to its home namespace (the
 * creator's) before the task's result is handed over. A thread inherits the namespace of the thread
 * that creates it, and the JDK creates threads lazily from whatever thread happens to need one (the
 * process reaper, virtual-thread carriers woken by a completed future); such a thread created
 * inside would keep the namespace, and every device in it, alive after deletion. For the same
 * reason {@link #exec} does not fork from inside: it starts the process through util-linux's
 * {@code nsenter}; and the JDK's socket-channel internals, which keep a socket for life, are
 * initialised when this class loads. Tasks must likewise not leave threads or sockets behind.
 *
 * <p>A namespace made by {@link #create} is owned: {@link #close()} deletes it. One found by
 * {@link #open} is borrowed: {@link #close()} only releases the handle; {@link #delete()} deletes it
 * anyway.
 */
public final class Netns implements AutoCloseable {
    /** Where iproute2 binds named namespaces. */
    public static final Path RUN_NETNS = Path.of("/run/netns");

    private static final Object MOUNT_LOCK = new Object();
    private static volatile boolean runNetnsShared;

    static {
        // On first use of a socket channel the JDK makes a socketpair and keeps one end for the
        // JVM's life (sun.nio.ch.UnixDispatcher's pre-close descriptor). Made by a task inside a
        // namespace, that socket would keep the namespace alive after deletion: make it here,
        // from the thread loading this class, outside any namespace of ours.
        try (DatagramChannel warmUp = DatagramChannel.open()) {
            warmUp.isOpen();
        } catch (IOException | UnsupportedOperationException ignored) {
            // no sockets at all: nothing to pin either
        }
    }

    private final String name;
    private final Path path;
    private final boolean owned;
    private final ExecutorService executor;
    private final Thread thread;
    private final Fd fd;
    private final Fd home;
    private final long inode;
    private volatile boolean deleted;

    private Netns(String name, boolean owned, ExecutorService executor, Thread thread, Fd fd, Fd home, long inode) {
        this.name = name;
        this.path = RUN_NETNS.resolve(name);
        this.owned = owned;
        this.executor = executor;
        this.thread = thread;
        this.fd = fd;
        this.home = home;
        this.inode = inode;
    }

    /**
     * Creates namespace {@code name}, bound at {@code /run/netns/NAME} as {@code ip netns add} does.
     * Its loopback device is down, as in any new namespace.
     *
     * @throws NetnsException EEXIST when a namespace of that name exists
     */
    public static Netns create(String name) {
        Path path = checkName(name);
        prepareRunNetns();
        // The mount point: an empty file, created exclusively so that two creators cannot share it.
        int f = Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL, 0);
        if (f < 0) {
            throw new NetnsException("create", name, -f, -f == 17 ? "a namespace of that name exists" : "");
        }
        Fd.adopt(f, "mount point " + path).close();
        Thread[] holder = new Thread[1];
        ExecutorService executor = newThread(name, holder);
        Fd home = null;
        try {
            home = call(executor, name, "create", () -> {
                Fd h = openHome(name);
                int r = Libc.unshare(Libc.CLONE_NEWNET);
                if (r < 0) {
                    h.close();
                    throw new NetnsException("create (unshare)", name, -r, "");
                }
                try {
                    // /proc/self is the thread-group leader, which stays in its namespace: name the thread.
                    String own = "/proc/self/task/" + Libc.gettid() + "/ns/net";
                    r = Libc.mount(own, path.toString(), "none", Libc.MS_BIND);
                    if (r < 0) {
                        throw new NetnsException("create (bind " + own + ")", name, -r, "");
                    }
                } finally {
                    goHome(h, name);
                }
                return h;
            });
            return finishOpen(name, true, executor, holder[0], home);
        } catch (RuntimeException e) {
            if (home != null) {
                home.close();
            }
            executor.shutdownNow();
            Libc.umount2(path.toString(), Libc.MNT_DETACH);
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // the failure being reported matters more than this leftover empty file
            }
            throw e;
        }
    }

    /**
     * Opens existing namespace {@code name} (made by {@link #create} or by {@code ip netns add}).
     *
     * @throws NetnsException ENOENT when there is no such namespace
     */
    public static Netns open(String name) {
        checkName(name);
        Thread[] holder = new Thread[1];
        ExecutorService executor = newThread(name, holder);
        Fd home = null;
        try {
            home = call(executor, name, "open", () -> openHome(name));
            return finishOpen(name, false, executor, holder[0], home);
        } catch (RuntimeException e) {
            if (home != null) {
                home.close();
            }
            executor.shutdownNow();
            throw e;
        }
    }

    /** Opens the calling thread's current namespace, to return to after each task. */
    private static Fd openHome(String name) {
        int h = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY, 0);
        if (h < 0) {
            throw new NetnsException("open home namespace of the thread for", name, -h, "");
        }
        return Fd.adopt(h, "home netns of the thread for netns '" + name + "'");
    }

    /** Returns the calling thread to {@code home}, failing the task loudly if it cannot. */
    private static void goHome(Fd home, String name) {
        int r = Libc.setns(home.get(), Libc.CLONE_NEWNET);
        if (r < 0) {
            // Running further tasks in the wrong namespace would be worse than failing them all.
            throw new IllegalStateException("netns '" + name + "': cannot return the thread to its home namespace: errno " + -r);
        }
    }

    private static Netns finishOpen(String name, boolean owned, ExecutorService executor, Thread thread, Fd home) {
        Path path = RUN_NETNS.resolve(name);
        int f = Libc.open(path.toString(), Libc.O_RDONLY, 0);
        if (f < 0) {
            throw new NetnsException("open", name, -f, -f == 2 ? "there is no " + path : "");
        }
        Fd fd = Fd.adopt(f, "netns '" + name + "'");
        try {
            if (!owned) {
                call(executor, name, "enter", () -> {
                    int r = Libc.setns(fd.get(), Libc.CLONE_NEWNET);
                    if (r < 0) {
                        throw new NetnsException("enter (setns)", name, -r,
                                -r == 22 ? path + " is not a network namespace" : "");
                    }
                    goHome(home, name);
                    return null;
                });
            }
            return new Netns(name, owned, executor, thread, fd, home, inodeOf(path, name));
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** Whether a namespace {@code name} is bound under /run/netns. */
    public static boolean exists(String name) {
        return Files.exists(checkName(name));
    }

    /** The names bound under /run/netns, sorted. */
    public static List<String> list() {
        if (!Files.isDirectory(RUN_NETNS)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(RUN_NETNS)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new NetException("list " + RUN_NETNS, 0, e.toString(), e);
        }
    }

    /**
     * Deletes namespace {@code name} as {@code ip netns del} does: unbinds and removes
     * {@code /run/netns/NAME}. The kernel destroys the namespace, and every virtual device in it,
     * once nothing else holds it.
     *
     * @throws NetnsException ENOENT when there is no such namespace
     */
    public static void delete(String name) {
        Path path = checkName(name);
        int r = Libc.umount2(path.toString(), Libc.MNT_DETACH);
        try {
            Files.delete(path);
        } catch (NoSuchFileException e) {
            throw new NetnsException("delete", name, 2, "there is no " + path);
        } catch (IOException e) {
            throw new NetnsException("delete", name, r < 0 ? -r : 0, e.toString(), e);
        }
    }

    private static Path checkName(String name) {
        if (name == null || name.isEmpty() || name.length() > 255 || name.contains("/") || name.equals(".")
                || name.equals("..") || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a valid namespace name: '" + name + "'");
        }
        return RUN_NETNS.resolve(name);
    }

    /**
     * Makes /run/netns exist and be a shared mount, as iproute2 does, so that a namespace bound in
     * it is seen by other mount namespaces (a bind mount made before the directory became shared
     * would stay private to ours).
     */
    private static void prepareRunNetns() {
        if (runNetnsShared) {
            return;
        }
        synchronized (MOUNT_LOCK) {
            if (runNetnsShared) {
                return;
            }
            try {
                Files.createDirectories(RUN_NETNS);
            } catch (IOException e) {
                throw new NetException("create " + RUN_NETNS, 0, e.toString(), e);
            }
            String dir = RUN_NETNS.toString();
            int r = Libc.mount("none", dir, null, Libc.MS_SHARED | Libc.MS_REC);
            if (r == -22) { // EINVAL: not a mount point yet; bind it onto itself, then share it
                r = Libc.mount(dir, dir, "none", Libc.MS_BIND | Libc.MS_REC);
                if (r < 0) {
                    throw new NetException("bind " + dir + " onto itself", -r, "");
                }
                r = Libc.mount("none", dir, null, Libc.MS_SHARED | Libc.MS_REC);
            }
            if (r < 0) {
                throw new NetException("make " + dir + " a shared mount", -r, "");
            }
            runNetnsShared = true;
        }
    }

    private static ExecutorService newThread(String name, Thread[] holder) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = Thread.ofPlatform().name("netns-" + name).daemon().unstarted(r);
            holder[0] = t;
            return t;
        });
    }

    private static long inodeOf(Path path, String name) {
        try {
            return ((Number) Files.getAttribute(path, "unix:ino")).longValue();
        } catch (IOException e) {
            throw new NetnsException("stat", name, 0, e.toString(), e);
        }
    }

    private static <T> T call(ExecutorService executor, String name, String what, Callable<T> task) {
        Future<T> f = executor.submit(task);
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new NetnsException(what, name, 0, c.toString(), c);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new NetnsException(what, name, 4, "interrupted", e);
        }
    }

    /** The namespace name. */
    public String name() {
        return name;
    }

    /** The namespace's inode number, which identifies it (as {@code ls -L -i /run/netns/NAME}). */
    public long inode() {
        return inode;
    }

    /** True for a namespace this object created and will delete on {@link #close()}. */
    public boolean isOwned() {
        return owned;
    }

    /**
     * Runs {@code task} inside this namespace, on its thread, and returns its result. Runs it
     * directly when called from that thread already. Checked exceptions come back wrapped in a
     * {@link NetnsException}.
     *
     * <p>Threads that {@code task} starts inherit the namespace, and keep it alive for as long as
     * they run; let them end with the task, or start them outside.
     */
    public <T> T run(Callable<T> task) {
        if (Thread.currentThread() == thread) {
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new NetnsException("run task in", name, 0, e.toString(), e);
            }
        }
        checkOpen("run task in");
        return call(executor, name, "run task in", () -> {
            int r = Libc.setns(fd.get(), Libc.CLONE_NEWNET);
            if (r < 0) {
                throw new NetnsException("enter (setns)", name, -r, "");
            }
            try {
                return task.call();
            } finally {
                goHome(home, name);
            }
        });
    }

    /** Runs {@code task} on this namespace's thread. */
    public void run(Runnable task) {
        run(() -> {
            task.run();
            return null;
        });
    }

    /** Starts {@code command} as a process inside this namespace. */
    public Process exec(List<String> command) {
        return exec(new ProcessBuilder(command));
    }

    /**
     * Starts {@code builder}'s process inside this namespace. The command runs under util-linux's
     * {@code nsenter}, which joins the namespace through this handle's descriptor and then execs
     * it, so the returned {@link Process} is the command itself. Forking from a thread inside the
     * namespace would instead leave the JDK's process-reaper thread there, keeping the namespace
     * alive after deletion. Unlike {@code ip netns exec}, /sys is not remounted: /sys/class/net
     * still lists the caller's devices.
     */
    public Process exec(ProcessBuilder builder) {
        checkOpen("start a process in");
        List<String> command = new java.util.ArrayList<>(List.of("nsenter",
                "--net=/proc/" + ProcessHandle.current().pid() + "/fd/" + fd.get(), "--"));
        command.addAll(builder.command());
        List<String> original = List.copyOf(builder.command());
        builder.command(command);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new NetnsException("start " + original + " in", name, 0, e.getMessage(), e);
        } finally {
            builder.command(original);
        }
    }

    /**
     * Writes sysctl {@code key} (dotted, e.g. {@code net.ipv4.ip_forward}, or a path under
     * /proc/sys) inside this namespace: /proc/sys/net resolves by the namespace of the thread that
     * opens the file.
     */
    public void sysctl(String key, String value) {
        Path p = sysctlPath(key);
        run(() -> {
            try {
                Files.writeString(p, value);
            } catch (IOException e) {
                throw new NetnsException("write sysctl " + key + "=" + value + " in", name, 0, e.toString(), e);
            }
            return null;
        });
    }

    /** Reads sysctl {@code key} inside this namespace, trimmed. */
    public String sysctl(String key) {
        Path p = sysctlPath(key);
        return run(() -> {
            try {
                return Files.readString(p).trim();
            } catch (IOException e) {
                throw new NetnsException("read sysctl " + key + " in", name, 0, e.toString(), e);
            }
        });
    }

    private static Path sysctlPath(String key) {
        String rel = key.contains("/") ? key : key.replace('.', '/');
        if (rel.startsWith("/proc/sys/")) {
            return Path.of(rel);
        }
        return Path.of("/proc/sys").resolve(rel);
    }

    /**
     * The namespace's descriptor, for requests that name a namespace (IFLA_NET_NS_FD). Checks that
     * the namespace is still bound under its name: a handle may keep a namespace alive after
     * {@code ip netns del}, and moving a device there would hide it in a namespace nobody can reach.
     *
     * @param operation what needs it, e.g. {@code "move 'eth0' into"}
     * @throws NetnsException ENOENT when the namespace was deleted
     */
    int descriptor(String operation) {
        if (deleted || fd.isClosed()) {
            throw new NetnsException(operation, name, 2, "the namespace has been deleted");
        }
        long now;
        try {
            now = ((Number) Files.getAttribute(path, "unix:ino")).longValue();
        } catch (IOException e) {
            throw new NetnsException(operation, name, 2, "the namespace has gone away (no " + path + ")");
        }
        if (now != inode) {
            throw new NetnsException(operation, name, 2,
                    "the namespace has gone away (" + path + " now names another namespace)");
        }
        return fd.get();
    }

    private void checkOpen(String operation) {
        if (fd.isClosed()) {
            throw new NetnsException(operation, name, 0, "this handle is closed");
        }
    }

    /**
     * Deletes the namespace ({@link #delete(String)}) and releases this handle, whether or not this
     * object created it. Devices inside go with the namespace; a veth's peer elsewhere goes too.
     *
     * @throws NetnsException ENOENT when the namespace is no longer bound under its name (deleted
     *     by someone else; a namespace made since under the same name is left alone)
     */
    public void delete() {
        if (deleted) {
            return;
        }
        deleted = true;
        try {
            if (!stillBound()) {
                throw new NetnsException("delete", name, 2, "the namespace has gone away; "
                        + (Files.exists(path) ? path + " now names another namespace, left alone" : "no " + path));
            }
            delete(name);
        } finally {
            release();
        }
    }

    /** Whether /run/netns/NAME still names this namespace. */
    private boolean stillBound() {
        try {
            return ((Number) Files.getAttribute(path, "unix:ino")).longValue() == inode;
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes an owned namespace that is still bound under its name; releases a borrowed one. Idempotent. */
    @Override
    public void close() {
        if (owned && !deleted && stillBound()) {
            try {
                delete();
            } catch (NetnsException e) {
                // deleted by someone else meanwhile: nothing left to do but release
                release();
            }
        } else {
            deleted |= owned;
            release();
        }
    }

    /**
     * Closes this handle and leaves the namespace in place, even one this handle created: for a
     * namespace that outlives this process (see {@link io.jvisor.net.lab.Lab#detach()}). Idempotent.
     */
    public void detach() {
        if (!fd.isClosed()) {
            release();
        }
    }

    private void release() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        fd.close();
        home.close();
    }

    @Override
    public String toString() {
        return "netns " + name;
    }
}

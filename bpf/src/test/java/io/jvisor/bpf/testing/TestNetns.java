package io.jvisor.bpf.testing;

import io.jvisor.bpf.sys.Syscall;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A named network namespace for one test (iproute2-compatible, bound under /run/netns), with a
 * dedicated platform thread that has joined it, so Java code (bpf links, sockets) can run inside.
 * setns applies to one OS thread, which is why this is never a virtual thread. Closing deletes the
 * namespace and every device in it. Until the net layer exists, devices are made with {@code ip}.
 */
public final class TestNetns implements AutoCloseable {
    private final String name;
    private final ExecutorService thread;

    private TestNetns(String name) {
        this.name = name;
        this.thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("netns-" + name).daemon().unstarted(r));
    }

    /** Creates namespace {@code jv} + random suffix and brings its loopback up. */
    public static TestNetns create(String prefix) {
        String name = Names.unique(prefix);
        rootIp("netns", "add", name);
        TestNetns ns = new TestNetns(name);
        try {
            ns.call(() -> {
                int fd = Syscall.open("/run/netns/" + name, 0);
                if (fd < 0) {
                    throw new IllegalStateException("open /run/netns/" + name + ": errno " + -fd);
                }
                int r = Syscall.setns(fd, Syscall.CLONE_NEWNET);
                Syscall.close(fd);
                if (r < 0) {
                    throw new IllegalStateException("setns " + name + ": errno " + -r);
                }
                return null;
            });
            ns.ip("link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    /** The namespace name. */
    public String name() {
        return name;
    }

    /** Runs {@code task} on the thread inside this namespace. */
    public <T> T call(Callable<T> task) {
        Future<T> f = thread.submit(task);
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        } catch (Exception e) {
            throw new IllegalStateException("task in netns " + name + " failed", e);
        }
    }

    /** Runs {@code ip -n NAME args...}. */
    public String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("-n", name));
        cmd.addAll(Arrays.asList(args));
        return rootIp(cmd.toArray(String[]::new));
    }

    /** Runs {@code ip netns exec NAME cmd...} and returns its output; fails on a non-zero exit. */
    public String exec(String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(Arrays.asList(cmd));
        return run(full);
    }

    /** The ifindex of {@code dev} inside this namespace. */
    public int ifindex(String dev) {
        String out = exec("cat", "/sys/class/net/" + dev + "/ifindex").trim();
        return Integer.parseInt(out);
    }

    /** Runs {@code ip args...} in the root namespace. */
    public static String rootIp(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(Arrays.asList(args));
        return run(cmd);
    }

    static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out.trim());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + cmd, e);
        }
    }

    /** Stops the thread and deletes the namespace (its devices go with it). */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            rootIp("netns", "del", name);
        } catch (IllegalStateException e) {
            // already gone
        }
    }
}

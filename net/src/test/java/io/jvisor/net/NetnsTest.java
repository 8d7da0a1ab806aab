package io.jvisor.net;

import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Named namespaces: iproute2 interplay both ways, code and processes inside, sysctls. */
@RequiresRoot
class NetnsTest {

    @Test
    void createdNamespaceIsSeenByIpAndCodeRunsInside() throws Exception {
        String name = Names.unique("jtn");
        try (Netns ns = Netns.create(name)) {
            assertThat(Netns.exists(name)).isTrue();
            assertThat(Netns.list()).contains(name);
            assertThat(Ip.ip("netns", "list")).contains(name);
            // ip netns exec enters our namespace: it sees its loopback only.
            assertThat(Ip.run(List.of("ip", "netns", "exec", name, "ip", "-o", "link", "show"))).contains("lo:")
                    .doesNotContain("eth");
            // The thread's namespace is the one bound at /run/netns/NAME.
            long inside = ns.run(() -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString())
                    .chars().filter(Character::isDigit).mapToObj(c -> String.valueOf((char) c))
                    .reduce("", String::concat).transform(Long::parseLong);
            assertThat(inside).isEqualTo(ns.inode());
            long outside = Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()
                    .replaceAll("\\D", ""));
            assertThat(outside).isNotEqualTo(ns.inode());
        }
        assertThat(Netns.exists(name)).isFalse();
        assertThat(Ip.ip("netns", "list")).doesNotContain(name);
    }

    @Test
    void opensNamespaceMadeByIp() {
        String name = Names.unique("jti");
        Ip.ip("netns", "add", name);
        try {
            try (Netns ns = Netns.open(name); Rtnl rtnl = Rtnl.open(ns)) {
                assertThat(ns.isOwned()).isFalse();
                rtnl.createVeth("x0", "x1");
            }
            // closing a borrowed namespace leaves it in place
            assertThat(Netns.exists(name)).isTrue();
            assertThat(Ip.json(name, "link", "show", "dev", "x0").size()).isEqualTo(1);
        } finally {
            Ip.ip("netns", "del", name);
        }
    }

    @Test
    void execStartsProcessInsideAndSysctlsAreLocal() throws Exception {
        try (Netns ns = Netns.create(Names.unique("jtx"))) {
            Process p = ns.exec(List.of("readlink", "/proc/self/ns/net"));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(out).isEqualTo("net:[" + ns.inode() + "]");

            assertThat(ns.sysctl("net.ipv4.ip_forward")).isEqualTo("0");
            ns.sysctl("net.ipv4.ip_forward", "1");
            assertThat(ns.sysctl("net.ipv4.ip_forward")).isEqualTo("1");
            assertThat(Ip.run(List.of("ip", "netns", "exec", ns.name(), "cat", "/proc/sys/net/ipv4/ip_forward")).trim())
                    .isEqualTo("1");
        }
    }

    @Test
    void deletedNamespaceReallyGoesAfterTasksAndProcesses() throws Exception {
        // A namespace is destroyed only when nothing holds it; its veth then takes the peer along.
        // A JDK thread or socket created inside (the process reaper, NIO's pre-close socketpair)
        // would hold it for the JVM's life.
        try (Netns keeper = Netns.create(Names.unique("jtk")); Rtnl inKeeper = Rtnl.open(keeper)) {
            Netns ns = Netns.create(Names.unique("jtd"));
            try (Rtnl r = Rtnl.open(ns)) {
                r.createVeth(VethSpec.of("in0", "out0").withPeerNamespace(keeper));
                r.setUp("lo");
            }
            Process p = ns.exec(List.of("ping", "-c", "1", "-W", "1", "127.0.0.1"));
            p.getInputStream().readAllBytes();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            assertThat(ns.run(() -> 1 + 1)).isEqualTo(2);
            ns.run(() -> {
                try (java.nio.channels.DatagramChannel c = java.nio.channels.DatagramChannel.open()) {
                    return c.isOpen();
                }
            });
            ns.sysctl("net.ipv4.ip_forward", "1");
            ns.delete();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (inKeeper.findLink("out0").isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(inKeeper.findLink("out0")).as("the peer goes with the destroyed namespace").isEmpty();
        }
    }

    @Test
    void threadReturnsHomeBetweenTasks() throws Exception {
        try (Netns ns = Netns.create(Names.unique("jth"))) {
            String outside = threadNetns();
            String inside = ns.run(NetnsTest::threadNetns);
            assertThat(inside).isEqualTo("net:[" + ns.inode() + "]");
            // the namespace thread, seen from outside while idle, is back in the creator's namespace
            String idle = Ip.run(List.of("readlink", "/proc/" + ProcessHandle.current().pid() + "/task/"
                    + ns.run(() -> io.jvisor.net.sys.Libc.gettid()) + "/ns/net")).trim();
            assertThat(idle).isEqualTo(outside);
        }
    }

    private static String threadNetns() throws java.io.IOException {
        return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
    }

    @Test
    void staleHandleLeavesANewNamespaceOfTheSameNameAlone() {
        String name = Names.unique("jts");
        Netns ours = Netns.create(name);
        try {
            Ip.ip("netns", "del", name);
            Ip.ip("netns", "add", name);
            ours.close();
            assertThat(Netns.exists(name)).as("the new namespace survives the stale handle").isTrue();
            NetnsException e = catchThrowableOfType(NetnsException.class, () -> ours.delete());
            assertThat(e).as("a closed handle deletes nothing").isNull();
        } finally {
            ours.close();
            Ip.ip("netns", "del", name);
        }
    }

    @Test
    void runReportsTaskFailuresAndNestedCallsRunInline() {
        try (Netns ns = Netns.create(Names.unique("jtr"))) {
            assertThatThrownBy(() -> ns.run(() -> {
                throw new IllegalStateException("boom");
            })).isInstanceOf(IllegalStateException.class).hasMessage("boom");
            assertThat(ns.run(() -> ns.run(() -> 42))).isEqualTo(42);
        }
    }
}

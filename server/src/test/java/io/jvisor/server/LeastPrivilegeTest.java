package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.jvisor.bpf.features.Capabilities;
import io.jvisor.bpf.features.Capability;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import io.jvisor.net.IpPrefix;
import io.jvisor.net.Netns;
import io.jvisor.net.RouteSpec;
import io.jvisor.net.Rtnl;
import io.jvisor.net.VethSpec;
import io.jvisor.net.lab.Ping;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.jvisor.bpf.features.Capability.DAC_OVERRIDE;
import static io.jvisor.bpf.features.Capability.SYS_ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * jvisord with only the capabilities it needs ({@link DaemonCapabilities}), started as its own
 * process through {@code setpriv} the way its systemd unit starts it (ambient capabilities, the same
 * bounding set, no new privileges): as uid 0, and as another user. It runs a router on existing
 * devices (veths whose other ends are in namespaces of this test's own) and carries traffic,
 * including the router's ARP answers from its control plane (CAP_NET_RAW); it is killed and
 * restarted and adopts what it left pinned. Short of one capability it refuses to start with one
 * line naming it; without CAP_SYS_ADMIN it refuses lab hosts naming the field; with CAP_SYS_ADMIN
 * added it runs a lab. The test itself runs as root: it makes the namespaces and cleans up.
 */
@RequiresRoot
class LeastPrivilegeTest {
    /** uid and gid of {@code nobody}, a user with no rights of its own anywhere. */
    private static final int NOBODY = 65534;

    private static final String LAB = """
            apiVersion: jvisor.io/v1
            kind: Topology
            metadata: {name: privlab}
            spec:
              hosts:
                - {name: a, interfaces: [{name: eth0, addresses: [10.79.3.10/24]}], sysctls: {net.ipv6.conf.all.disable_ipv6: 1}}
                - {name: b, interfaces: [{name: eth0, addresses: [10.79.3.11/24]}], sysctls: {net.ipv6.conf.all.disable_ipv6: 1}}
              instances:
                - {name: sw, type: bridge}
              attachments:
                - {port: sw:0, host: a:eth0}
                - {port: sw:1, host: b:eth0}
            """;

    @Test
    void asRootWithOnlyTheEngineCapabilitiesItRoutesBetweenExistingDevicesAndSurvivesARestart() throws Exception {
        runsARouterOnExistingDevices(false);
    }

    @Test
    void asAnotherUserWithAmbientCapabilitiesItDoesTheSame() throws Exception {
        runsARouterOnExistingDevices(true);
    }

    @Test
    void shortOfAnyOneCapabilityItRefusesToStartNamingIt() throws Exception {
        for (Capability missing : DaemonCapabilities.ENGINE) {
            List<Capability> caps = new ArrayList<>(DaemonCapabilities.ENGINE);
            caps.remove(missing);
            try (ServerTestBed bed = new ServerTestBed("jvlp")) {
                Process p = new ProcessBuilder(daemonCommand(bed, caps, false, System.getProperty("java.class.path")))
                        .redirectErrorStream(true).start();
                try {
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(out).isTrue();
                    assertThat(p.exitValue()).as(out).isEqualTo(77);
                    assertThat(out.strip()).as("one line, no stack trace")
                            .startsWith("jvisord needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_NET_RAW; "
                                    + "this process lacks " + missing.capName() + " (effective: ")
                            .contains("AmbientCapabilities=").doesNotContain("Exception").doesNotContain("\tat ")
                            .doesNotContain("\n");
                    assertThat(bed.options.pinRoot()).as("refused before touching anything").doesNotExist();
                } finally {
                    end(p);
                }
            }
        }
    }

    @Test
    void withSysAdminAddedItRunsALab() throws Exception {
        List<Capability> caps = new ArrayList<>(DaemonCapabilities.ENGINE);
        caps.addAll(DaemonCapabilities.NAMESPACES); // as uid 0: a lab needs SYS_ADMIN on top
        try (ServerTestBed bed = new ServerTestBed("jvlp")) {
            Jvisord d = Jvisord.start(bed, caps, false);
            try {
                Http.Response r = api(d).yaml("PUT", "/v1/topology", LAB);
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                JsonNode status = api(d).get("/v1/status").json();
                String prefix = status.path("labPrefix").asText();
                bed.lab(prefix);
                try (Netns a = Netns.open(status.path("hostNamespaces").path("a").asText())) {
                    assertThat(Ping.run(a, IpPrefix.literal("10.79.3.11"), 3).allReplied()).as(d.log()).isTrue();
                }
                Http.Response down = api(d).json("DELETE", "/v1/topology", null);
                assertThat(down.status()).as(down.body()).isEqualTo(200);
                assertThat(ServerTestBed.labLeftovers(prefix)).isEmpty();
            } finally {
                d.stop();
            }
        }
    }

    /**
     * The router test: refused lab hosts first (no CAP_SYS_ADMIN), then a router between two
     * existing veths, traffic, SIGKILL, a restart with the same capabilities, traffic again.
     */
    private static void runsARouterOnExistingDevices(boolean otherUser) throws Exception {
        String tag = Names.unique("jvlp");
        try (ServerTestBed bed = new ServerTestBed("jvlp");
             Netns a = host(tag + "a", "10.79.1.10/24", "10.79.1.1");
             Netns b = host(tag + "b", "10.79.2.10/24", "10.79.2.1")) {
            String classPath = classPath(bed, otherUser);
            Jvisord first = Jvisord.start(bed, DaemonCapabilities.ENGINE, otherUser, classPath);
            Jvisord second = null;
            try {
                assertThat(first.capabilities()).as("the daemon runs with exactly the set")
                        .isEqualTo(Capabilities.of(DaemonCapabilities.ENGINE));
                assertThat(first.uid()).isEqualTo(otherUser ? NOBODY : 0);

                // lab hosts need namespaces: refused, naming the field and the capability; nothing made
                Http.Response lab = api(first).yaml("PUT", "/v1/topology", LAB);
                assertThat(lab.status()).as(lab.body()).isEqualTo(400);
                JsonNode problem = lab.json().path("problems").get(0);
                assertThat(problem.path("field").asText()).isEqualTo("spec.hosts");
                assertThat(problem.path("reason").asText()).contains(SYS_ADMIN.capName())
                        .contains("Least privilege");
                if (otherUser) {
                    assertThat(problem.path("reason").asText()).contains(DAC_OVERRIDE.capName());
                }
                assertThat(api(first).get("/v1/status").json().path("topology").isNull()).isTrue();

                Http.Response r = api(first).yaml("PUT", "/v1/topology", routerBetween(tag + "a", tag + "b"));
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                JsonNode status = api(first).get("/v1/status").json();
                // AUTO's choice on the tc hook: cls_bpf filters, which need only CAP_NET_ADMIN
                assertThat(status.path("attach").asText()).isEqualTo("netlink");
                InetAddress toB = IpPrefix.literal("10.79.2.10");
                Ping.run(a, toB, 2); // the router resolves b (ARP from its control plane: NET_RAW)
                assertThat(Ping.run(a, toB, 3).allReplied()).as(first.log()).isTrue();
                // tables decode by their C types without reading the kernel's BTF by id (CAP_SYS_ADMIN)
                JsonNode local = api(first).get("/v1/instances/r1/tables/rt_local").json();
                assertThat(local.findValue("keyType").asText()).as(local.toString()).isEqualTo("__be32");
                assertThat(local.findValuesAsText("keyFields")).as(local.toString())
                        .containsExactlyInAnyOrder("10.79.1.1", "10.79.2.1");

                first.kill(); // SIGKILL: the next daemon adopts the pins
                second = Jvisord.start(bed, DaemonCapabilities.ENGINE, otherUser, classPath);
                JsonNode again = api(second).get("/v1/status").json();
                assertThat(again.path("topology").asText()).isEqualTo("privrouter");
                assertThat(again.path("instances").asInt()).isEqualTo(1);
                assertThat(Ping.run(a, toB, 3).allReplied()).as("after the restart:%n%s", second.log()).isTrue();
                assertThat(Ping.run(b, IpPrefix.literal("10.79.1.10"), 3).allReplied()).isTrue();

                Http.Response down = api(second).json("DELETE", "/v1/topology", null);
                assertThat(down.status()).as(down.body()).isEqualTo(200);
            } finally {
                first.stop();
                if (second != null) {
                    second.stop();
                }
            }
        }
    }

    private static String routerBetween(String devA, String devB) {
        return """
                apiVersion: jvisor.io/v1
                kind: Topology
                metadata: {name: privrouter}
                spec:
                  instances:
                    - {name: r1, type: router, config: {port.0: 10.79.1.1/24, port.1: 10.79.2.1/24}}
                  attachments:
                    - {port: r1:0, device: %s}
                    - {port: r1:1, device: %s}
                """.formatted(devA, devB);
    }

    /**
     * A namespace of this test's own with {@code eth0} at {@code address} and a default route via
     * {@code gateway}; the other end of its veth, named as the namespace, stays in the root namespace
     * for the daemon to attach to, and goes when the namespace is closed.
     */
    private static Netns host(String name, String address, String gateway) {
        Netns ns = Netns.create(name);
        try (Rtnl root = Rtnl.open()) {
            root.createVeth(VethSpec.of(name, "eth0").withPeerNamespace(ns));
            root.setUp(name);
            try (Rtnl in = Rtnl.open(ns)) {
                in.setUp("lo");
                in.addAddress("eth0", IpPrefix.parse(address));
                in.setUp("eth0");
                in.addRoute(RouteSpec.defaultVia(IpPrefix.literal(gateway)));
            }
            ns.sysctl("net.ipv6.conf.all.disable_ipv6", "1");
            return ns;
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    // ---- the daemon process ---------------------------------------------------------------------

    /** The daemon's REST API as this test reaches it: the one place that knows the transport. */
    private static Http api(Jvisord d) {
        return d.url().startsWith("unix:") ? Http.socket(Path.of(d.url().substring("unix:".length())))
                : new Http(d.url());
    }

    /**
     * The command that starts jvisord over {@code bed}'s engine with exactly {@code caps} (ambient,
     * inheritable and bounding set, no new privileges), as uid 0 or as {@code nobody}, on its control
     * socket. It prints {@code LISTENING unix:PATH} once it answers.
     */
    private static List<String> daemonCommand(ServerTestBed bed, List<Capability> caps, boolean otherUser,
                                              String classPath) {
        String set = "-all" + caps.stream().map(c -> ",+" + c.lowerName().substring("cap_".length()))
                .collect(Collectors.joining());
        if (Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
                .noneMatch(d -> Files.isExecutable(Path.of(d, "setpriv")))) {
            throw new IllegalStateException("setpriv (util-linux) is not on PATH; it starts the daemon with only its "
                    + "capabilities");
        }
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--no-new-privs"));
        if (otherUser) {
            cmd.addAll(List.of("--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
        }
        cmd.addAll(List.of("--inh-caps=" + set, "--ambient-caps=" + set, "--bounding-set=" + set,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", classPath, DaemonMain.class.getName(), bed.options.name(), bed.options.stateDir().toString(),
                controlSocket(bed).toString()));
        return cmd;
    }

    /** The daemon's control socket: beside its state directory, in a directory the daemon's user owns. */
    private static Path controlSocket(ServerTestBed bed) {
        return bed.options.stateDir().getParent().resolve("jvisord.sock");
    }

    /**
     * The class path for the daemon. As another user, its state directory, cache, class path and pin
     * directory are made its own first, as the unit's StateDirectory= and CacheDirectory= and the set-up
     * of its pin directory do.
     */
    private static String classPath(ServerTestBed bed, boolean otherUser) throws IOException {
        String classPath = System.getProperty("java.class.path");
        if (!otherUser) {
            return classPath;
        }
        Path dir = bed.options.stateDir().getParent();
        classPath = readableCopy(classPath, dir.resolve("classpath"));
        Files.createDirectories(bed.options.stateDir());
        Files.createDirectories(dir.resolve("cache"));
        Files.createDirectories(bed.options.pinRoot());
        for (Path p : List.of(dir, bed.options.stateDir(), dir.resolve("cache"), bed.options.pinRoot())) {
            Files.setAttribute(p, "unix:uid", NOBODY);
            Files.setAttribute(p, "unix:gid", NOBODY);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return classPath;
    }

    /** A running daemon process. */
    private record Jvisord(Process process, String url, StringBuilder output) {
        /** Starts one, as uid 0 or as another user. */
        static Jvisord start(ServerTestBed bed, List<Capability> caps, boolean otherUser) throws IOException {
            return start(bed, caps, otherUser, classPath(bed, otherUser));
        }

        /** Starts one with class path {@code classPath} (from {@link LeastPrivilegeTest#classPath}). */
        static Jvisord start(ServerTestBed bed, List<Capability> caps, boolean otherUser, String classPath)
                throws IOException {
            ProcessBuilder pb = new ProcessBuilder(daemonCommand(bed, caps, otherUser, classPath))
                    .redirectErrorStream(true);
            if (otherUser) {
                pb.environment().put("XDG_CACHE_HOME", bed.options.stateDir().getParent().resolve("cache").toString());
            }
            Process p = pb.start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder log = new StringBuilder();
            String line;
            try {
                while ((line = out.readLine()) != null && !line.startsWith("LISTENING ")) {
                    log.append(line).append('\n');
                }
            } catch (IOException | RuntimeException e) {
                end(p);
                throw e;
            }
            if (line == null) {
                end(p);
                throw new AssertionError("the daemon did not come up:\n" + log);
            }
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (String l; (l = out.readLine()) != null; ) {
                        synchronized (log) {
                            log.append(l).append('\n');
                        }
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            return new Jvisord(p, line.substring("LISTENING ".length()), log);
        }

        /** Its effective capability set, from /proc/PID/status (setpriv execs it: the same PID). */
        Capabilities capabilities() throws IOException {
            return Capabilities.parse(Files.readString(Path.of("/proc", Long.toString(process.pid()), "status")));
        }

        /** Its real uid. */
        int uid() throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (l.startsWith("Uid:")) {
                    return Integer.parseInt(l.split("\\s+")[1]);
                }
            }
            throw new IllegalStateException("no Uid line");
        }

        String log() {
            synchronized (output) {
                return output.toString();
            }
        }

        /** SIGKILL: no shutdown hook, the kernel objects stay pinned. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }

        /** SIGTERM (the daemon closes its side), then SIGKILL if it lingers. */
        void stop() {
            end(process);
        }
    }

    private static void end(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A copy of {@code classPath} under {@code dir} that any user can read: the build's own copy may sit
     * under a home directory that only root can enter. A surefire class-path jar (one jar whose
     * manifest names the real entries) is expanded first.
     */
    private static String readableCopy(String classPath, Path dir) throws IOException {
        List<Path> entries = new ArrayList<>();
        for (String e : classPath.split(File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e));
            }
        }
        if (entries.size() == 1 && entries.getFirst().toString().endsWith(".jar")) {
            try (JarFile jar = new JarFile(entries.getFirst().toFile())) {
                String cp = jar.getManifest() == null ? null
                        : jar.getManifest().getMainAttributes().getValue("Class-Path");
                if (cp != null) {
                    entries.clear();
                    for (String u : cp.strip().split("\\s+")) {
                        entries.add(Path.of(java.net.URI.create(u)));
                    }
                }
            }
        }
        Files.createDirectories(dir);
        List<String> out = new ArrayList<>();
        int n = 0;
        for (Path e : entries) {
            if (!Files.exists(e)) {
                continue;
            }
            Path target = dir.resolve(n++ + "-" + e.getFileName());
            if (Files.isDirectory(e)) {
                try (Stream<Path> s = Files.walk(e)) {
                    for (Path f : s.toList()) {
                        Path t = target.resolve(e.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(t);
                        } else {
                            Files.copy(f, t, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                } catch (UncheckedIOException ex) {
                    throw ex.getCause();
                }
            } else {
                Files.copy(e, target, StandardCopyOption.REPLACE_EXISTING);
            }
            out.add(target.toString());
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x"
                        : "rw-r--r--"));
            }
        }
        return String.join(File.pathSeparator, out);
    }
}

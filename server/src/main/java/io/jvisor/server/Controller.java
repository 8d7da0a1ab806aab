package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jvisor.engine.AtomicFile;
import io.jvisor.engine.Endpoint;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Plan;
import io.jvisor.engine.Topology;
import io.jvisor.engine.TopologyException;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestProblem;
import io.jvisor.server.manifest.ManifestReader;
import io.jvisor.server.manifest.ManifestResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Makes the machine match a {@link Manifest}: its lab hosts (network namespaces) and its engine
 * topology, together, all or nothing. The daemon owns one; the CLI uses one directly when no
 * daemon runs. The applied manifest and the lab's prefix are saved crash-safely next to the
 * engine's state ({@code topology.json}), so a new process {@link #open opens} the same network
 * again: the engine adopts its pinned kernel objects and the lab hosts are still there, so traffic
 * never stops.
 */
public final class Controller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The file, in the engine's state directory, that holds the applied manifest. */
    public static final String RECORD = "topology.json";

    private final Engine engine;
    private final Path record;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<Consumer<ChangeEvent>> listeners = new CopyOnWriteArrayList<>();
    private volatile Manifest manifest;
    private volatile String labPrefix;
    private volatile long applies;

    private Controller(Engine engine, Manifest manifest, String labPrefix) {
        this.engine = engine;
        this.record = engine.options().stateDir().resolve(RECORD);
        this.manifest = manifest;
        this.labPrefix = labPrefix;
        this.slowPathEvents = engine.onSlowPath(this::onSlowPath);
    }

    private final AutoCloseable slowPathEvents;
    /** Slow-path events are rate-limited: an ARP storm must not flood the event stream. */
    static final int SLOW_PATH_EVENTS_PER_SECOND = 100;
    private long slowPathSecond;
    private int slowPathInSecond;
    private long slowPathSuppressed;

    /** Called on the engine's slow-path thread: one event per packet, at most 100 a second. */
    private void onSlowPath(io.jvisor.engine.PacketIn p) {
        long second = System.nanoTime() / 1_000_000_000L;
        if (second != slowPathSecond) {
            slowPathSecond = second;
            slowPathInSecond = 0;
        }
        if (listeners.isEmpty()) {
            return;
        }
        if (++slowPathInSecond > SLOW_PATH_EVENTS_PER_SECOND) {
            slowPathSuppressed++;
            return;
        }
        Map<String, Object> detail = new java.util.LinkedHashMap<>();
        detail.put("port", p.inPort());
        detail.put("reason", p.reason());
        detail.put("length", p.wireLength());
        detail.put("hook", p.hook().name().toLowerCase(java.util.Locale.ROOT));
        detail.put("head", java.util.HexFormat.of().formatHex(p.data(), 0, Math.min(p.data().length, 64)));
        if (slowPathSuppressed > 0) {
            detail.put("suppressedBefore", slowPathSuppressed);
            slowPathSuppressed = 0;
        }
        publish(ChangeEvent.of("slow-path", p.instance(), detail));
    }

    /**
     * Opens the controller of engine {@code options.name()}: starts the engine, which adopts what a
     * previous process left pinned, and reads the applied manifest back.
     */
    public static Controller open(EngineOptions options) {
        return open(options, ModuleCatalog.discover());
    }

    /** Same, with a catalog of module types. */
    public static Controller open(EngineOptions options, ModuleCatalog catalog) {
        Path rec = options.stateDir().resolve(RECORD);
        Manifest m = null;
        String prefix = null;
        var bytes = AtomicFile.read(rec);
        if (bytes.isPresent()) {
            try {
                JsonNode n = JSON.readTree(bytes.get());
                m = ManifestReader.fromTree(n.get("manifest"));
                prefix = n.hasNonNull("labPrefix") ? n.get("labPrefix").asText() : null;
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("cannot read the saved topology " + rec + ": " + e.getMessage(), e);
            }
        }
        Engine engine = Engine.start(options, catalog);
        Controller c = new Controller(engine, m, prefix);
        if (m != null) {
            LOG.info("restored topology '{}' ({} instances{})", m.name(), m.spec().instances().size(),
                    prefix == null ? "" : ", lab " + prefix);
        }
        return c;
    }

    /** The engine. */
    public Engine engine() {
        return engine;
    }

    /** The module types. */
    public ModuleCatalog catalog() {
        return engine.catalog();
    }

    /** The applied manifest, or null when nothing is applied. */
    public Manifest manifest() {
        return manifest;
    }

    /** The prefix of the running lab, or null when there is none. */
    public String labPrefix() {
        return labPrefix;
    }

    /** The namespace name of lab host {@code host}, or null when there is no such host. */
    public String hostNamespace(String host) {
        Manifest m = manifest;
        String p = labPrefix;
        if (m == null || p == null || m.spec().hosts().stream().noneMatch(h -> h.name().equals(host))) {
            return null;
        }
        return p + "-" + host;
    }

    /** How many applies succeeded since this controller opened. */
    public long applies() {
        return applies;
    }

    /** Registers a listener for changes. */
    public void addListener(Consumer<ChangeEvent> l) {
        listeners.add(l);
    }

    /** Removes a listener. */
    public void removeListener(Consumer<ChangeEvent> l) {
        listeners.remove(l);
    }

    /** Tells the listeners. */
    public void publish(ChangeEvent e) {
        for (Consumer<ChangeEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                LOG.warn("an event listener failed: {}", ex.toString());
            }
        }
    }

    /**
     * Applies {@code m} (or plans it, for a dry run): the lab hosts first when they changed (a new
     * lab under a new prefix), then the engine topology; on failure the new lab is removed and the
     * engine is as before. A new lab replaces the old one as a whole.
     *
     * @throws ManifestException naming the fields at fault, including lab hosts and namespaced devices
     *     when this process lacks the capabilities for namespaces ({@link DaemonCapabilities}); nothing
     *     changed
     */
    public ApplyResult apply(Manifest m, boolean dryRun) {
        Objects.requireNonNull(m, "manifest");
        long t0 = System.nanoTime();
        lock.lock();
        try {
            ManifestResolver.Resolved check = ManifestResolver.resolve(m, engine.catalog(), null);
            Manifest old = manifest;
            if (old != null && !old.name().equals(m.name()) && !old.spec().instances().isEmpty()) {
                LOG.info("topology '{}' replaces '{}'", m.name(), old.name());
            }
            LabSpec oldLab = old == null ? null : ManifestResolver.resolve(old, engine.catalog(), null).lab();
            boolean labChanges = !Objects.equals(oldLab, check.lab()) || (check.lab() != null && labPrefix == null);
            List<ManifestProblem> unprivileged = DaemonCapabilities.namespaceProblems(m,
                    io.jvisor.bpf.features.Capabilities.current(), new com.sun.security.auth.module.UnixSystem().getUid(),
                    labChanges && check.lab() != null);
            if (!unprivileged.isEmpty()) {
                throw new ManifestException(unprivileged);
            }
            List<String> lines = new ArrayList<>();
            if (labChanges) {
                lines.addAll(labDiff(old, m));
            }
            if (dryRun) {
                Topology t;
                if (!labChanges) {
                    t = ManifestResolver.resolve(m, engine.catalog(), labPrefix).topology();
                } else {
                    // the new lab's devices do not exist yet: plan without them, and list them
                    t = withoutLabDevices(ManifestResolver.resolve(m, engine.catalog(), "").topology(), check);
                }
                lines.addAll(planLines(planOrThrow(t)));
                if (labChanges) {
                    for (var e : check.hostDevices().entrySet()) {
                        lines.add("+ host " + e.getKey() + " => " + portOf(check.topology(), e.getValue()));
                    }
                }
                return new ApplyResult(m.name(), lines, true, (System.nanoTime() - t0) / 1_000_000);
            }
            Lab newLab = null;
            String prefix = labPrefix;
            try {
                if (labChanges && check.lab() != null) {
                    newLab = Lab.up(check.lab());
                    prefix = newLab.prefix();
                }
                Topology t = ManifestResolver.resolve(m, engine.catalog(), check.lab() == null ? null : prefix).topology();
                Plan plan = applyOrThrow(t);
                lines.addAll(planLines(plan)); // after the lab's lines: hosts come first
                save(m, check.lab() == null ? null : prefix);
            } catch (RuntimeException e) {
                if (newLab != null) {
                    closeQuietly(newLab);
                }
                throw e;
            }
            if (newLab != null) {
                newLab.detach(); // it outlives this process; removed by prefix
            }
            if (labChanges && labPrefix != null && !labPrefix.equals(prefix)) {
                downQuietly(labPrefix); // the old lab; the engine no longer uses its devices
            }
            manifest = m;
            labPrefix = check.lab() == null ? null : prefix;
            applies++;
            long ms = (System.nanoTime() - t0) / 1_000_000;
            publish(ChangeEvent.of("applied", m.name(), Map.of("changes", lines, "millis", ms)));
            return new ApplyResult(m.name(), lines, false, ms);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes the applied topology: every instance and the lab hosts. The engine keeps running,
     * empty; {@link #destroy()} also removes its pins and state.
     */
    public ApplyResult down() {
        return down(false);
    }

    /**
     * Removes the applied topology and its lab hosts, as {@link #down()}; with {@code dryRun}, only
     * returns what that would remove and changes nothing.
     */
    public ApplyResult down(boolean dryRun) {
        long t0 = System.nanoTime();
        lock.lock();
        try {
            Manifest old = manifest;
            if (dryRun) {
                List<String> lines = new ArrayList<>(planLines(engine.plan(Topology.EMPTY)));
                if (labPrefix != null && old != null) {
                    for (Manifest.Host h : old.spec().hosts()) {
                        lines.add("- host " + h.name());
                    }
                }
                return new ApplyResult(old == null ? "" : old.name(), lines, true, (System.nanoTime() - t0) / 1_000_000);
            }
            List<String> lines = new ArrayList<>(planLines(engine.apply(Topology.EMPTY)));
            if (labPrefix != null) {
                for (Manifest.Host h : old == null ? List.<Manifest.Host>of() : old.spec().hosts()) {
                    lines.add("- host " + h.name());
                }
                downQuietly(labPrefix);
            }
            AtomicFile.delete(record);
            manifest = null;
            labPrefix = null;
            String name = old == null ? "" : old.name();
            publish(ChangeEvent.of("removed", name, Map.of("changes", lines)));
            return new ApplyResult(name, lines, false, (System.nanoTime() - t0) / 1_000_000);
        } finally {
            lock.unlock();
        }
    }

    /** {@link #down()}, then removes the engine's pins and saved state, and closes. */
    public ApplyResult destroy() {
        ApplyResult r = down();
        engine.destroy();
        try {
            Files.deleteIfExists(engine.options().stateDir());
        } catch (IOException ignored) {
            // a directory with other files in it is not ours to remove
        }
        return r;
    }

    /** Stops this process's side; the network keeps running and a new controller adopts it. */
    @Override
    public void close() {
        try {
            slowPathEvents.close();
        } catch (Exception e) {
            // removing a listener cannot fail
        }
        engine.close();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private Plan applyOrThrow(Topology t) {
        try {
            return engine.apply(t);
        } catch (TopologyException e) {
            throw engineProblem(e);
        }
    }

    private Plan planOrThrow(Topology t) {
        try {
            return engine.plan(t);
        } catch (TopologyException e) {
            throw engineProblem(e);
        }
    }

    /** The engine's own checks (devices that exist, loops, ...) reported like a manifest's. */
    static ManifestException engineProblem(TopologyException e) {
        String reason = e.getMessage().startsWith(e.element() + ": ")
                ? e.getMessage().substring(e.element().length() + 2) : e.getMessage();
        return new ManifestException(List.of(new ManifestProblem("spec", e.element(), reason)));
    }

    private static List<String> planLines(Plan p) {
        List<String> out = new ArrayList<>();
        for (Plan.Change c : p.changes()) {
            out.add(c.line());
        }
        return out;
    }

    private static List<String> labDiff(Manifest old, Manifest m) {
        List<String> lines = new ArrayList<>();
        List<String> before = old == null ? List.of() : old.spec().hosts().stream().map(Manifest.Host::name).toList();
        List<String> after = m.spec().hosts().stream().map(Manifest.Host::name).toList();
        for (String h : after) {
            lines.add((before.contains(h) ? "~ host " : "+ host ") + h);
        }
        for (String h : before) {
            if (!after.contains(h)) {
                lines.add("- host " + h);
            }
        }
        return lines;
    }

    private static Topology withoutLabDevices(Topology t, ManifestResolver.Resolved r) {
        List<Topology.Connection> keep = new ArrayList<>();
        for (Topology.Connection c : t.connections()) {
            if (c.b() instanceof Endpoint.Device d && r.hostDevices().containsValue(d.name())) {
                continue;
            }
            keep.add(c);
        }
        return new Topology(t.instances(), keep);
    }

    private static String portOf(Topology t, String rootName) {
        for (Topology.Connection c : t.connections()) {
            if (c.b() instanceof Endpoint.Device d && d.name().equals(rootName)) {
                return c.a().toString();
            }
        }
        return "?";
    }

    private void save(Manifest m, String prefix) {
        ObjectNode n = JSON.createObjectNode();
        n.set("manifest", ManifestReader.toTree(m));
        if (prefix != null) {
            n.put("labPrefix", prefix);
        }
        try {
            AtomicFile.write(record, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void closeQuietly(Lab lab) {
        try {
            lab.close();
        } catch (RuntimeException e) {
            LOG.warn("removing lab {} failed", lab.prefix(), e);
        }
    }

    private static void downQuietly(String prefix) {
        try {
            Lab.down(prefix);
        } catch (RuntimeException e) {
            LOG.warn("removing lab {} failed", prefix, e);
        }
    }
}

package io.jvisor.modules;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.ringbuf.RingBufReader;
import io.jvisor.engine.Engine;
import io.jvisor.engine.Hook;
import io.jvisor.engine.InstanceContext;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleHandler;
import io.jvisor.engine.ModuleType;
import io.jvisor.engine.PacketIn;
import io.jvisor.engine.Sdk;
import io.jvisor.engine.TestBed;
import io.jvisor.engine.Topology;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs frames through a real module program with BPF_PROG_TEST_RUN and observes everything the
 * module does with each: the tc verdict, the drop reason, the packet the control plane receives,
 * and every frame that leaves a port, with the port and the bytes as they are on the wire.
 *
 * <p><b>How the output port is observed.</b> A test run returns the verdict and the packet as the
 * program left it, but it does not carry out a redirect, and a VLAN tag pushed at tc is held out of
 * band in the skb, so neither shows in the packet returned. The harness therefore wires the module
 * into a real engine twice, in two <i>lanes</i>, each instance with the same configuration:
 *
 * <ul>
 *   <li><b>devices lane</b> ({@code mut}): port K is connected to the root end {@code pK} of a veth pair
 *       whose other end is {@code eth0} of host {@code hK} (a namespace of the test's own). That
 *       {@code eth0} is connected to port K of a test-only <i>recorder</i> instance
 *       ({@code recorder.c}), which writes (port, out-of-band VLAN tag, bytes) of every frame it gets
 *       into a ring buffer and drops it. Copies a flood sends with {@code bpf_clone_redirect} really
 *       travel through the veth pair and are recorded, tag included. The one frame a test run does
 *       not send (the skb a {@code bpf_redirect} verdict names) is found from the module's per-port tx
 *       counters: the port whose counter rose without a recorded copy; its bytes are the test run's
 *       packet out, which lacks a VLAN tag held out of band.</li>
 *   <li><b>instances lane</b> ({@code mui}): port K is connected straight to port {@code ports + K} of
 *       the recorder. A forward is a tail call into the recorder inside the test run itself, so the
 *       recorder sees the frame and its out-of-band tag. A flood reaches one instance port only (the
 *       first; the rest are counted as {@code flood_limit} drops, see docs/modules.md), so this lane
 *       checks the first port of a flood and the number of ports, and the devices lane checks the
 *       rest.</li>
 * </ul>
 *
 * Between them every output frame's port and bytes are checked, and its tag wherever the kernel
 * lets a tag be seen: the frame left as the test run's own skb in the devices lane is the only one
 * whose tag is not visible, and that port and frame are the first of the flood or the unicast the
 * instances lane checks with its tag.
 *
 * <p>Drop reasons are the deltas of the engine's drop counters for the instance. Packets sent to the
 * control plane are seen by wrapping the module type's handler: the wrapper records each
 * {@link PacketIn}, then hands it to the module's own handler, whose answers ({@link
 * InstanceContext#transmit}) go out of a devices-lane port and are recorded like any frame. The
 * harness waits for the handler to finish before it reads the counters, so that state the handler
 * changes (a learned neighbour) is in place for the next frame.
 *
 * <p>Test runs happen in the test's own namespace, where the {@code pK} devices are, so that a
 * clone's ifindex names the test's own device.
 */
public final class DifferentialHarness implements AutoCloseable {
    public static final int TC_ACT_OK = 0;
    public static final int TC_ACT_SHOT = 2;
    public static final int TC_ACT_REDIRECT = 7;
    private static final int SKB_CTX_SIZE = 192;
    private static final int SKB_CB_OFFSET = 48;
    private static final long WAIT_NS = 5_000_000_000L;

    /** Which instance of the module a frame is run through. */
    public enum Lane {
        /** Ports connected to devices: floods are seen in full. */
        DEVICES("mut"),
        /** Ports connected to the recorder instance: every unicast is seen with its tag. */
        INSTANCES("mui");

        final String instance;

        Lane(String instance) {
            this.instance = instance;
        }
    }

    /**
     * What the kernel did with one frame.
     *
     * @param verdict the tc verdict of the test run
     * @param dataOut the packet out of the test run
     * @param drops the drop counters that rose, by reason name
     * @param recorded the frames the recorder got, by the module's port, as on the wire
     * @param mainPort the port the test run's own skb was redirected to (devices lane), or -1
     * @param packetIns what the control plane received
     * @param packetInNanos System.nanoTime() when the (first) packet-in reached the handler, or 0
     */
    public record Observation(int verdict, byte[] dataOut, Map<String, Long> drops, List<Expected.Emitted> recorded,
                              int mainPort, List<PacketIn> packetIns, long packetInNanos) {
        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("verdict " + verdict + ", drops " + drops);
            if (mainPort >= 0) {
                s.append(", redirected to port ").append(mainPort).append(" (packet out, without any out-of-band tag: ")
                        .append(Wire.hex(dataOut)).append(")");
            }
            for (PacketIn p : packetIns) {
                s.append("\n      packet-in reason ").append(p.reason()).append(" port ").append(p.inPort()).append(": ")
                        .append(Wire.hex(p.data()));
            }
            for (Expected.Emitted e : recorded) {
                s.append("\n      recorded ").append(e);
            }
            return s.toString();
        }
    }

    private final TestBed bed;
    private final Engine engine;
    private final int ports;
    private final boolean instanceLane;
    private final Map<Lane, BpfProgram> programs = new HashMap<>();
    private final Map<Lane, long[]> tx = new HashMap<>();
    private final Map<Lane, Map<String, Long>> drops = new HashMap<>();
    private final List<RingBufReader> recorders = new ArrayList<>();
    private final List<Integer> recorderBase = new ArrayList<>();
    private final ConcurrentLinkedQueue<PacketIn> packetIns;
    private final AtomicLong handled;
    private final AtomicLong firstPacketInNanos;
    private long handledSeen;

    private DifferentialHarness(TestBed bed, Engine engine, int ports, boolean instanceLane,
                                ConcurrentLinkedQueue<PacketIn> packetIns, AtomicLong handled,
                                AtomicLong firstPacketInNanos, AtomicLong handlerNanos) {
        this.bed = bed;
        this.engine = engine;
        this.ports = ports;
        this.instanceLane = instanceLane;
        this.packetIns = packetIns;
        this.handled = handled;
        this.firstPacketInNanos = firstPacketInNanos;
        this.handlerNanos = handlerNanos;
        recorders.add(RingBufReader.open(engine.map("rec", "rec_out")));
        recorderBase.add(0);
        for (int k = 0; instanceLane && k < ports; k++) {
            recorders.add(RingBufReader.open(engine.map("rec" + k, "rec_out")));
            recorderBase.add(ports + k);
        }
    }

    /**
     * Starts an engine with the module under test on {@code ports} ports in the devices lane and, when
     * {@code instanceLane}, in the instances lane too, both with {@code config}.
     */
    public static DifferentialHarness start(ModuleType type, Map<String, String> config, int ports,
                                            boolean instanceLane) {
        TestBed bed = TestBed.create(ports, Hook.TC);
        DifferentialHarness h = null;
        try {
            for (int k = 1; k <= ports; k++) {
                // the root ends' own IPv6 chatter (MLD, router solicitations) would be recorded as output
                java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/sys/net/ipv6/conf",
                        bed.lab.rootDevice("p" + k), "disable_ipv6"), "1");
            }
            ModuleCatalog catalog = new ModuleCatalog();
            AtomicLong handled = new AtomicLong();
            ConcurrentLinkedQueue<PacketIn> queue = new ConcurrentLinkedQueue<>();
            AtomicLong firstNanos = new AtomicLong();
            AtomicLong handlerNanos = new AtomicLong();
            catalog.register(tapped(type, queue, handled, firstNanos, handlerNanos));
            catalog.register(ModuleType.fromSource("recorder", resource("recorder.c")));
            Engine e = bed.start(catalog);
            Topology.Builder t = Topology.builder().instance("mut", type.name(), config).instance("rec", "recorder");
            for (int k = 0; k < ports; k++) {
                t.connect("mut:" + k, bed.dev(k + 1));
                t.connect("rec:" + k, "dev:" + bed.lab.namespaceName("h" + (k + 1)) + "/eth0");
            }
            if (instanceLane) {
                // one recorder per port: two connections between the same two instances would form a loop
                t.instance("mui", type.name(), config);
                for (int k = 0; k < ports; k++) {
                    t.instance("rec" + k, "recorder").connect("mui:" + k, "rec" + k + ":0");
                }
            }
            e.apply(t.build());
            h = new DifferentialHarness(bed, e, ports, instanceLane, queue, handled, firstNanos, handlerNanos);
            for (Lane lane : h.lanes()) {
                h.programs.put(lane, BpfProgram.fromId(e.programId(lane.instance)));
                h.tx.put(lane, h.readTx(lane));
                h.drops.put(lane, e.drops(lane.instance));
            }
            sleepMillis(200);
            h.drainRecorders(new ArrayList<>()); // anything sent before the first test run is not ours
            return h;
        } catch (IOException x) {
            bed.close();
            throw new UncheckedIOException(x);
        } catch (RuntimeException | Error x) {
            if (h != null) {
                h.close();
            } else {
                bed.close();
            }
            throw x;
        }
    }

    /** The lanes this harness runs. */
    public List<Lane> lanes() {
        return instanceLane ? List.of(Lane.DEVICES, Lane.INSTANCES) : List.of(Lane.DEVICES);
    }

    public Engine engine() {
        return engine;
    }

    /** The frames of a differential run: {@code -Djvisor.diff.packets=N}, else the 100,000. */
    public static int packets() {
        return Integer.getInteger("jvisor.diff.packets", 100_000);
    }

    /**
     * The random seed of a differential run: {@code -Djvisor.diff.seed=S}, else a new one; printed,
     * labelled {@code what}, so that a failing run can be repeated.
     */
    public static long seed(String what) {
        String s = System.getProperty("jvisor.diff.seed");
        long seed = s != null ? Long.parseLong(s) : new java.util.Random().nextLong();
        System.out.println("[" + what + "] seed " + seed + " (rerun with -Djvisor.diff.seed=" + seed + ")");
        return seed;
    }

    /** The instance name of a lane, for the module's Java API (FDB, static entries). */
    public static String instance(Lane lane) {
        return lane.instance;
    }

    static String resource(String name) {
        try (InputStream in = DifferentialHarness.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The module type with its handler wrapped so that every packet-in is recorded before it is handled. */
    private static ModuleType tapped(ModuleType real, ConcurrentLinkedQueue<PacketIn> queue, AtomicLong handled,
                                     AtomicLong firstNanos, AtomicLong handlerNanos) {
        return new ModuleType() {
            @Override
            public String name() {
                return real.name();
            }

            @Override
            public ModuleCode code() {
                return real.code();
            }

            @Override
            public int ports() {
                return real.ports();
            }

            @Override
            public String validateConfig(Map<String, String> config) {
                return real.validateConfig(config);
            }

            @Override
            public ModuleHandler handler(Map<String, String> config) {
                ModuleHandler inner = real.handler(config);
                return new ModuleHandler() {
                    @Override
                    public void onStart(InstanceContext ctx) {
                        inner.onStart(ctx);
                    }

                    @Override
                    public void onPacket(InstanceContext ctx, PacketIn packet) {
                        firstNanos.compareAndSet(0, System.nanoTime());
                        queue.add(packet);
                        long t = System.nanoTime();
                        try {
                            inner.onPacket(ctx, packet);
                        } finally {
                            handlerNanos.addAndGet(System.nanoTime() - t);
                            handled.incrementAndGet();
                        }
                    }

                    @Override
                    public void migrate(InstanceContext ctx, String oldCodeHash, String newCodeHash) {
                        inner.migrate(ctx, oldCodeHash, newCodeHash);
                    }

                    @Override
                    public void onStop(InstanceContext ctx) {
                        inner.onStop(ctx);
                    }
                };
            }
        };
    }

    private long[] readTx(Lane lane) {
        long[] out = new long[ports];
        for (int k = 0; k < ports; k++) {
            out[k] = engine.stats(lane.instance, k).txPackets();
        }
        return out;
    }

    private static byte[] skbWithInPort(int inPort) {
        return ByteBuffer.allocate(SKB_CTX_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(SKB_CB_OFFSET, inPort).array();
    }

    /** Runs one frame into port {@code inPort} of the lane's instance and observes what happens. */
    public Observation run(Lane lane, int inPort, byte[] frame) {
        long p0 = System.nanoTime();
        firstPacketInNanos.set(0);
        TestRun.Result r;
        try {
            r = programs.get(lane).testRun(TestRun.of(frame).withContext(skbWithInPort(inPort)));
        } catch (RuntimeException x) {
            throw new IllegalStateException("test run of " + Wire.hex(frame) + " into port " + inPort + " failed", x);
        }
        long p1 = System.nanoTime();
        Map<String, Long> after = engine.drops(lane.instance);
        Map<String, Long> dropDelta = delta(drops.get(lane), after);
        drops.put(lane, after);

        long[] txNow = readTx(lane);
        long p2 = System.nanoTime();
        phase[0] += p1 - p0;
        phase[1] += p2 - p1;
        List<PacketIn> ins = new ArrayList<>();
        boolean sent = false;
        for (int k = 0; k < ports; k++) {
            sent |= txNow[k] != tx.get(lane)[k];
        }
        if (r.returnValue() == TC_ACT_SHOT && dropDelta.isEmpty() && !sent) {
            // neither dropped nor sent: the only way left is the slow path; wait for the handler
            p2 = System.nanoTime();
            long deadline = System.nanoTime() + WAIT_NS;
            while (handled.get() <= handledSeen && System.nanoTime() < deadline) {
                sleepBriefly();
            }
            txNow = readTx(lane);
            phase[2] += System.nanoTime() - p2;
        }
        long handledNow = handled.get();
        handledSeen = handledNow;
        for (PacketIn p; (p = packetIns.poll()) != null; ) {
            ins.add(p);
        }
        long[] d = new long[ports];
        long sentTotal = 0;
        for (int k = 0; k < ports; k++) {
            d[k] = txNow[k] - tx.get(lane)[k];
            sentTotal += d[k];
        }
        tx.put(lane, txNow);

        // the recorder gets every frame that left, but the skb a redirect verdict names (devices lane)
        long expectRecords = sentTotal - (r.returnValue() == TC_ACT_REDIRECT && lane == Lane.DEVICES ? 1 : 0);
        List<Expected.Emitted> rec = new ArrayList<>();
        long p3 = System.nanoTime();
        long deadline = p3 + WAIT_NS;
        while (true) {
            drainRecorders(rec);
            if (rec.size() >= expectRecords || System.nanoTime() > deadline) {
                break;
            }
            sleepBriefly();
        }
        phase[3] += System.nanoTime() - p3;
        List<Expected.Emitted> mine = new ArrayList<>();
        for (Expected.Emitted e : rec) {
            boolean devicePort = e.port() < ports;
            if (devicePort == (lane == Lane.DEVICES)) {
                mine.add(new Expected.Emitted(devicePort ? e.port() : e.port() - ports, e.wire()));
            } else {
                mine.add(new Expected.Emitted(-1000 - e.port(), e.wire())); // of the other lane: always wrong
            }
        }
        int mainPort = -1;
        if (r.returnValue() == TC_ACT_REDIRECT && lane == Lane.DEVICES) {
            for (int k = 0; k < ports; k++) {
                final int port = k;
                long copies = mine.stream().filter(e -> e.port() == port).count();
                if (d[k] > copies) {
                    mainPort = k;
                }
            }
        }
        return new Observation(r.returnValue(), r.data(), dropDelta, mine, mainPort, ins, firstPacketInNanos.get());
    }

    private final long[] phase = new long[4];
    /** Time spent in the module's own handler. */
    private final AtomicLong handlerNanos;

    /** Where the time went so far: test runs, counters, waiting for the control plane, waiting for the recorder. */
    public String timings() {
        return String.format(java.util.Locale.ROOT, "test runs %.1f s, counters %.1f s, control plane %.1f s, "
                + "recorder %.1f s; handler itself %.1f s", phase[0] / 1e9, phase[1] / 1e9, phase[2] / 1e9,
                phase[3] / 1e9, handlerNanos.get() / 1e9);
    }

    /** Waits a little, then returns frames recorded late (after their packet's check); empty is right. */
    public List<Expected.Emitted> stragglers() {
        sleepMillis(300);
        List<Expected.Emitted> rec = new ArrayList<>();
        drainRecorders(rec);
        return rec;
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(0, 50_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void drainRecorders(List<Expected.Emitted> into) {
        for (int i = 0; i < recorders.size(); i++) {
            int base = recorderBase.get(i);
            recorders.get(i).drain(seg -> {
                Expected.Emitted e = record(seg);
                into.add(new Expected.Emitted(base + e.port(), e.wire()));
            });
        }
    }

    /** A recorder record as (recorder port, frame on the wire: the out-of-band tag put back in). */
    private static Expected.Emitted record(MemorySegment seg) {
        ByteBuffer b = ByteBuffer.wrap(seg.toArray(ValueLayout.JAVA_BYTE)).order(ByteOrder.LITTLE_ENDIAN);
        int port = b.getInt(0), len = b.getInt(4), present = b.getInt(8), protoRaw = b.getInt(12), tci = b.getInt(16);
        byte[] data = Arrays.copyOfRange(b.array(), 24, 24 + len);
        if (present != 0) {
            int proto = Short.reverseBytes((short) protoRaw) & 0xffff; // __sk_buff.vlan_proto is network order
            data = Wire.pushTag(data, proto, tci & 0xffff);
        }
        return new Expected.Emitted(port, data);
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new TreeMap<>();
        for (var e : after.entrySet()) {
            long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (d != 0) {
                out.put(e.getKey(), d);
            }
        }
        return out;
    }

    /**
     * Compares what the model expects with what the kernel did; returns null when they agree, or
     * what differs.
     *
     * @param tagsOutOfBand true when the module holds VLAN tags out of band (a bridge with VLANs): the
     *     frame a redirect verdict names is then compared without its outermost tag
     */
    public static String compare(Expected e, Observation o, Lane lane, boolean tagsOutOfBand) {
        List<String> problems = new ArrayList<>();
        switch (e.action()) {
            case DROP -> {
                if (o.verdict() != TC_ACT_SHOT) {
                    problems.add("verdict " + o.verdict() + ", expected TC_ACT_SHOT");
                }
                String reason = Sdk.dropReasonName(e.reason());
                if (!o.drops().equals(Map.of(reason, 1L))) {
                    problems.add("drop counters rose by " + o.drops() + ", expected {" + reason + "=1}");
                }
            }
            case PASS -> {
                if (o.verdict() != TC_ACT_OK) {
                    problems.add("verdict " + o.verdict() + ", expected TC_ACT_OK");
                }
            }
            case CONTROLLER -> {
                if (o.verdict() != TC_ACT_SHOT) {
                    problems.add("verdict " + o.verdict() + ", expected TC_ACT_SHOT (to the slow path)");
                }
                if (!o.drops().isEmpty()) {
                    problems.add("drop counters rose by " + o.drops());
                }
            }
            case FORWARD, FLOOD -> {
                Map<String, Long> want = Map.of();
                if (lane == Lane.INSTANCES && e.action() == Expected.Action.FLOOD && e.frames().size() > 1) {
                    want = Map.of("flood_limit", (long) e.frames().size() - 1);
                }
                if (!o.drops().equals(want)) {
                    problems.add("drop counters rose by " + o.drops() + ", expected " + want);
                }
                int wantVerdict = lane == Lane.INSTANCES ? TC_ACT_SHOT // the recorder's verdict, after a tail call
                        : e.action() == Expected.Action.FORWARD ? TC_ACT_REDIRECT : -1;
                if (wantVerdict >= 0 && o.verdict() != wantVerdict) {
                    problems.add("verdict " + o.verdict() + ", expected " + wantVerdict);
                }
                if (lane == Lane.DEVICES && o.verdict() != TC_ACT_REDIRECT && o.verdict() != TC_ACT_SHOT) {
                    problems.add("verdict " + o.verdict() + ", expected a redirect or the end of a flood");
                }
            }
        }
        if (e.action() == Expected.Action.CONTROLLER) {
            if (o.packetIns().size() != 1 || o.packetIns().getFirst().reason() != e.reason()) {
                problems.add("packet-ins " + o.packetIns().stream().map(p -> "reason " + p.reason()).toList()
                        + ", expected one with reason " + e.reason());
            }
        } else if (!o.packetIns().isEmpty()) {
            problems.add("unexpected packet-ins " + o.packetIns().stream().map(p -> "reason " + p.reason()).toList());
        }

        // the frames that left
        List<Expected.Emitted> want = new ArrayList<>(e.frames());
        if (lane == Lane.INSTANCES && e.action() == Expected.Action.FLOOD && !want.isEmpty()) {
            Expected.Emitted first = want.stream().min(java.util.Comparator.comparingInt(Expected.Emitted::port))
                    .orElseThrow();
            want = List.of(first);
        }
        List<Expected.Emitted> got = new ArrayList<>(o.recorded());
        if (o.mainPort() >= 0) {
            got.add(new Expected.Emitted(o.mainPort(), o.dataOut(), true)); // "optional" marks: tag not visible
        }
        for (Expected.Emitted w : want) {
            Expected.Emitted match = null;
            for (Expected.Emitted g : got) {
                if (g.port() != w.port()) {
                    continue;
                }
                byte[] wanted = g.optional() && tagsOutOfBand ? Wire.withoutOuterTag(w.wire()) : w.wire();
                if (Arrays.equals(g.wire(), wanted)) {
                    match = g;
                    break;
                }
            }
            if (match != null) {
                got.remove(match);
            } else if (!w.optional()) {
                problems.add("missing on port " + w.port() + ": " + Wire.hex(w.wire()));
            }
        }
        for (Expected.Emitted g : got) {
            problems.add("unexpected on port " + g.port() + (g.optional() ? " (redirect, packet out)" : "") + ": "
                    + Wire.hex(g.wire()));
        }
        return problems.isEmpty() ? null : String.join("\n    ", problems);
    }

    @Override
    public void close() {
        programs.values().forEach(BpfProgram::close);
        try {
            recorders.forEach(RingBufReader::close);
        } finally {
            bed.close();
        }
    }
}

package io.jvisor.engine;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.link.BpfLink;
import io.jvisor.bpf.link.TcxDirection;
import io.jvisor.net.Netns;
import io.jvisor.net.PacketSocket;
import io.jvisor.net.Rtnl;
import io.jvisor.net.VethSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Frames a control plane sends out of an instance's port (the slow path's answers). To a device
 * they go through a packet socket on that device; to another instance (tc only) through the
 * engine's reinjection veth pair, whose far end runs {@code jv_reinject_tc}: the socket mark names
 * the target slot and port, and the entry there tail-calls into it as if the frame had left the
 * port in the kernel.
 */
final class Transmitter implements LiveInstance.PortTransmitter, AutoCloseable {
    private final EngineOptions options;
    private final LiveState state;
    private final ModuleLoader loader;
    private final PinLayout pins;

    /**
     * The packet socket for transmissions in the engine's own network namespace, kept open: opening
     * and closing one per frame costs milliseconds (the kernel waits for an RCU grace period on
     * release), which capped slow-path answers at about a hundred a second. Devices in other
     * namespaces get a socket per frame, because a socket kept open would keep a deleted namespace,
     * and the devices in it, alive.
     */
    private PacketSocket txSocket;
    private final Object txLock = new Object();
    private int txMark; // the SO_MARK txSocket carries, guarded by txLock
    private Reinjector reinjector;

    Transmitter(EngineOptions options, LiveState state, ModuleLoader loader, PinLayout pins) {
        this.options = options;
        this.state = state;
        this.loader = loader;
        this.pins = pins;
    }

    /** The reinjection veth pair: frames sent into {@code a} reach {@code jv_reinject_tc} on {@code b}. */
    private record Reinjector(int ifindex, BpfProgram program, BpfLink link) {}

    static String reinjectName(EngineOptions o, String end) {
        return "jvx" + Integer.toHexString(o.name().hashCode() & 0x7fffffff) + end;
    }

    @Override
    public void transmit(LiveInstance li, int port, byte[] frame) {
        Endpoint peer;
        synchronized (state) {
            peer = state.peers.get(new Endpoint.Port(li.name, port));
        }
        switch (peer) {
            case null -> throw new TopologyException("port " + li.name + ":" + port, "is not connected");
            case Endpoint.Device d -> sendOut(d.netns() == null ? "" : d.netns(), ifindex(d), -1, frame);
            case Endpoint.Port p -> {
                if (options.hook() != Hook.TC) {
                    throw new TopologyException("port " + li.name + ":" + port, "is connected to " + p
                            + "; user space can transmit into another instance only at the tc hook");
                }
                int slot;
                synchronized (state) {
                    slot = state.instances.get(p.instance()).slot;
                }
                sendOut("", reinjector().ifindex, 0x6a000000 | (slot << 8) | p.port(), frame);
            }
        }
        // Counted in Java: writing the per-CPU counters from user space would race with the kernel's
        // increments on the same CPU slot and lose some of them.
        li.userTxPackets.incrementAndGet(port);
        li.userTxBytes.addAndGet(port, frame.length);
    }

    private int ifindex(Endpoint.Device d) {
        synchronized (state) {
            LiveDevice ld = state.devices.get(d);
            if (ld != null) {
                return ld.ifindex;
            }
        }
        try (DeviceDirectory directory = new DeviceDirectory()) {
            return directory.ifindex(d, "device " + d);
        }
    }

    private void sendOut(String netns, int ifindex, int mark, byte[] frame) {
        if (!netns.isEmpty()) {
            try (Netns ns = Netns.open(netns); PacketSocket s = PacketSocket.open(ns)) {
                s.send(ifindex, frame);
            }
            return;
        }
        synchronized (txLock) {
            if (txSocket == null) {
                txSocket = PacketSocket.open();
                txMark = 0;
            }
            int want = Math.max(mark, 0);
            if (want != txMark) { // one setsockopt only when the target changes
                txSocket.setMark(want);
                txMark = want;
            }
            txSocket.send(ifindex, frame);
        }
    }

    private synchronized Reinjector reinjector() {
        if (reinjector != null) {
            return reinjector;
        }
        String a = reinjectName(options, "a");
        String b = reinjectName(options, "b");
        try (Rtnl rtnl = Rtnl.open()) {
            if (rtnl.findLink(a).isEmpty()) {
                rtnl.createVeth(VethSpec.of(a, b));
            }
            rtnl.setUp(a);
            rtnl.setUp(b);
            int ifindexA = rtnl.ifindex(a);
            int ifindexB = rtnl.ifindex(b);
            Path dir = pins.reinject();
            BpfProgram prog;
            BpfLink link;
            if (Files.exists(dir.resolve("link"))) {
                link = BpfLink.openPinned(dir.resolve("link"));
                prog = BpfProgram.openPinned(dir.resolve("prog"));
            } else {
                prog = loader.loadReinjector();
                link = BpfLink.tcx(prog, ifindexB, TcxDirection.INGRESS);
                Files.createDirectories(dir);
                link.pin(dir.resolve("link"));
                prog.pin(dir.resolve("prog"));
            }
            reinjector = new Reinjector(ifindexA, prog, link);
            return reinjector;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pin the reinjection program under " + pins.root(), e);
        }
    }

    @Override
    public synchronized void close() {
        synchronized (txLock) {
            if (txSocket != null) {
                txSocket.close();
                txSocket = null;
            }
        }
        if (reinjector != null) {
            reinjector.link().close();
            reinjector.program().close();
            reinjector = null;
        }
    }
}

package io.jvisor.engine;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Pins;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Devices: finding them, entering instances from them (an entry program per device, attached by
 * the engine's {@link AttachMethod}), and leaving instances to them (the {@code jv_ports} value of
 * a port wired to a device).
 */
final class DeviceAttacher {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceAttacher.class);

    private final EngineOptions options;
    private final AttachMethod method;
    private final ModuleLoader loader;
    private final PinLayout pins;

    DeviceAttacher(EngineOptions options, AttachMethod method, ModuleLoader loader, PinLayout pins) {
        this.options = options;
        this.method = method;
        this.loader = loader;
        this.pins = pins;
    }

    /**
     * The peer value of a port wired to device d: its ifindex and, when the engine allows peer
     * redirects on the tc hook and d is a veth whose other end is in another namespace, that end's
     * MAC (module.h jv_tc_redirect). Anything else keeps plain redirects. Looked up through devices.
     */
    PeerCodec.Device devicePeer(Endpoint.Device d, int ifindex, DeviceDirectory devices) {
        byte[] peerMac = null;
        if (options.peerRedirect() && options.hook() == Hook.TC) {
            try {
                peerMac = devices.vethPeerMac(d, ifindex);
            } catch (RuntimeException e) {
                LOG.warn("device {}: cannot tell whether its veth peer can take peer redirects ({}); using plain "
                        + "redirects", d, e.getMessage());
            }
        }
        return new PeerCodec.Device(ifindex, peerMac);
    }

    /**
     * Enters target from device d: a new attachment with its pins, or, for a device attached
     * already, an atomic switch of its entry program.
     *
     * @param existing the device's live record, or null
     * @return the new live record when there was none, else existing (updated)
     */
    LiveDevice attach(Endpoint.Device d, int ifindex, Endpoint.Port target, int slot, LiveDevice existing,
                      Transaction tx, DeviceDirectory devices) {
        String el = "connection " + target + " -- " + d;
        BpfProgram stub = loader.loadEntry(slot, target.port(), el);
        tx.onUndo(stub::close);
        Path dir = pins.device(d);
        if (existing == null) {
            DeviceAttachment attachment;
            try {
                attachment = DeviceAttachment.attach(d, ifindex, stub, options.hook(), method, devices);
            } catch (RuntimeException e) {
                throw new TopologyException(el, "cannot attach to the device: " + e.getMessage(), e);
            }
            tx.onUndo(() -> {
                attachment.detach(devices);
                attachment.close();
            });
            try {
                PinLayout.deleteTree(dir);
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new TopologyException(el, "cannot pin under " + dir + ": " + e.getMessage());
            }
            tx.onUndo(() -> PinLayout.deleteTree(dir));
            attachment.pin(dir);
            stub.pin(dir.resolve("prog"));
            if (steersReceive() && ReceiveSteering.spread(d, () -> devices.link(d))) {
                tx.onUndo(() -> ReceiveSteering.release(d));
            }
            return new LiveDevice(d, ifindex, target, stub, attachment);
        }
        BpfProgram oldStub = existing.stub;
        Endpoint.Port oldTarget = existing.target;
        existing.attachment.update(stub, oldStub, devices);
        tx.onUndo(() -> existing.attachment.update(oldStub, stub, devices));
        existing.stub = stub;
        existing.target = target;
        tx.onUndo(() -> {
            existing.stub = oldStub;
            existing.target = oldTarget;
        });
        tx.onCommit(() -> {
            Pins.unpin(dir.resolve("prog"));
            stub.pin(dir.resolve("prog"));
            oldStub.close();
        });
        return existing;
    }

    /** Whether this engine sets receive packet steering on the devices it attaches to (tc only). */
    boolean steersReceive() {
        return options.receiveSteering() && options.hook() == Hook.TC;
    }

    /** Takes d's entry off at commit (a detach cannot be undone, so it waits until all else succeeded). */
    void detach(LiveDevice ld, Transaction tx, DeviceDirectory devices) {
        tx.onCommit(() -> {
            // a device deleted meanwhile took its filter with it: the detach fails, the rest must not
            try {
                ld.attachment.detach(devices);
            } finally {
                ld.attachment.close();
                ld.stub.close();
                if (steersReceive()) {
                    ReceiveSteering.release(ld.device);
                }
                PinLayout.deleteTree(pins.device(ld.device));
            }
        });
    }

    /** The attachment of an adopted device, as pinned (links) or as found on the device (netlink). */
    DeviceAttachment adopt(Endpoint.Device d, Path dir, DeviceDirectory devices) {
        if (method == AttachMethod.LINK) {
            return new DeviceAttachment.Link(io.jvisor.bpf.link.BpfLink.openPinned(dir.resolve("link")));
        }
        int ifindex = devices.ifindex(d, "device " + d);
        return options.hook() == Hook.TC ? new DeviceAttachment.TcFilter(d, ifindex)
                : new DeviceAttachment.NetlinkXdp(d, ifindex);
    }

    /** The ifindex an adopted attachment is on. */
    static int ifindexOf(DeviceAttachment a) {
        return switch (a) {
            case DeviceAttachment.Link l -> l.link().info() instanceof io.jvisor.bpf.link.LinkInfo.Tcx tcx ? tcx.ifindex()
                    : l.link().info() instanceof io.jvisor.bpf.link.LinkInfo.Xdp x ? x.ifindex() : 0;
            case DeviceAttachment.TcFilter f -> f.ifindex();
            case DeviceAttachment.NetlinkXdp x -> x.ifindex();
        };
    }
}

package io.jvisor.engine;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.link.BpfLink;
import io.jvisor.bpf.link.TcxDirection;
import io.jvisor.bpf.link.XdpMode;
import io.jvisor.net.Rtnl;
import io.jvisor.net.TcDirection;
import io.jvisor.net.TcFilterSpec;
import io.jvisor.net.XdpAttachMode;

import java.nio.file.Path;

/** How one device's entry program is attached, and how it is swapped and removed. */
sealed interface DeviceAttachment permits DeviceAttachment.Link, DeviceAttachment.TcFilter, DeviceAttachment.NetlinkXdp {
    /** The filter priority and handle the engine's cls_bpf filters use. */
    int TC_PRIORITY = 1, TC_HANDLE = 0x4a56;

    /** Replaces the entry program atomically, only if {@code expected} still runs (netlink: through devices). */
    void update(BpfProgram next, BpfProgram expected, DeviceDirectory devices);

    /** Detaches the entry program from the device (netlink: through devices). */
    void detach(DeviceDirectory devices);

    /** Releases the Java side only (the attachment stays in the kernel). */
    void close();

    /** Pins what needs pinning to survive the process under {@code dir}. */
    void pin(Path dir);

    /** A tcx or XDP bpf link, pinned so that it outlives the process. */
    record Link(BpfLink link) implements DeviceAttachment {
        public void update(BpfProgram next, BpfProgram expected, DeviceDirectory devices) {
            link.update(next, expected);
        }

        public void detach(DeviceDirectory devices) {
            // Now, in this thread (BPF_LINK_DETACH), rather than when the last reference goes: the pin's
            // removal would leave the release to a kernel worker, which waits an RCU grace period under
            // RTNL for each tcx link after the apply has returned, stalling whoever needs RTNL next.
            try {
                link.detach();
            } catch (io.jvisor.bpf.BpfException refused) {
                // a kernel that cannot detach this link type: it goes with its last reference instead
            } finally {
                link.close();
            }
        }

        public void close() {
            link.close();
        }

        public void pin(Path dir) {
            link.pin(dir.resolve("link"));
        }
    }

    /** A cls_bpf direct-action filter on the device's clsact ingress. */
    record TcFilter(Endpoint.Device device, int ifindex) implements DeviceAttachment {
        public void update(BpfProgram next, BpfProgram expected, DeviceDirectory devices) {
            devices.rtnl(device).replaceTcFilter(spec(next));
        }

        TcFilterSpec spec(BpfProgram p) {
            return TcFilterSpec.of(ifindex, TcDirection.INGRESS, TC_PRIORITY, TC_HANDLE, p.fd().get(), "jvisor_entry");
        }

        public void detach(DeviceDirectory devices) {
            devices.rtnl(device).deleteTcFilter(ifindex, TcDirection.INGRESS, TC_PRIORITY, TC_HANDLE);
        }

        public void close() {}

        public void pin(Path dir) {}
    }

    /** An XDP program set through IFLA_XDP in driver mode. */
    record NetlinkXdp(Endpoint.Device device, int ifindex) implements DeviceAttachment {
        public void update(BpfProgram next, BpfProgram expected, DeviceDirectory devices) {
            devices.rtnl(device).attachXdp(ifindex, next.fd().get(), XdpAttachMode.DRIVER, expected.fd().get());
        }

        public void detach(DeviceDirectory devices) {
            devices.rtnl(device).detachXdp(ifindex, XdpAttachMode.DRIVER);
        }

        public void close() {}

        public void pin(Path dir) {}
    }

    /**
     * Attaches {@code stub} to the device by {@code method} at {@code hook}, through the apply's
     * handles on the device's namespace (links are created from a thread inside it).
     */
    static DeviceAttachment attach(Endpoint.Device device, int ifindex, BpfProgram stub, Hook hook, AttachMethod method,
                                   DeviceDirectory devices) {
        if (method == AttachMethod.LINK) {
            return devices.inNamespace(device, () -> new Link(hook == Hook.TC
                    ? BpfLink.tcx(stub, ifindex, TcxDirection.INGRESS) : BpfLink.xdp(stub, ifindex, XdpMode.DRIVER)));
        }
        Rtnl r = devices.rtnl(device);
        if (hook == Hook.TC) {
            TcFilter f = new TcFilter(device, ifindex);
            r.ensureClsact(ifindex);
            r.attachTcFilter(f.spec(stub));
            return f;
        }
        r.attachXdpIfNone(ifindex, stub.fd().get(), XdpAttachMode.DRIVER);
        return new NetlinkXdp(device, ifindex);
    }
}

package io.jvisor.engine;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * How an engine runs.
 *
 * @param name the engine's name; its kernel objects are pinned under {@code bpffs/jvisor/NAME} and
 *     its state kept in {@code stateDir}
 * @param bpffs the bpf filesystem mount
 * @param stateDir where the desired state is saved (crash-safely)
 * @param hook where instances run
 * @param attach how device entries are attached (bpf links, or the netlink paths of older kernels)
 * @param peerRedirect whether an instance forwarding to a veth whose other end is in another network
 *     namespace hands frames addressed to that end straight to its ingress (bpf_redirect_peer, tc
 *     only) rather than transmitting them on the veth; on by default
 * @param xdpMetadata how the XDP hook carries packet metadata between chained programs; AUTO by
 *     default (probed when the engine starts)
 * @param receiveSteering whether the engine sets receive packet steering (RPS over all online CPUs)
 *     on a veth it attaches to on the tc hook whose other end is in another namespace and which has
 *     no RPS mask yet, so that one TCP flow's segments reach it in order (see ReceiveSteering). Off
 *     by default: it ends the spurious retransmissions that reordering on the veth causes, but one
 *     flow's forwarding then runs on one hashed CPU, which cost 15 % of single-flow throughput on a
 *     2-CPU machine (docs/benchmarks.md, "TCP retransmits through the engine")
 */
public record EngineOptions(String name, Path bpffs, Path stateDir, Hook hook, AttachMethod attach,
                            boolean peerRedirect, XdpMetadata xdpMetadata, boolean receiveSteering) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,32}");

    public EngineOptions {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("engine name must be 1-32 of [A-Za-z0-9_-], got " + name);
        }
        bpffs = bpffs == null ? Path.of("/sys/fs/bpf") : bpffs;
        stateDir = stateDir == null ? Path.of("/var/lib/jvisor", name) : stateDir;
        hook = hook == null ? Hook.TC : hook;
        attach = attach == null ? AttachMethod.AUTO : attach;
        xdpMetadata = xdpMetadata == null ? XdpMetadata.AUTO : xdpMetadata;
    }

    /** Options without receive packet steering. */
    public EngineOptions(String name, Path bpffs, Path stateDir, Hook hook, AttachMethod attach,
                         boolean peerRedirect, XdpMetadata xdpMetadata) {
        this(name, bpffs, stateDir, hook, attach, peerRedirect, xdpMetadata, false);
    }

    /** Options with the XDP metadata channel chosen by probe. */
    public EngineOptions(String name, Path bpffs, Path stateDir, Hook hook, AttachMethod attach,
                         boolean peerRedirect) {
        this(name, bpffs, stateDir, hook, attach, peerRedirect, XdpMetadata.AUTO);
    }

    /** Options with peer redirects on; null arguments take the defaults of {@link #named}. */
    public EngineOptions(String name, Path bpffs, Path stateDir, Hook hook, AttachMethod attach) {
        this(name, bpffs, stateDir, hook, attach, true);
    }

    /** Defaults for engine {@code name}: bpffs at /sys/fs/bpf, state in /var/lib/jvisor/NAME, tc. */
    public static EngineOptions named(String name) {
        return new EngineOptions(name, null, null, null, null);
    }

    /** These options with another state directory. */
    public EngineOptions withStateDir(Path dir) {
        return new EngineOptions(name, bpffs, dir, hook, attach, peerRedirect, xdpMetadata, receiveSteering);
    }

    /** These options with another hook. */
    public EngineOptions withHook(Hook h) {
        return new EngineOptions(name, bpffs, stateDir, h, attach, peerRedirect, xdpMetadata, receiveSteering);
    }

    /** These options with another attach method. */
    public EngineOptions withAttach(AttachMethod a) {
        return new EngineOptions(name, bpffs, stateDir, hook, a, peerRedirect, xdpMetadata, receiveSteering);
    }

    /**
     * These options with peer redirects on or off. Off, every frame an instance forwards to a device
     * is transmitted on it (bpf_redirect), as on the XDP hook.
     */
    public EngineOptions withPeerRedirect(boolean on) {
        return new EngineOptions(name, bpffs, stateDir, hook, attach, on, xdpMetadata, receiveSteering);
    }

    /**
     * These options with another XDP metadata channel. Forcing {@link XdpMetadata#METADATA_AREA} on a
     * kernel that refuses bpf_xdp_adjust_meta makes an XDP engine refuse to start, naming the helper.
     */
    public EngineOptions withXdpMetadata(XdpMetadata m) {
        return new EngineOptions(name, bpffs, stateDir, hook, attach, peerRedirect, m, receiveSteering);
    }

    /**
     * These options with receive packet steering on or off. Off, the engine leaves the RPS masks of
     * the devices it attaches to as they are.
     */
    public EngineOptions withReceiveSteering(boolean on) {
        return new EngineOptions(name, bpffs, stateDir, hook, attach, peerRedirect, xdpMetadata, on);
    }

    /** The directory of the engine's pins. */
    public Path pinRoot() {
        return bpffs.resolve("jvisor").resolve(name);
    }
}

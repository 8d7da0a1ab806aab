package io.jvisor.engine;

import io.jvisor.bpf.testing.Names;
import io.jvisor.net.lab.HostSpec;
import io.jvisor.net.lab.InterfaceSpec;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import io.jvisor.net.lab.WireSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A lab of {@code n} hosts (h1..hn, one subnet), each wired to root device pK, plus an engine with a
 * unique name and state directory. Closing removes the engine's kernel objects, its state and the lab,
 * even after a failure.
 */
public final class TestBed implements AutoCloseable {
    public final Lab lab;
    public final EngineOptions options;
    public final String net;
    public final Path stateDir;
    public Engine engine;

    /** The namespace holding the engine's devices, or null when they are in the root namespace. */
    public final String deviceNetns;

    private TestBed(Lab lab, EngineOptions options, String net, Path stateDir, String deviceNetns) {
        this.lab = lab;
        this.options = options;
        this.net = net;
        this.stateDir = stateDir;
        this.deviceNetns = deviceNetns;
    }

    /**
     * XDP needs two things of the hosts' veth ends (KERNEL-NOTES): an XDP program on the receiving
     * end, or frames redirected into the veth are dropped, and tx checksum offload off on the sending
     * end, or the checksums of redirected frames are never filled in.
     */
    private final java.util.List<io.jvisor.bpf.link.BpfLink> hostXdp = new java.util.ArrayList<>();
    private io.jvisor.bpf.BpfProgram xdpPass;

    public void prepareHostsForXdp(int hosts) {
        xdpPass = io.jvisor.bpf.BpfProgram.load(io.jvisor.bpf.ProgramSpec.of("pass", io.jvisor.bpf.ProgramType.XDP,
                io.jvisor.bpf.AttachType.XDP, new io.jvisor.bpf.asm.Asm().mov64(io.jvisor.bpf.asm.Register.R0, 2).exit()
                        .build()));
        for (int i = 1; i <= hosts; i++) {
            var h = lab.host("h" + i);
            try (io.jvisor.net.Ethtool ethtool = io.jvisor.net.Ethtool.open(h.netns())) {
                ethtool.setTxChecksum("eth0", false);
            }
            int ifindex = h.rtnl().ifindex("eth0");
            hostXdp.add(h.netns().run(() -> io.jvisor.bpf.link.BpfLink.xdp(xdpPass, ifindex,
                    io.jvisor.bpf.link.XdpMode.DRIVER)));
        }
    }

    public static TestBed create(int hosts, Hook hook, AttachMethod attach) {
        return create(hosts, hook).with(o -> o.withAttach(attach));
    }

    public static TestBed create(int hosts, Hook hook) {
        return create(hosts, hook, false);
    }

    /**
     * Hosts h1..hN whose wires end in devices p1..pN: in the root namespace, or, with
     * {@code switched}, all inside one extra namespace (host "sw") where the engine attaches.
     */
    public static TestBed create(int hosts, Hook hook, boolean switched) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        String net = "10." + r.nextInt(100, 250) + "." + r.nextInt(1, 250) + ".";
        LabSpec spec = LabSpec.empty();
        for (int i = 1; i <= hosts; i++) {
            // IPv6 off: its link-local chatter (DAD, MLD, router solicitations) would spoil exact counts
            spec = spec.withHost(HostSpec.named("h" + i).withInterface(InterfaceSpec.of("eth0", net + i + "/24"))
                            .withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                            .withSysctl("net.ipv6.conf.default.disable_ipv6", "1"))
                    .withWire(switched ? WireSpec.between("h" + i + ":eth0", "sw:p" + i)
                            : WireSpec.toRoot("h" + i + ":eth0", "p" + i, null));
        }
        if (switched) {
            HostSpec sw = HostSpec.named("sw").withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                    .withSysctl("net.ipv6.conf.default.disable_ipv6", "1");
            for (int i = 1; i <= hosts; i++) {
                sw = sw.withInterface(InterfaceSpec.of("p" + i));
            }
            spec = spec.withHost(sw);
        }
        Path state;
        try {
            state = Files.createTempDirectory("jvisor-engine-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        EngineOptions opts = withForcedFallbacks(EngineOptions.named(Names.unique("jvt")).withStateDir(state)
                .withHook(hook));
        Lab lab = Lab.up(spec);
        return new TestBed(lab, opts, net, state, switched ? lab.namespaceName("sw") : null);
    }

    /**
     * The system property that makes every engine test take the fallback paths that a kernel
     * without tcx, XDP links or bpf_xdp_adjust_meta would take, on any kernel: {@code .ci/run}
     * runs the engine and module suites a second time with {@code -Djvisor.test.fallbacks=true}.
     */
    public static final String FALLBACKS_PROPERTY = "jvisor.test.fallbacks";

    /** Whether this run forces the fallbacks ({@link #FALLBACKS_PROPERTY}). */
    public static boolean fallbacksForced() {
        return Boolean.getBoolean(FALLBACKS_PROPERTY);
    }

    /**
     * The options with the other paths forced when {@link #FALLBACKS_PROPERTY} is set: the attach
     * method AUTO does not pick (tcx links on the tc hook where the kernel has them, IFLA_XDP on the
     * XDP hook) and the per-CPU scratch XDP metadata channel. Options that already force an attach
     * method or a channel keep theirs.
     */
    public static EngineOptions withForcedFallbacks(EngineOptions o) {
        if (!fallbacksForced()) {
            return o;
        }
        if (o.attach() == AttachMethod.AUTO) {
            boolean tcx = o.hook() == Hook.TC && io.jvisor.bpf.features.Features
                    .probeLinkAttachType(io.jvisor.bpf.AttachType.TCX_INGRESS).supported();
            o = o.withAttach(tcx ? AttachMethod.LINK : AttachMethod.NETLINK);
        }
        if (o.xdpMetadata() == XdpMetadata.AUTO) {
            o = o.withXdpMetadata(XdpMetadata.PER_CPU_SCRATCH);
        }
        return o;
    }

    /** This bed with other engine options (a forced attach method or XDP metadata channel). */
    public TestBed with(java.util.function.UnaryOperator<EngineOptions> change) {
        return new TestBed(lab, change.apply(options), net, stateDir, deviceNetns);
    }

    /** Starts (or restarts) the engine with the given module types. */
    public Engine start(ModuleCatalog catalog) {
        engine = Engine.start(options, catalog);
        return engine;
    }

    /** Starts (or restarts) the engine with the test modules. */
    public Engine start() {
        engine = Engine.start(options, TestModules.catalog());
        return engine;
    }

    /** The root device wired to host hK. */
    public String dev(int k) {
        return deviceNetns == null ? "dev:" + lab.rootDevice("p" + k) : "dev:" + deviceNetns + "/p" + k;
    }

    @Override
    public void close() {
        try {
            if (engine != null) {
                try {
                    engine.destroy();
                } catch (RuntimeException e) {
                    engine.close();
                }
            }
        } finally {
            hostXdp.forEach(io.jvisor.bpf.link.BpfLink::close);
            if (xdpPass != null) {
                xdpPass.close();
            }
            Engine.purge(options);
            PinLayout.deleteTree(stateDir);
            lab.close();
        }
    }
}

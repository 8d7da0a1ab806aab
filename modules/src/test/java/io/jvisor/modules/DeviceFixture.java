package io.jvisor.modules;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.TestNetns;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.Hook;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.engine.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The bed of packet fixtures run with BPF_PROG_TEST_RUN: an engine at one hook running the standard
 * modules, and a veth pair a0/b0 in a test namespace for one two-port instance's ports 0 and 1. A
 * fixture runs a frame through a device's entry program, as if it arrived on that device.
 * {@link #close} removes the engine, its pins and state directory, and the namespace.
 */
public final class DeviceFixture implements AutoCloseable {
    public final Hook hook;
    public final EngineOptions options;
    public final Engine engine;
    private final Path state;
    private final TestNetns ns;

    private DeviceFixture(Hook hook, Path state, EngineOptions options, TestNetns ns, Engine engine) {
        this.hook = hook;
        this.state = state;
        this.options = options;
        this.ns = ns;
        this.engine = engine;
    }

    /** Starts the engine; {@code name} names the namespace, the engine and the state directory. */
    public static DeviceFixture start(String name, Hook hook) throws Exception {
        Path state = Files.createTempDirectory("jvisor-" + name);
        EngineOptions options = io.jvisor.engine.TestBed.withForcedFallbacks(
                EngineOptions.named(Names.unique(name)).withStateDir(state).withHook(hook));
        TestNetns ns = TestNetns.create(name);
        Engine engine = null;
        try {
            ns.ip("link", "add", "a0", "type", "veth", "peer", "name", "b0");
            ns.ip("link", "set", "a0", "up");
            ns.ip("link", "set", "b0", "up");
            engine = Engine.start(options, ModuleCatalog.discover());
            return new DeviceFixture(hook, state, options, ns, engine);
        } catch (Exception | Error e) {
            close(engine, options, state, ns);
            throw e;
        }
    }

    /** Applies one instance {@code name} of {@code type}, port 0 on a0 and port 1 on b0. */
    public void apply(String name, String type, Map<String, String> config) {
        engine.apply(Topology.builder().instance(name, type, config)
                .connect(name + ":0", "dev:" + ns.name() + "/a0").connect(name + ":1", "dev:" + ns.name() + "/b0")
                .build());
    }

    /** The entry program of the device of port {@code port} (0: a0, 1: b0). */
    public BpfProgram entry(int port) {
        return BpfProgram.openPinned(options.pinRoot().resolve("dev").resolve(ns.name() + (port == 0 ? "_a0" : "_b0"))
                .resolve("prog"));
    }

    /** What the entry program returns for a frame forwarded out of a device: TC_ACT_REDIRECT or XDP_REDIRECT. */
    public int redirect() {
        return hook == Hook.TC ? 7 : 4;
    }

    /**
     * Runs the frame once through {@code p}, checks its verdict, and returns the output frame
     * (without XDP's metadata area in front), which grew by {@code grow} bytes.
     */
    public static byte[] run(BpfProgram p, byte[] frame, int expect, int grow) {
        TestRun.Result r = p.testRun(TestRun.of(frame).withRepeat(1));
        assertThat(r.returnValue()).isEqualTo(expect);
        byte[] out = r.data();
        return Arrays.copyOfRange(out, out.length - frame.length - grow, out.length);
    }

    @Override
    public void close() {
        close(engine, options, state, ns);
    }

    private static void close(Engine engine, EngineOptions options, Path state, TestNetns ns) {
        try {
            if (engine != null) {
                engine.destroy();
            }
        } finally {
            try {
                Engine.purge(options);
                EngineLab.deleteTree(state);
            } finally {
                ns.close();
            }
        }
    }
}

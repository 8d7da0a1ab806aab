package io.jvisor.modules;

import io.jvisor.bpf.testing.Names;
import io.jvisor.engine.Engine;
import io.jvisor.engine.EngineOptions;
import io.jvisor.engine.ModuleCatalog;
import io.jvisor.net.lab.Host;
import io.jvisor.net.lab.HostSpec;
import io.jvisor.net.lab.InterfaceSpec;
import io.jvisor.net.lab.Lab;
import io.jvisor.net.lab.LabSpec;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * A lab of hosts wired to root-side veths plus a running engine, the bed of the modules' end-to-end
 * tests (router, NAT, LB). Its subnets are {@link #net} ({@code 10.X.}, X random per bed) followed by
 * the rest of the address. {@link #close} removes the engine, its pins and state directory, and the
 * lab, also after a start that failed half-way.
 */
public class EngineLab implements AutoCloseable {
    /** {@code 10.X.}: the first two bytes of every address of this bed. */
    public final String net = "10." + ThreadLocalRandom.current().nextInt(100, 250) + ".";
    public final Lab lab;
    public final EngineOptions options;
    public final Path state;
    public final ModuleCatalog catalog;
    public Engine engine;

    /**
     * Brings the lab up and starts the engine.
     *
     * @param name names the state directory ({@code jvisor-<name>-test...})
     * @param engineName the engine name's prefix ({@link Names#unique} adds to it)
     * @param catalog the module types the engine runs
     * @param spec the lab, from {@link #net}
     */
    protected EngineLab(String name, String engineName, ModuleCatalog catalog, Function<String, LabSpec> spec)
            throws Exception {
        this.catalog = catalog;
        LabSpec s = spec.apply(net);
        state = Files.createTempDirectory("jvisor-" + name + "-test");
        options = io.jvisor.engine.TestBed.withForcedFallbacks(EngineOptions.named(Names.unique(engineName))
                .withStateDir(state));
        lab = Lab.up(s);
        try {
            engine = Engine.start(options, catalog);
        } catch (RuntimeException e) {
            tearDown(); // not close(): a subclass's fields are not set yet
            throw e;
        }
    }

    /** A host with one interface eth0 at {@code addr} (A.B.C.D/LEN), a default gateway unless null, and no IPv6. */
    public static HostSpec host(String name, String addr, String gw) {
        HostSpec h = HostSpec.named(name).withInterface(InterfaceSpec.of("eth0", addr))
                .withSysctl("net.ipv6.conf.all.disable_ipv6", "1")
                .withSysctl("net.ipv6.conf.default.disable_ipv6", "1");
        return gw == null ? h : h.withGateway(gw);
    }

    public Host h(String name) {
        return lab.host(name);
    }

    /** The address {@link #net} + {@code rest}. */
    public InetAddress ip(String rest) throws Exception {
        return InetAddress.getByName(net + rest);
    }

    @Override
    public void close() {
        tearDown();
    }

    private void tearDown() {
        try {
            if (engine != null) {
                try {
                    engine.destroy();
                } catch (RuntimeException e) {
                    engine.close();
                }
            }
        } finally {
            try {
                Engine.purge(options);
                deleteTree(state);
            } finally {
                lab.close();
            }
        }
    }

    /** Deletes a directory tree, best effort. */
    public static void deleteTree(Path p) {
        try (var w = Files.walk(p)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException e) {
            // best effort
        }
    }
}

package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.net.Rtnl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What outlives an engine process: the saved desired state ({@link StateStore}) beside the pinned
 * kernel objects ({@link PinLayout}). Saving happens inside each apply's transaction; adopting
 * rebuilds the engine's books from both without touching the kernel's forwarding.
 */
final class Persistence {
    private static final Logger LOG = LoggerFactory.getLogger(Persistence.class);

    private final EngineOptions options;
    private final StateStore store;
    private final PinLayout pins;

    Persistence(EngineOptions options) {
        this.options = options;
        this.store = new StateStore(options.stateDir());
        this.pins = new PinLayout(options.pinRoot());
    }

    PinLayout pins() {
        return pins;
    }

    /**
     * The saved state, if any.
     *
     * @throws TopologyException when objects are pinned but no state says what they are
     */
    java.util.Optional<StateStore.State> load() {
        var state = store.load();
        if (state.isEmpty()) {
            try (Stream<Path> s = Files.list(pins.instances())) {
                if (s.findAny().isPresent()) {
                    throw new TopologyException("engine '" + options.name() + "'", "kernel objects are pinned under "
                            + pins.root() + " but there is no saved state at " + store.file()
                            + "; remove them with Engine.purge(options) or restore the state file");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return state;
    }

    /** Saves what runs now, crash-safely. */
    void save(LiveState state, HookSettings settings) {
        List<StateStore.SavedInstance> saved = new ArrayList<>();
        for (LiveInstance li : state.instances.values()) {
            saved.add(new StateStore.SavedInstance(li.name, li.type, li.config, li.slot, li.code.fileName(),
                    li.code.source()));
        }
        store.save(new StateStore.State(options.hook().name(), settings.attach().name(), saved,
                StateStore.connectionLines(state.current),
                settings.xdpMetadata() == null ? null : settings.xdpMetadata().name()));
    }

    /**
     * Rebuilds the books from a saved state and the pins: every instance's program and maps, every
     * device's entry and attachment. Device peer values are rewritten only where this engine's
     * options or the device's veth peer now call for another one.
     */
    void adopt(StateStore.State s, LiveState state, ModuleCatalog catalog, CodeCache code, DeviceAttacher attacher,
               PatchPanel panel, LiveInstance.PortTransmitter transmitter) {
        for (StateStore.SavedInstance si : s.instances()) {
            ModuleCode mc = new ModuleCode(si.codeFile(), si.code());
            ModuleType type = catalog.get(si.type());
            if (type == null || type instanceof ModuleType.SourceModule) {
                // a type given as source at run time lives on in the state
                int ports = type == null ? Sdk.MAX_PORTS : type.ports();
                type = new ModuleType.SourceModule(si.type(), mc, ports);
                catalog.register(type);
            }
            Path dir = pins.instance(si.name());
            BpfProgram prog = BpfProgram.openPinned(dir.resolve("prog"));
            Map<String, BpfMap> maps = new LinkedHashMap<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    String n = f.getFileName().toString();
                    if (n.startsWith("map_")) {
                        BpfMap m = BpfMap.openPinned(f);
                        maps.put(m.name().isEmpty() ? n.substring(4) : code.originalMapName(mc, n.substring(4)), m);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir, e);
            }
            LiveInstance li = new LiveInstance(transmitter, si.name(), si.type(), mc, si.slot(), si.config(), maps, prog,
                    type.handler(si.config()));
            state.add(li);
            state.slots.set(li.slot);
        }
        Topology t = StateStore.topology(s);
        try (DeviceDirectory directory = new DeviceDirectory()) {
            adoptConnections(t, state, attacher, panel, directory);
        }
        state.current = t;
        LOG.info("adopted {} instances and {} device connections of engine '{}'", state.instances.size(),
                state.devices.size(), options.name());
    }

    private void adoptConnections(Topology t, LiveState state, DeviceAttacher attacher, PatchPanel panel,
                                  DeviceDirectory directory) {
        for (Topology.Connection c : t.connections()) {
            state.peers.put(c.a(), c.b());
            if (c.b() instanceof Endpoint.Port p) {
                state.peers.put(p, c.a());
            } else {
                Endpoint.Device d = (Endpoint.Device) c.b();
                Path dir = pins.device(d);
                BpfProgram stub = BpfProgram.openPinned(dir.resolve("prog"));
                DeviceAttachment attachment = attacher.adopt(d, dir, directory);
                int ifindex = DeviceAttacher.ifindexOf(attachment);
                state.devices.put(d, new LiveDevice(d, ifindex, c.a(), stub, attachment));
                if (attacher.steersReceive()) {
                    ReceiveSteering.spread(d, () -> directory.link(d));
                }
                LiveInstance li = state.instances.get(c.a().instance());
                if (li != null && ifindex != 0) {
                    PeerCodec.Peer want = attacher.devicePeer(d, ifindex, directory);
                    if (!want.equals(panel.peer(li.slot, c.a().port()))) {
                        panel.setPeer(li.slot, c.a().port(), want);
                    }
                }
            }
        }
    }

    /**
     * Removes the pins and saved state of engine {@code options.name()}, for leftovers of a killed
     * process. Links detach as their last pin goes. Safe to call when nothing is there.
     */
    static void purge(EngineOptions options) {
        // netlink attachments are not held by pins: take them off their devices first
        new StateStore(options.stateDir()).load().ifPresent(st -> {
            if (!AttachMethod.NETLINK.name().equals(st.attach())) {
                return;
            }
            try (DeviceDirectory devices = new DeviceDirectory()) {
                for (String line : st.connections()) {
                    String[] parts = line.split(" ");
                    if (Endpoint.parse(parts[1]) instanceof Endpoint.Device d) {
                        try {
                            int ifindex = devices.ifindex(d, "device " + d);
                            (Hook.valueOf(st.hook()) == Hook.TC ? new DeviceAttachment.TcFilter(d, ifindex)
                                    : new DeviceAttachment.NetlinkXdp(d, ifindex)).detach(devices);
                        } catch (RuntimeException gone) {
                            // the device or the filter is gone already
                        }
                    }
                }
            }
        });
        PinLayout.deleteTree(options.pinRoot());
        try (Rtnl rtnl = Rtnl.open()) {
            String a = Transmitter.reinjectName(options, "a");
            if (rtnl.findLink(a).isPresent()) {
                rtnl.delete(a); // takes its peer with it
            }
        } catch (RuntimeException ignored) {
            // nothing to remove
        }
        try {
            Files.deleteIfExists(options.pinRoot().getParent()); // bpffs/jvisor, once no engine is left in it
        } catch (IOException ignored) {
            // other engines still have pins there
        }
        new StateStore(options.stateDir()).delete();
        try {
            Files.deleteIfExists(options.stateDir());
        } catch (IOException ignored) {
            // a directory with other files in it is not ours to remove
        }
    }
}

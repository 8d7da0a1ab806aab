package io.jvisor.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine's saved state: the applied topology, each instance's slot and running code, written
 * crash-safely through {@link AtomicFile}.
 */
final class StateStore {
    /**
     * What is saved. {@code xdpMetadata} is the XDP metadata channel the running programs were loaded
     * with (null on the tc hook, and in states saved before the channel could be chosen, which used
     * the metadata area).
     */
    record State(String hook, String attach, List<SavedInstance> instances, List<String> connections,
                 String xdpMetadata) {}

    /** One instance as saved. */
    record SavedInstance(String name, String type, Map<String, String> config, int slot, String codeFile,
                         String code) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path file;

    StateStore(Path dir) {
        this.file = dir.resolve("state.json");
    }

    Path file() {
        return file;
    }

    Optional<State> load() {
        Optional<byte[]> bytes = AtomicFile.read(file);
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(bytes.get(), State.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the engine state " + file, e);
        }
    }

    void save(State state) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(state);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the engine state to " + file, e);
        }
        AtomicFile.write(file, bytes);
    }

    void delete() {
        AtomicFile.delete(file);
    }

    static List<String> connectionLines(Topology t) {
        List<String> out = new ArrayList<>();
        for (Topology.Connection c : t.connections()) {
            out.add(c.a() + " " + c.b());
        }
        return out;
    }

    static Topology topology(State s) {
        Topology.Builder b = Topology.builder();
        for (SavedInstance i : s.instances()) {
            b.instance(i.name(), i.type(), new LinkedHashMap<>(i.config()));
        }
        for (String line : s.connections()) {
            String[] parts = line.split(" ");
            b.connect(parts[0], parts[1]);
        }
        return b.build();
    }
}

package io.jvisor.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine's saved state: the applied topology, each instance's slot and running code. Written
 * crash-safely: to a temporary file that is fsynced, renamed over the old one, and the directory
 * fsynced, so a crash leaves either the old state or the new one, never a torn file.
 */
final class StateStore {
    /** What is saved. */
    record State(String hook, String attach, List<SavedInstance> instances, List<String> connections) {}

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
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), State.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the engine state " + file, e);
        }
    }

    void save(State state) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            byte[] bytes = JSON.writeValueAsBytes(state);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true); // the rename itself must survive a crash
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the engine state to " + file, e);
        }
    }

    void delete() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file, e);
        }
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
